"""Shared fixtures: real tiny runs that several test files read."""
import pytest

from tfprune import experiment
from tfprune.config import Config


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Two real 2-round runs (LRR and IMP, LeNet-300-100 on MNIST-1D) in one folder."""
    root = tmp_path_factory.mktemp("tiny_runs")
    for method in ("lrr", "imp"):
        experiment.run(Config(method=method, model="lenet300_100", rounds=2, epochs=2,
                              warmup_epochs=1, rewind_epoch=1, workdir=str(root / method),
                              download=False))
    return root
