"""Files written before the packages moved (tests/data/legacy, by commit c9762a7) read the
same: run directories, a run killed mid-round, saved wrapped models of both Kerases, and the
export of a run."""
import json
import os
import shutil

import numpy as np
import pytest

import tfprune
from tfprune.core.rundir import RunDir
from tfprune.engine import grouping, loop
from tfprune.engine.config import Config
from tfprune.export import artifacts
from tfprune.export import plan as export_plan
from tfprune.report import figures

from conftest import ROOT

LEGACY = os.path.join(ROOT, "tests", "data", "legacy")
RUNS = ("imp_keras2", "lrr_keras3")
EXPECTED = np.load(os.path.join(LEGACY, "expected.npz"))


def copy(name, tmp_path):
    """A copy of a legacy run directory (tests never write into tests/data)."""
    return RunDir(shutil.copytree(os.path.join(LEGACY, name), tmp_path / name))


@pytest.mark.parametrize("name", RUNS)
def test_an_old_run_directory_reads_the_same(name, tmp_path):
    run_dir = copy(name, tmp_path)
    assert run_dir.completed_rounds() == [0, 1] and run_dir.progress(1) is None
    masks = [run_dir.mask(r) for r in (0, 1)]
    assert [m.density for m in masks] == [1.0, pytest.approx(0.8, abs=1e-3)]
    assert masks[1].is_subset_of(masks[0])
    for r, mask in enumerate(masks):
        kernels = run_dir.kernels(r)
        assert all(not kernels[k][mask[k] == 0].any() for k in mask)  # exact zeros
        assert run_dir.metrics(r)["density"] == mask.density
    assert set(run_dir.rewind_kernels()) == set(masks[0])
    config, rounds = grouping.load_run(run_dir.root)
    assert config["method"] == name[:3] and [m["round"] for m in rounds] == [0, 1]


@pytest.mark.slow
def test_old_runs_draw_a_report(tmp_path):
    runs = [copy(name, tmp_path).root for name in RUNS]
    written = figures.write(runs, str(tmp_path / "report"))
    assert any(p.endswith("accuracy_vs_density.png") for p in written)


@pytest.mark.slow
@pytest.mark.parametrize("name", RUNS)
def test_an_old_run_goes_on_for_another_round(name, tmp_path):
    run_dir = copy(name, tmp_path)
    config = Config.from_dict(run_dir.read_config() | {"rounds": 2, "workdir": run_dir.root})
    results = loop.run(config)
    assert [m["round"] for m in results] == [0, 1, 2]
    assert results[1] == json.load(open(os.path.join(LEGACY, name, "round_01", "metrics.json")))
    previous, mask = run_dir.mask(1), run_dir.mask(2)
    assert mask.density == pytest.approx(0.64, abs=1e-3)
    assert mask.is_subset_of(previous)  # nested in the old round's mask


@pytest.mark.slow
def test_a_run_killed_by_the_old_version_goes_on_from_its_resume_folder(tmp_path):
    run_dir = copy("lrr_keras2_killed", tmp_path)
    progress = run_dir.progress(1)
    assert progress["epoch"] == 1
    results = loop.run(Config.from_dict(run_dir.read_config() | {"workdir": run_dir.root}))
    assert [m["round"] for m in results] == [0, 1] and not os.path.exists(run_dir.resume_dir(1))
    flips = results[1]["sign_flips_per_epoch"]
    assert len(flips) == 2 and flips[0] == progress["sign_flips_per_epoch"][0]


@pytest.mark.parametrize("flavour, name", [("2", "model_keras2.h5"),
                                           ("2", "model_keras2_savedmodel"),
                                           ("3", "model_keras3.keras")])
def test_an_old_saved_wrapped_model_reloads_with_its_masks(flavour, name):
    model = tfprune.load_model(os.path.join(LEGACY, name), compile=False)
    masks = tfprune.get_masks(model)
    prefix = f"keras{flavour}/mask/"
    expected = {k[len(prefix):]: EXPECTED[k] for k in EXPECTED.files if k.startswith(prefix)}
    assert sorted(masks) == sorted(expected)
    assert all(np.array_equal(masks[k], expected[k]) for k in expected)
    output = np.asarray(model(EXPECTED["probe"]))
    np.testing.assert_allclose(output, EXPECTED[f"keras{flavour}/output"], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_an_old_run_exports_the_same(tmp_path):
    run_dir = copy("imp_keras2", tmp_path)
    plan = export_plan.make_plan(run_dir.root, str(tmp_path / "export"),
                                 formats=["keras", "tflite"], round=1)
    summary = artifacts.export(plan, artifacts.Options(repeats=0))
    old = json.load(open(os.path.join(LEGACY, "export.json")))
    for new_round, old_round in zip(summary["rounds"], old["rounds"], strict=True):
        assert {k: new_round[k] for k in ("round", "mask_density", "mask_kept")} == {
            k: old_round[k] for k in ("round", "mask_density", "mask_kept")}
        for fmt, artifact in old_round["artifacts"].items():
            new = new_round["artifacts"][fmt]
            for key in ("density", "nonzero_weights", "weights", "densify_ops",
                        "sparse_tensors"):
                assert new.get(key) == artifact.get(key), (fmt, key)
            assert new["test_accuracy"] == pytest.approx(artifact["test_accuracy"], abs=0.002)
