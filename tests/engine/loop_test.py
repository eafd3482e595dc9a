"""End-to-end tests of the pruning loop on the embedded dataset (tiny budgets)."""
import csv
import os

import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir
from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.masking import masked_model
from tfprune.training import state

from conftest import TINY_RUNS, tiny_config

ROUNDS = TINY_RUNS["rounds"]


def config(workdir, method, **overrides):
    return Config(**(tiny_config(method=method, workdir=str(workdir), **TINY_RUNS) | overrides))


@pytest.fixture(scope="module")
def runs(tiny_runs):
    """{method: (metrics of each round, RunDir)} of the shared tiny runs."""
    return {m: ([RunDir(tiny_runs / m).metrics(r) for r in range(ROUNDS + 1)],
                RunDir(tiny_runs / m)) for m in ("lrr", "imp", "ft")}


@pytest.mark.parametrize("method", ["lrr", "imp", "ft"])
@pytest.mark.slow
def test_every_contract_file_is_written(runs, method):
    results, run_dir = runs[method]
    assert [m["round"] for m in results] == list(range(ROUNDS + 1))
    assert Config.from_dict(run_dir.read_config()).method == method
    assert os.path.exists(os.path.join(run_dir.rewind_dir, "ckpt.index"))
    for r in range(ROUNDS + 1):
        folder = run_dir.round_dir(r)
        for name in ("mask.npz", "kernels.npz", "metrics.json", "checkpoint/ckpt.index"):
            assert os.path.exists(os.path.join(folder, name)), (r, name)
        metrics = run_dir.metrics(r)
        for key in ("round", "density", "test_accuracy", "test_loss", "train_loss", "epochs",
                    "seconds"):
            assert key in metrics
        assert 0.0 <= metrics["test_accuracy"] <= 1.0
    with open(run_dir.results_path) as f:
        rows = list(csv.DictReader(f))
    assert [int(row["round"]) for row in rows] == list(range(ROUNDS + 1))
    assert float(rows[-1]["test_accuracy"]) == pytest.approx(results[-1]["test_accuracy"])


@pytest.mark.parametrize("method", ["lrr", "imp", "ft"])
@pytest.mark.slow
def test_masks_nested_density_and_exact_zeros(runs, method):
    _, run_dir = runs[method]
    previous = None
    for r in range(ROUNDS + 1):
        mask, kernels = run_dir.mask(r), run_dir.kernels(r)
        total = mask.num_weights
        assert abs(mask.num_kept - total * 0.8 ** r) <= 2.5
        assert run_dir.metrics(r)["density"] == pytest.approx(mask.density)
        if previous is not None:
            assert mask.is_subset_of(previous)
        for key, m in mask.items():
            assert np.all(kernels[key][~m] == 0.0), (r, key)
            assert np.count_nonzero(kernels[key][m]) > 0.99 * m.sum()
        previous = mask


@pytest.mark.slow
def test_round_zero_is_the_same_dense_run_for_every_method(runs):
    first = {m: runs[m][1].metrics(0) for m in runs}
    assert first["lrr"]["test_loss"] == pytest.approx(first["imp"]["test_loss"], rel=1e-5)
    assert first["lrr"]["test_loss"] == pytest.approx(first["ft"]["test_loss"], rel=1e-5)
    assert runs["lrr"][1].mask(1) == runs["imp"][1].mask(1)  # pruned from the same weights


@pytest.mark.slow
def test_imp_rounds_skip_to_the_rewind_point(runs):
    assert [m["epochs"] for m in runs["imp"][0]] == [2, 1, 1]
    assert [m["epochs"] for m in runs["lrr"][0]] == [2, 2, 2]


@pytest.mark.slow
def test_a_completed_run_is_not_trained_again(runs):
    _, run_dir = runs["lrr"]
    before = {r: os.path.getmtime(os.path.join(run_dir.round_dir(r), "metrics.json"))
              for r in range(ROUNDS + 1)}
    again = loop.run(Config.from_dict(run_dir.read_config()))
    assert [m["test_loss"] for m in again] == [run_dir.metrics(r)["test_loss"]
                                               for r in range(ROUNDS + 1)]
    assert before == {r: os.path.getmtime(os.path.join(run_dir.round_dir(r), "metrics.json"))
                      for r in range(ROUNDS + 1)}


@pytest.mark.slow
def test_resume_after_a_lost_round_trains_only_that_round(runs, tmp_path):
    import shutil
    _, source = runs["imp"]
    workdir = tmp_path / "imp"
    shutil.copytree(source.root, workdir)
    shutil.rmtree(RunDir(workdir).round_dir(ROUNDS))
    results = loop.run(config(workdir, "imp"))
    run_dir = RunDir(workdir)
    assert [m["round"] for m in results] == list(range(ROUNDS + 1))
    assert run_dir.mask(ROUNDS) == source.mask(ROUNDS)
    assert results[-1]["test_accuracy"] == pytest.approx(source.metrics(ROUNDS)["test_accuracy"],
                                                         abs=0.05)


@pytest.mark.slow
def test_a_run_can_be_extended_by_more_rounds(runs, tmp_path):
    import shutil
    _, source = runs["lrr"]
    workdir = tmp_path / "lrr"
    shutil.copytree(source.root, workdir)
    results = loop.run(config(workdir, "lrr", rounds=ROUNDS + 1))
    assert [m["round"] for m in results] == list(range(ROUNDS + 2))
    assert results[ROUNDS]["test_loss"] == source.metrics(ROUNDS)["test_loss"]
    assert RunDir(workdir).read_config()["rounds"] == ROUNDS + 1


@pytest.mark.slow
def test_a_workdir_with_another_configuration_is_refused(runs):
    _, run_dir = runs["lrr"]
    with pytest.raises(ValueError, match="epochs: 2 -> 3"):
        loop.run(config(run_dir.root, "lrr", epochs=3))


def test_a_foreign_nonempty_folder_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a run directory"):
        loop.run(config(tmp_path, "lrr"))
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


@pytest.mark.slow
def test_each_rounds_mask_and_kernel_files_are_what_its_checkpoint_holds(runs):
    """mask.npz and kernels.npz (what analyses, reports and transferred masks read) are the
    mask and kernels of the model the round's checkpoint (what a resume restores) holds."""
    _, run_dir = runs["lrr"]
    saved = Config.from_dict(run_dir.read_config())
    model = build.build_model(saved, build.load_data(saved, 0))
    for r in range(ROUNDS + 1):
        state.restore_state(model, run_dir.checkpoint_dir(r))
        mask, kernels = run_dir.mask(r), masked_model.get_kernels(model)
        assert isinstance(mask, Mask) and masked_model.get_masks(model) == mask, r
        assert sorted(run_dir.kernels(r)) == sorted(kernels)
        for key, kernel in run_dir.kernels(r).items():
            np.testing.assert_array_equal(kernel, kernels[key], err_msg=f"round {r} {key}")
