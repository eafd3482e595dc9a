"""Keras 3 on two devices: tf.distribute's MirroredStrategy on the TensorFlow backend and
keras.distribution's DataParallel on JAX, each on 2 CPU devices, train the run one device
trains (within the drift of another summation order), with every replica holding the same
kernels and masks, and resume; multiworker (either backend) and mirrored on PyTorch are
refused in one line."""
import json
import os
import subprocess
import sys

import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine.config import Config

from compare import ALL_REDUCE, assert_same_run
from conftest import tiny_config

# Runs one config in a fresh process (devices are split before the backend starts) and reports
# the test losses, how many replicas each variable has and whether they all hold the same values.
WORKER = """
import json, sys
import numpy as np
from tfprune.engine import build, distribute, loop
from tfprune.engine.config import Config
from tfprune.masking import masked_model
captured = {}
original = build.build_model
def build_model(*args, **kwargs):
    captured["model"] = original(*args, **kwargs)
    return captured["model"]
build.build_model = build_model
results = loop.run(Config(**json.loads(sys.argv[1])))

def replicas(variable):
    value = variable.value
    if hasattr(value, "addressable_shards"):  # JAX: one shard per device
        return [np.asarray(s.data) for s in value.addressable_shards]
    return [np.asarray(v.numpy()) for v in getattr(value, "values", [value])]  # tf.distribute

same, counts = True, set()
for weight, mask in masked_model.pruning_vars(captured["model"]).values():
    for variable in (weight, mask):
        values = replicas(variable)
        counts.add(len(values))
        same &= all(np.array_equal(values[0], v) for v in values[1:])
late = ""  # more devices, asked for once the backend runs
try:
    distribute.make_strategy("mirrored", 3, Config(**json.loads(sys.argv[1])).backend)
except ValueError as e:
    late = str(e)
print("RESULT " + json.dumps({"losses": [m["test_loss"] for m in results], "same": bool(same),
                              "replicas": sorted(counts), "late_devices": late}))
"""


def settings(workdir, **overrides):
    return tiny_config(keras="3", method="imp", epochs=2, warmup_epochs=1, rewind_epoch=1,
                       workdir=str(workdir)) | overrides


def run_in_a_new_process(workdir, backend, **overrides):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(settings(workdir, **overrides))],
        env=env | {"KERAS_BACKEND": backend}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_devices_train_the_one_device_run(tmp_path, backend):
    """And on JAX: the run resumes on 2 devices; devices asked for after JAX started are a
    one-line error (TensorFlow's resume: tests/engine/distribute_test.py)."""
    single = run_in_a_new_process(tmp_path / "single", backend)
    assert single["replicas"] == [1]
    mirrored = run_in_a_new_process(tmp_path / "mirrored", backend, strategy="mirrored",
                                    cpu_devices=2)
    assert mirrored["replicas"] == [2] and mirrored["same"]
    assert json.load(open(tmp_path / "mirrored" / "config.json"))["backend"] == backend
    # all-reduced gradients: within the drift of another summation order
    assert_same_run(RunDir(tmp_path / "mirrored"), RunDir(tmp_path / "single"), ALL_REDUCE)
    run = RunDir(tmp_path / "mirrored")
    for r in (0, 1):
        kernels = run.kernels(r)
        assert all(not kernels[k][~m].any() for k, m in run.mask(r).items())
    if backend != "jax":
        return
    extended = run_in_a_new_process(tmp_path / "mirrored", backend, strategy="mirrored",
                                    cpu_devices=2, rounds=2)
    assert extended["losses"][:2] == mirrored["losses"] and extended["same"]  # rounds kept
    assert run.mask(2).is_subset_of(run.mask(1))
    assert extended["late_devices"].startswith(
        "--cpu_devices=3: JAX already started with 2 CPU device(s)")


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_multiworker_and_torch_mirrored_are_refused_in_one_line(backend):
    with pytest.raises(ValueError, match="^--strategy=multiworker runs with --keras=2 only: "
                                         "Keras 3's trainer fails[^\\n]*$"):
        Config(keras="3", backend=backend, strategy="multiworker")
    with pytest.raises(ValueError, match="^--strategy=mirrored runs on --backend=tensorflow "
                                         "or jax, not torch$"):
        Config(keras="3", backend="torch", strategy="mirrored")


