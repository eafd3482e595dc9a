"""A run killed anywhere (SIGKILL at named stages or at a time) resumes to the same result."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tfprune import experiment
from tfprune.config import Config
from tfprune.rundir import RunDir
from conftest import ROOT, launcher_flags, tiny_config
from snapshots import curve

SETTINGS = tiny_config(method="imp", rounds=2, epochs=3, warmup_epochs=1, rewind_epoch=1)
ARGS = launcher_flags(SETTINGS)

pytestmark = pytest.mark.slow  # every test trains whole runs, most in a launched process


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("reference") / "run"
    experiment.run(Config(**SETTINGS, workdir=str(workdir)))
    return RunDir(workdir)


def launch(workdir, env=None, args=()):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "launch", "train.py"),
                             f"--workdir={workdir}", *ARGS, *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def assert_same_result(run_dir, reference):
    assert run_dir.completed_rounds() == reference.completed_rounds() == [0, 1, 2]
    for r in range(3):
        assert run_dir.mask(r) == reference.mask(r)
        ours, theirs = run_dir.metrics(r), reference.metrics(r)
        for key in set(ours) | set(theirs):
            if key != "seconds":
                assert ours[key] == theirs[key], (r, key)
        for key, kernel in run_dir.kernels(r).items():
            np.testing.assert_array_equal(kernel, reference.kernels(r)[key])
    assert not any(os.path.exists(run_dir.resume_dir(r)) for r in range(3))
    for tag in ("epoch/loss", "round/test_accuracy"):  # TensorBoard: each epoch once
        assert curve(run_dir.root, tag) == curve(reference.root, tag), tag


@pytest.mark.parametrize("stage, every, saved", [  # saved: (round, epoch) of the resume state
    ("epoch_checkpoint:round_00:2", 1, (0, 2)),  # mid dense round, after the rewind point
    ("epoch_checkpoint:round_01:2", 1, (1, 2)),  # mid pruned round (IMP resumes at epoch 1 + 1)
    ("epoch_checkpoint:round_02:3", 1, (2, 3)),  # after the last epoch, before the round's files
    ("saved_mask:round_01", 1, (1, 3)),          # half of a round's files written
    ("saved_checkpoint:round_01", 1, (1, 3)),    # all but metrics.json
    ("saved_metrics:round_00", 1, (0, 3)),       # between rounds, before the epochs' cleanup
    ("saved_mask:round_00", 2, (0, 2)),          # epoch 3 was not saved: it is trained again
    ("saved_mask:round_01", 0, (1, None)),       # no epoch checkpoints: the round restarts
])
def test_killed_at_a_named_stage_resumes_to_the_uninterrupted_result(stage, every, saved,
                                                                     reference, tmp_path):
    workdir = tmp_path / "run"
    killed = launch(workdir, {"TFPRUNE_KILL_AT": stage}, [f"--checkpoint_every={every}"])
    assert killed.wait(timeout=300) == -signal.SIGKILL, killed.stderr.read()[-2000:]
    r, epoch = saved
    assert (RunDir(workdir).progress(r) or {}).get("epoch") == epoch
    experiment.run(Config(**SETTINGS, workdir=str(workdir), checkpoint_every=every))
    assert_same_result(RunDir(workdir), reference)


def test_killed_at_a_random_moment_resumes_to_the_uninterrupted_result(reference, tmp_path):
    workdir = tmp_path / "run"
    process = launch(workdir)
    deadline = time.time() + 300
    while time.time() < deadline and not os.path.exists(os.path.join(workdir, "round_01")):
        time.sleep(0.2)
    time.sleep(0.7)  # somewhere inside round 1
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    experiment.run(Config(**SETTINGS, workdir=str(workdir)))
    assert_same_result(RunDir(workdir), reference)


def test_deterministic_flag_enables_op_determinism_and_repeats_bits(tmp_path):
    code = ("import sys; from tfprune import experiment; from tfprune.config import Config; "
            "from tensorflow.python.framework import config as tf_config; "
            "r = experiment.run(Config(model='lenet300_100', rounds=0, epochs=1, warmup_epochs=0, "
            "rewind_epoch=0, deterministic=True, workdir=sys.argv[1])); "
            "print('RESULT', tf_config.is_op_determinism_enabled(), "
            "r[0]['test_loss'])")
    lines = []
    for name in ("a", "b"):
        result = subprocess.run([sys.executable, "-c", code, str(tmp_path / name)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        lines.append([ln for ln in result.stdout.splitlines() if ln.startswith("RESULT")][-1])
    assert lines[0].startswith("RESULT True") and lines[0] == lines[1]
