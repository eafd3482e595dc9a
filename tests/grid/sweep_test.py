"""Sweeps: grid expansion, a real tiny grid run twice (resumed), aggregation, and its report."""
import csv
import os
import subprocess
import sys

import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import grouping
from tfprune.engine.config import Config
from tfprune.grid import sweep
from tfprune.report import figures

from conftest import ROOT, tiny_config

BASE = tiny_config()


def test_expand_resolves_references_to_the_same_seed_and_width(tmp_path):
    runs = sweep.expand(sweep.NAMED["masks"], [0, 1], [0.5], str(tmp_path))
    assert len(runs) == 8
    workdir, overrides = runs[4]  # variants in order, each with seeds 0 and 1
    assert workdir == str(tmp_path / "imp_with_lrr_mask" / "width_0.5" / "seed_0")
    assert overrides["mask_from"] == str(tmp_path / "lrr" / "width_0.5" / "seed_0")
    assert overrides | {"mask_from": None} == dict(method="imp", mask_from=None, seed=0,
                                                   name="imp_with_lrr_mask", width=0.5)


def test_each_run_resolves_its_own_defaults_from_the_base(tmp_path):
    """A base of given flags (gmp, 2 rounds): a variant with 4 rounds ends at 0.8^4, an LRR
    variant takes no gmp setting, and a rewind point after the warm-up stays refused."""
    jobs = sweep.plan({"method": "gmp", "rounds": 2}, {"gmp4": {"rounds": 4}, "lrr": {
        "method": "lrr"}}, [0], [], str(tmp_path))
    assert jobs[0].config["final_density"] == pytest.approx(0.8 ** 4)
    assert jobs[1].config["final_density"] is None and jobs[1].config["method"] == "lrr"
    with pytest.raises(ValueError, match="--late_rewind"):
        sweep.plan({"rewind_epoch": 3}, {"a": {"method": "imp"}}, [0], [], str(tmp_path))


@pytest.mark.parametrize("grid, message", [
    ({"a": {"mask_from": "@b"}}, "names no variant"),
    ({"a": {"mask_from": "@b"}, "b": {}}, "needs 'b' listed before it"),
])
def test_bad_references_are_refused(grid, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweep.expand(grid, [0], [], str(tmp_path))


@pytest.fixture(scope="module")
def masks_sweep(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("sweep"))
    rows = sweep.run(BASE, sweep.NAMED["masks"], [0, 1], [], out)
    return out, rows


@pytest.mark.slow
def test_every_run_is_written_and_aggregated(masks_sweep):
    out, rows = masks_sweep
    for variant in sweep.NAMED["masks"]:
        for seed in (0, 1):
            assert RunDir(os.path.join(out, variant, f"seed_{seed}")).completed_rounds() == [0, 1]
    with open(os.path.join(out, "aggregate.csv")) as f:
        table = list(csv.DictReader(f))
    assert len(table) == 4 * 2 and {r["seeds"] for r in table} == {"2"}
    lrr = [r for r in table if r["variant"] == "lrr"]
    accuracies = [RunDir(os.path.join(out, "lrr", f"seed_{s}")).metrics(1)["test_accuracy"]
                  for s in (0, 1)]
    assert float(lrr[1]["test_accuracy_mean"]) == pytest.approx(sum(accuracies) / 2)
    assert float(lrr[1]["density_mean"]) == pytest.approx(0.8, abs=1e-4)


@pytest.mark.slow
def test_transferred_masks_are_the_sources(masks_sweep):
    out, _ = masks_sweep
    for seed in (0, 1):
        imp = RunDir(os.path.join(out, "imp_with_lrr_mask", f"seed_{seed}"))
        lrr = RunDir(os.path.join(out, "lrr", f"seed_{seed}"))
        assert imp.mask(1) == lrr.mask(1)


@pytest.mark.slow
def test_rerunning_a_sweep_trains_nothing_again(masks_sweep):
    out, rows = masks_sweep
    metrics = os.path.join(out, "lrr", "seed_0", "round_01", "metrics.json")
    before = os.path.getmtime(metrics)
    assert sweep.run(BASE, sweep.NAMED["masks"], [0, 1], [], out) == rows
    assert os.path.getmtime(metrics) == before


@pytest.mark.slow
def test_the_report_draws_a_sweep_folder_by_variant(masks_sweep, tmp_path):
    out, _ = masks_sweep
    runs = grouping.find_runs(out)
    assert len(runs) == 8
    assert sorted(figures.group_runs(runs)) == sorted(sweep.NAMED["masks"])
    figures.write(runs, str(tmp_path))
    assert "| imp_with_lrr_mask | 1 |" in (tmp_path / "summary.md").read_text()


@pytest.mark.slow
def test_the_sweep_launcher_refuses_bad_input(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "sweep.py"),
                             "--grid={not json", f"--out={tmp_path / 'out'}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "error: --grid is not valid JSON" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("grid, message", [
    ({"a": {"methd": "lrr"}}, "unknown config keys"),
    ({"a": 1}, "must map to a dict"),
])
def test_bad_variants_are_one_line_errors(grid, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweep.run(BASE, grid, [0], [], str(tmp_path))


def test_every_named_variant_is_a_valid_config():
    for name, variants in sweep.NAMED.items():
        for variant, overrides in variants.items():
            values = {k: "runs/source" if str(v).startswith("@") else v
                      for k, v in overrides.items()}
            config = Config(**values)
            assert config.method == overrides["method"], (name, variant)
    budgets = {v: Config(**o).pruning for v, o in sweep.NAMED["budget"].items()}
    assert budgets["lrr_erk"] == "erk_magnitude" and budgets["imp_uniform"] == (
        "layerwise_magnitude") and budgets["lrr_global"] == "global_magnitude"
