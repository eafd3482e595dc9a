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


# paper_cifar100_resnet18 is paper_cifar10_resnet18 on CIFAR-100 (same model and protocol; its
# data path is tested in datasets_test): its smoke run would repeat the CIFAR-10 one.
SMOKE_RUNS = [n for n in registry.names() if n != "paper_cifar100_resnet18"]


@pytest.mark.parametrize("name", SMOKE_RUNS)
@pytest.mark.slow
def test_smoke_version_runs_in_seconds(name, data_dir, tmp_path):
    values = registry.get(name, smoke=True)
    assert values["rounds"] == 1 and values["epochs"] == 1
    config = Config(**values, data_dir=str(data_dir), download=False, workdir=str(tmp_path))
    results = loop.run(config)
    assert [round(m["density"], 3) for m in results] == [1.0, 0.8]
