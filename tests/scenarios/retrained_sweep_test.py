"""A sweep run retrained after a divergence, through the sweep command: re-running the sweep
counts it as done with a warning and never averages it with the runs that kept the sweep's
settings; a complete run of other settings fails the sweep."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, launcher_flags, tiny_config
from tfprune.core.rundir import RunDir

TINY = launcher_flags(tiny_config())
GRID = '--grid={"lrr": {"method": "lrr"}}'


def sweep(out):
    return subprocess.run([sys.executable, os.path.join(ROOT, "launch", "sweep.py"), GRID,
                           "--seeds=0,1", f"--out={out}", *TINY],
                          capture_output=True, text=True, timeout=600)


def aggregate(out):
    with open(os.path.join(out, "aggregate.csv")) as f:
        return [(row["variant"], row["round"], row["seeds"]) for row in csv.DictReader(f)]


@pytest.mark.slow
def test_a_retrained_run_is_kept_apart_and_a_foreign_one_fails_the_sweep(tmp_path):
    out = tmp_path / "sweep"
    assert sweep(out).returncode == 0
    assert aggregate(out) == [("lrr", "0", "2"), ("lrr", "1", "2")]
    # seed 1 diverged in round 1, and was retrained with another --lr, as the README says
    retrained = RunDir(out / "lrr" / "seed_1")
    shutil.rmtree(retrained.round_dir(1))
    retrained.mark_diverged(1, {"epoch": 1, "loss": "nan"})
    train = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "train.py"), *TINY,
                            "--name=lrr", "--seed=1", "--lr=0.05",
                            f"--workdir={retrained.root}"],
                           capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    assert retrained.config_changes()[0]["changed"] == {"lr": {"old": 0.1, "new": 0.05}}

    again = sweep(out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "lrr/seed_1 was retrained with other settings from round 1" in again.stderr
    assert aggregate(out) == [("lrr", "0", "1"), ("lrr", "1", "1"),
                              ("lrr (settings changed at round 1)", "0", "1"),
                              ("lrr (settings changed at round 1)", "1", "1")]

    foreign = RunDir(out / "lrr" / "seed_0")  # complete, but not the sweep's settings
    config = foreign.read_config() | {"momentum": 0.5}
    foreign.write_config(config)
    failed = sweep(out)
    assert failed.returncode != 0
    assert (f"lrr/seed_0  failed: {foreign.root} is complete but ran other settings "
            "(momentum: 0.5 -> 0.9)") in failed.stderr
    assert json.load(open(foreign.config_path))["momentum"] == 0.5  # nothing overwritten
