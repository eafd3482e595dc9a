"""Linear mode connectivity of real tiny runs: the path's ends are the saved networks (their
recorded test errors), the pairs are written to lmc.json and TensorBoard, BatchNorm is
recomputed as a cumulative average, instability trains two copies, and runs of another model
are refused in one line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import mode_connectivity as connectivity

from conftest import ROOT
from tiny import compiled, data


@pytest.mark.slow
def test_pairs_of_a_run_and_another(tiny_runs):
    lrr, imp = str(tiny_runs / "lrr"), str(tiny_runs / "imp")
    results = connectivity.measure_run(lrr, [1, 2], ("consecutive", "rewind", "other"),
                                       imp, n=3, bn_batches=0)
    assert [(x["kind"], x["round"]) for x in results] == [
        ("consecutive", 1), ("rewind", 1), ("other", 1), ("consecutive", 2), ("rewind", 2),
        ("other", 2)]
    run, other = RunDir(lrr), RunDir(imp)
    error = {r: 1 - run.metrics(r)["test_accuracy"] for r in (0, 1, 2)}
    for x in results:  # LeNet has no BatchNorm: the ends are the saved networks exactly
        first = {"consecutive": error[x["round"] - 1], "rewind": None,
                 "other": error[x["round"]]}[x["kind"]]
        last = (1 - other.metrics(x["round"])["test_accuracy"] if x["kind"] == "other"
                else error[x["round"]])
        assert x["test_error"][-1] == pytest.approx(last, abs=1e-6)
        if first is not None:
            assert x["test_error"][0] == pytest.approx(first, abs=1e-6)
        line = [(1 - a) * x["test_error"][0] + a * x["test_error"][-1] for a in x["alphas"]]
        assert x["barrier"] == pytest.approx(max(0, max(np.subtract(x["test_error"], line))))
        assert x["alphas"] == [0.0, 0.5, 1.0]
    saved = json.load(open(os.path.join(lrr, "lmc", "lmc.json")))["pairs"]
    assert len(saved) == 6
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(os.path.join(lrr, "lmc")))
    # measured again: replaced, not duplicated
    connectivity.measure_run(lrr, [2], ("rewind",), n=2, bn_batches=0)
    assert len(json.load(open(os.path.join(lrr, "lmc", "lmc.json")))["pairs"]) == 6


@pytest.mark.slow
def test_instability_trains_two_copies_on_other_data_orders(tiny_runs, tmp_path):
    import shutil
    imp = tmp_path / "imp"
    shutil.copytree(tiny_runs / "imp", imp)
    (x,) = connectivity.measure_run(str(imp), [2], ("instability",), n=3, bn_batches=0)
    assert x["test_error"][0] != x["test_error"][-1]  # two data orders, two networks
    assert x["barrier"] >= 0


def test_batch_norm_is_recomputed_as_the_average_of_the_batches():
    model = compiled()
    batches = list(data())[:3]
    bn = model.get_layer("bn")
    conv = [layer for layer in model.layers if "conv" in layer.name][0]  # BN's input
    connectivity.recompute_batch_norm(model, batches)
    means = [np.asarray(conv(x)).reshape(-1, 6).mean(0) for x, _ in batches]
    np.testing.assert_allclose(np.asarray(bn.moving_mean.numpy()), np.mean(means, 0),
                               rtol=1e-4, atol=1e-6)
    assert bn.momentum == pytest.approx(0.99)  # put back


@pytest.mark.slow
def test_runs_of_another_model_are_refused_in_one_line(tmp_path):
    for name, values in (("a", {"model": "lenet300_100"}), ("b", {"model": "convnet"}),
                         ("c", {"model": "lenet300_100", "keras": "3"})):
        (tmp_path / name / "round_00").mkdir(parents=True)
        (tmp_path / name / "config.json").write_text(json.dumps(values))
        (tmp_path / name / "round_00" / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match=r"^--other=.*/b was run with --model='convnet', --run "
                                         r"has --model='lenet300_100': linear mode"):
        connectivity.measure_run(str(tmp_path / "a"), other_arg=str(tmp_path / "b"))
    with pytest.raises(ValueError, match=r"^--other=.*/c was run with --keras='3', --run has "
                                         r"--keras='2'"):  # weights named otherwise
        connectivity.measure_run(str(tmp_path / "a"), other_arg=str(tmp_path / "c"))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "lmc.py"),
                             f"--run={tmp_path / 'a'}", "--pairs=sideways"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert lines == ["error: --pairs: unknown sideways; valid: consecutive, rewind, other, "
                     "instability"]
    assert not (tmp_path / "a" / "lmc").exists()
