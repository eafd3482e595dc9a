"""The named configurations: valid, documented, and their smoke versions run end to end."""
import pytest

from tfprune.configs import registry
from tfprune.engine import loop
from tfprune.engine.config import Config

import fake_data

DATASETS = {"cifar10", "cifar100"}


@pytest.mark.parametrize("name", registry.names())
def test_each_config_is_valid_and_documents_command_accuracy_and_time(name):
    config = Config(**registry.get(name))
    assert config.epochs >= 150 and config.rounds >= 10
    doc = registry._CONFIGS[name].__module__
    text = __import__(doc, fromlist=["x"]).__doc__
    assert f"tfprune train --config={name}" in text  # or python launch/train.py, the same
    assert "Expected accuracy" in text or "Expected test accuracy" in text
    assert "Expected time" in text


def test_renda_config_carries_the_papers_table():
    text = __import__(registry._CONFIGS["renda_cifar10_resnet20"].__module__,
                      fromlist=["x"]).__doc__
    assert "| 0.107 | 91.01 | 91.00 | 86.68 | 89.32 |" in text


def test_unknown_config_lists_the_valid_names():
    with pytest.raises(ValueError, match="valid: paper_cifar100_resnet18"):
        registry.get("paper_imagenet")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    fake_data.write_tfds(str(root), sorted(DATASETS), n_train=32, n_test=16)
    fake_data.write_tiny_imagenet(root, ["n01", "n02", "n03"])
    return root


# paper_cifar10_resnet18's smoke run is notebook 04's (tests/scenarios/notebooks_test.py, on
# two CPU devices); paper_cifar100_resnet18 is the same model and protocol on CIFAR-100 (its
# data path is tested in datasets_test): their smoke runs here would repeat those.
SMOKE_RUNS = [n for n in registry.names()
              if n not in ("paper_cifar10_resnet18", "paper_cifar100_resnet18")]


@pytest.mark.parametrize("name", SMOKE_RUNS)
@pytest.mark.slow
def test_smoke_version_runs_in_seconds(name, data_dir, tmp_path):
    values = registry.get(name, smoke=True)
    assert values["rounds"] == 1 and values["epochs"] == 1
    config = Config(**values, data_dir=str(data_dir), download=False, workdir=str(tmp_path))
    results = loop.run(config)
    assert [round(m["density"], 3) for m in results] == [1.0, 0.8]


def test_every_scale_plans_every_claims_grid(tmp_path):
    from tfprune.configs import scales
    from tfprune.grid import sweep
    from tfprune.report import claims
    for name in scales.names():
        scale = scales.get(name)
        assert len(scale.seeds) >= 3 and scale.cost and scale.neuron
        variants = claims.grid(claims.CLAIMS, scale.variants)
        jobs = sweep.plan(scale.base, variants, list(scale.seeds), [], str(tmp_path))
        assert len(jobs) == len(variants) * len(scale.seeds)
        for job in jobs:  # a perturbed variant is perturbed inside a round, not after it
            assert job.config["perturb_every"] < job.config["epochs"]
    assert scales.get("gpu").base == registry.get("paper_cifar10_resnet18") | dict(
        perturb_every=30)
    with pytest.raises(ValueError, match="unknown scale 'big'; valid: smoke, laptop, gpu"):
        scales.get("big")
