"""A run killed anywhere (SIGKILL at named stages or at a time) resumes to the same result, bit
for bit: the runs are deterministic (TensorFlow's op determinism), so a resumed run and the
uninterrupted one, trained in other processes on one machine, sum every float in one order."""
import os
import signal
import subprocess
import sys
import time

import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config
from tfprune.masking.kerases import keras as _keras

from compare import assert_same_run
from conftest import ROOT, launcher_flags, tiny_config
from snapshots import curve

keras = _keras("2")
SETTINGS = tiny_config(method="imp", rounds=2, epochs=3, warmup_epochs=1, rewind_epoch=1,
                       deterministic=True)
ARGS = launcher_flags(SETTINGS)

pytestmark = pytest.mark.slow  # every test trains whole runs, most in a launched process


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("reference") / "run"
    loop.run(Config(**SETTINGS, workdir=str(workdir)))
    return RunDir(workdir)


def launch(workdir, env=None, args=()):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "launch", "train.py"),
                             f"--workdir={workdir}", *ARGS, *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def assert_same_result(run_dir, reference):
    assert reference.completed_rounds() == [0, 1, 2]
    assert_same_run(run_dir, reference)
    assert not any(os.path.exists(run_dir.resume_dir(r)) for r in range(3))
    for tag in ("epoch/loss", "round/test_accuracy"):  # TensorBoard: each epoch once
        assert curve(run_dir.root, tag) == curve(reference.root, tag), tag


# One run killed at each stage in turn, every launch resuming what the last left: (stage, the
# launch's --checkpoint_every, the (round, epoch) of the resume state it leaves). Then one
# resume to the end.
STAGES = [
    ("epoch_checkpoint:round_00:2", 1, (0, 2)),  # mid dense round, after the rewind point
    ("saved_mask:round_00", 2, (0, 2)),          # epoch 3 was not saved: it is trained again
    ("saved_metrics:round_00", 1, (0, 3)),       # between rounds, before the epochs' cleanup
    ("saved_mask:round_01", 0, (1, 1)),          # no epoch checkpoints: from the round's start
    ("epoch_checkpoint:round_01:2", 1, (1, 2)),  # mid pruned round (IMP resumes at 1 + 1)
    ("saved_checkpoint:round_01", 1, (1, 3)),    # a round's files but metrics.json written
    ("epoch_checkpoint:round_02:3", 1, (2, 3)),  # after the last epoch, before its files
]


def test_killed_at_every_named_stage_in_turn_resumes_to_the_uninterrupted_result(reference,
                                                                                 tmp_path):
    workdir = tmp_path / "run"
    for stage, every, (r, epoch) in STAGES:
        killed = launch(workdir, {"TFPRUNE_KILL_AT": stage}, [f"--checkpoint_every={every}"])
        assert killed.wait(timeout=300) == -signal.SIGKILL, (stage, killed.stderr.read()[-2000:])
        assert (RunDir(workdir).progress(r) or {}).get("epoch") == epoch, stage
    loop.run(Config(**SETTINGS, workdir=str(workdir)))
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
    loop.run(Config(**SETTINGS, workdir=str(workdir)))
    assert_same_result(RunDir(workdir), reference)


def test_deterministic_turns_op_determinism_on_for_the_run_only(tmp_path):
    """On while the run trains (the runs above repeat their bits across processes with it);
    the process gets its own setting back."""
    from tensorflow.python.framework import config as tf_config
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(tf_config.is_op_determinism_enabled())

    assert not tf_config.is_op_determinism_enabled()
    loop.run(Config(**(SETTINGS | {"rounds": 0, "epochs": 1, "rewind_epoch": 0,
                                         "warmup_epochs": 0}), workdir=str(tmp_path)),
                   callbacks=[Probe()])
    assert seen == [True] and not tf_config.is_op_determinism_enabled()
