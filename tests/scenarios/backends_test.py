"""Keras 3 on each backend: --backend picks it before Keras loads (the flag wins over
KERAS_BACKEND), the run directory records it, a JAX run keeps its masks exact without a new
trace per round, resumes bit for bit after a kill and trains the same run on 2 devices
(keras.distribution); a process whose Keras already runs on another backend is told so in one
line."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tfprune.core import faults
from tfprune.core.rundir import RunDir
from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.masking.kerases import keras as _keras

import replicas
from compare import ALL_REDUCE, assert_same_run
from conftest import ROOT, launcher_flags, tiny_config

SETTINGS = tiny_config(method="imp", keras="3", rounds=2, epochs=3, warmup_epochs=1,
                       rewind_epoch=1)


def launch(workdir, env=None, args=()):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | (env or {})
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "launch", "train.py"),
                             f"--workdir={workdir}", *launcher_flags(SETTINGS), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def test_the_flag_wins_over_keras_backend_and_the_config_records_it(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert Config(keras="3").backend == "jax"
    assert Config(keras="3", backend="torch").backend == "torch"
    assert Config(keras="2").backend == "tensorflow"  # tf_keras ignores KERAS_BACKEND
    monkeypatch.delenv("KERAS_BACKEND")
    assert Config(keras="3").backend == "tensorflow"


def test_a_process_on_another_backend_is_told_in_one_line(tmp_path):
    assert _keras("3").backend.backend() == "tensorflow"  # this test process
    config = Config(**SETTINGS, backend="jax", workdir=str(tmp_path / "run"))
    with pytest.raises(ValueError, match="^--backend=jax: this process's Keras 3 already runs "
                                         "on tensorflow .*tfprune train --backend=jax"):
        build.check_backend(config)
    with pytest.raises(ValueError, match="already runs on tensorflow"):
        loop.run(config)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_jax_run_is_exact_resumes_bit_for_bit_after_a_kill_and_runs_on_two_devices(tmp_path):
    reference = launch(tmp_path / "reference", env={"KERAS_BACKEND": "tensorflow"},
                       args=["--backend=jax"])  # the flag wins over the environment
    assert reference.wait(timeout=300) == 0, reference.stderr.read()[-2000:]
    ref = RunDir(tmp_path / "reference")
    assert json.load(open(tmp_path / "reference" / "config.json"))["backend"] == "jax"
    for r in (1, 2):  # pruned weights exactly zero, masks nested, each round's own mask
        mask, kernels = ref.mask(r), ref.kernels(r)
        assert all(not kernels[k][~mask[k]].any() for k in mask)
        assert mask.is_subset_of(ref.mask(r - 1))
        assert mask.density == pytest.approx(0.8 ** r, abs=1e-3)
    rewind = ref.rewind_kernels()  # IMP: round 2 starts at the rewind point under its mask
    assert not np.array_equal(ref.kernels(2)["fc1/kernel"], rewind["fc1/kernel"])
    killed = launch(tmp_path / "run", env={"TFPRUNE_KILL_AT": "epoch_checkpoint:round_01:2"},
                    args=["--backend=jax"])
    assert killed.wait(timeout=300) == -signal.SIGKILL, killed.stderr.read()[-2000:]
    resumed = launch(tmp_path / "run", args=["--backend=jax"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()[-2000:]
    assert_same_run(RunDir(tmp_path / "run"), ref)
    with pytest.raises(ValueError, match="backend: 'jax' -> 'tensorflow'"):
        loop.run(Config(**SETTINGS, backend="tensorflow", workdir=str(tmp_path / "run")))
    # keras.distribution's DataParallel on 2 CPU devices: the one-device run, within the drift
    # of another summation order, every replica the same kernels and masks
    mirrored = replicas.run_in_a_new_process(
        SETTINGS | dict(backend="jax", strategy="mirrored", cpu_devices=2,
                        workdir=str(tmp_path / "mirrored")), env={"KERAS_BACKEND": "jax"})
    assert mirrored["replicas"] == [2] and mirrored["same"]
    assert_same_run(RunDir(tmp_path / "mirrored"), ref, ALL_REDUCE)
    assert mirrored["late_devices"].startswith(
        "--cpu_devices=3: JAX already started with 2 CPU device(s)")



@pytest.mark.slow
def test_a_keras3_tensorflow_round_stopped_mid_way_resumes_bit_for_bit(tmp_path, monkeypatch):
    """Keras 3 on TensorFlow makes a spare data iterator at each epoch's end: the round's
    batches must not depend on it (engine.feed)."""
    settings = SETTINGS | dict(backend="tensorflow", rounds=1)
    loop.run(Config(**settings, workdir=str(tmp_path / "reference")))
    monkeypatch.setenv("TFPRUNE_RAISE_AT", "epoch_checkpoint:round_01:2")
    with pytest.raises(faults.InjectedFault):
        loop.run(Config(**settings, workdir=str(tmp_path / "run")))
    monkeypatch.delenv("TFPRUNE_RAISE_AT")
    assert RunDir(tmp_path / "run").progress(1)["epoch"] == 2
    loop.run(Config(**settings, workdir=str(tmp_path / "run")))
    assert_same_run(RunDir(tmp_path / "run"), RunDir(tmp_path / "reference"))
