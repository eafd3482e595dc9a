"""Shared helpers and fixtures of the tests (`from conftest import ROOT, tiny_config`):
the project's root folder, the settings of a run that trains in seconds, and real tiny runs
that several test files read."""
import os

import pytest

from tfprune.engine import loop
from tfprune.engine.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project's root, a str


def tiny_config(**overrides):
    """The settings (a dict of Config fields) of a run that trains in seconds: LeNet-300-100 on
    the embedded MNIST-1D (no download), one pruned round, one epoch a round, no warm-up,
    rewound to initialization; `overrides` replace or add fields (workdir, method, ...)."""
    return dict(model="lenet300_100", rounds=1, epochs=1, warmup_epochs=0, rewind_epoch=0,
                download=False) | overrides


def launcher_flags(values):
    """The command-line flags of the launchers (launch/train.py, launch/sweep.py) that set the
    Config fields in `values`: ["--model=lenet300_100", ..., "--nodownload"]."""
    flags = []
    for key, value in values.items():
        if isinstance(value, bool):
            flags.append(f"--{key}" if value else f"--no{key}")
        elif isinstance(value, (list, tuple)):
            flags.append(f"--{key}=" + ",".join(map(str, value)))
        else:
            flags.append(f"--{key}={value}")
    return flags


TINY_RUNS = dict(rounds=2, epochs=2, warmup_epochs=1, rewind_epoch=1)  # tiny_runs' settings


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Three real 2-round runs (LRR, IMP and FT, LeNet-300-100 on MNIST-1D, `TINY_RUNS`) in one
    folder, trained once for every test file that reads them (none may change them)."""
    root = tmp_path_factory.mktemp("tiny_runs")
    for method in ("lrr", "imp", "ft"):
        loop.run(Config(**tiny_config(method=method, workdir=str(root / method),
                                            **TINY_RUNS)))
    return root


def pytest_collection_modifyitems(config, items):
    """The files that hold slow tests first, each file's tests kept together and in order:
    with pytest-xdist's --dist=loadfile the long files start early and the quick ones fill the
    end, so that no worker is left waiting on one long file at the end of the suite."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
