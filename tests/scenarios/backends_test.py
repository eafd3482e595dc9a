"""Keras 3 on each backend: --backend picks it before Keras loads (the flag wins over
KERAS_BACKEND), the run directory records it, a JAX run keeps its masks exact without a new
trace per round and resumes bit for bit after a kill; a process whose Keras already runs on
another backend is told so in one line."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.masking.kerases import keras as _keras

from compare import assert_same_run
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
def test_a_jax_run_is_exact_and_resumes_bit_for_bit_after_a_kill(tmp_path):
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
    other = launch(tmp_path / "run", args=["--backend=tensorflow"])
    assert other.wait(timeout=300) != 0
    assert "backend: 'jax' -> 'tensorflow'" in other.stderr.read()


JAX_FLAGS = """
import json, sys
from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config
base = json.loads(sys.argv[1])
for name, flags in json.loads(sys.argv[2]).items():
    loop.run(Config(**base, **flags, workdir=f"{sys.argv[3]}/{name}"))
"""


@pytest.mark.slow
def test_the_experiment_flags_run_on_jax_with_exact_masks(tmp_path):
    """What touches weights in a callback (fixed signs each step, BN rewind, sign surgery) or
    reads the graph (channels) works on JAX too, masks exact (tiny runs, two flags each)."""
    base = tiny_config(keras="3", backend="jax", model="convnet")
    cases = {"fixed_signs": {"fixed_signs": True, "rewind_bn": True},
             "channel_own_signs": {"method": "imp", "signs": "trained",
                                   "structure": "channel"}}
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {
        "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", JAX_FLAGS, json.dumps(base),
                           json.dumps(cases), str(tmp_path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in cases:
        run = RunDir(tmp_path / name)
        mask, kernels, before = run.mask(1), run.kernels(1), run.kernels(0)
        assert all(not kernels[k][~mask[k]].any() for k in mask), name
        assert mask.density == pytest.approx(0.8, abs=0.01), name
        if name == "fixed_signs":  # LRR starts from round 0's weights; no sign flips after
            assert all(np.all(np.sign(kernels[k][mask[k]]) * np.sign(before[k][mask[k]]) >= 0)
                       for k in mask)
