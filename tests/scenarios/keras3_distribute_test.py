"""Keras 3 on two devices: tf.distribute's MirroredStrategy on the TensorFlow backend trains
the run one device trains (within the drift of another summation order), with every replica
holding the same kernels and masks (JAX's DataParallel: tests/scenarios/backends_test.py);
multiworker (either backend) and mirrored on PyTorch are refused in one line."""
import json

import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config

import replicas
from compare import ALL_REDUCE, assert_same_run
from conftest import tiny_config


def settings(workdir, **overrides):
    return tiny_config(keras="3", backend="tensorflow", method="imp", epochs=2,
                       warmup_epochs=1, rewind_epoch=1, workdir=str(workdir)) | overrides


@pytest.mark.slow
def test_mirrored_on_two_devices_trains_the_one_device_run(tmp_path):
    loop.run(Config(**settings(tmp_path / "single")))  # this process: Keras 3 on TensorFlow
    mirrored = replicas.run_in_a_new_process(
        settings(tmp_path / "mirrored", strategy="mirrored", cpu_devices=2),
        env={"KERAS_BACKEND": "tensorflow"})
    assert mirrored["replicas"] == [2] and mirrored["same"]
    assert json.load(open(tmp_path / "mirrored" / "config.json"))["strategy"] == "mirrored"
    # all-reduced gradients: within the drift of another summation order
    assert_same_run(RunDir(tmp_path / "mirrored"), RunDir(tmp_path / "single"), ALL_REDUCE)
    run = RunDir(tmp_path / "mirrored")
    for r in (0, 1):
        kernels = run.kernels(r)
        assert all(not kernels[k][~m].any() for k, m in run.mask(r).items())


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_multiworker_and_torch_mirrored_are_refused_in_one_line(backend):
    with pytest.raises(ValueError, match="^--strategy=multiworker runs with --keras=2 only: "
                                         "Keras 3's trainer fails[^\\n]*$"):
        Config(keras="3", backend=backend, strategy="multiworker")
    with pytest.raises(ValueError, match="^--strategy=mirrored runs on --backend=tensorflow "
                                         "or jax, not torch$"):
        Config(keras="3", backend="torch", strategy="mirrored")
    with pytest.raises(ValueError, match="^--cpu_devices runs on --backend=tensorflow or jax, "
                                         "not torch$"):
        Config(keras="3", backend="torch", cpu_devices=2)
