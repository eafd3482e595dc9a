"""Quiet logs: the launchers print tfprune's lines only, unless -v 1 asks for TensorFlow's."""
import logging
import os
import subprocess
import sys

import pytest

from tfprune.core import logs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NATIVE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795537174.246906   28761 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1795537174.247254   28761 cudart_stub.cc:31] Could not find cuda drivers",
    "E0000 00:00:1795537178.430632   28761 cuda_platform.cc:52] failed call to cuInit: INTERNAL",
    "W0000 00:00:1795537181.486147   28761 loop_optimizer.cc:934] Skipping loop optimization",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild",
]
KEPT = [
    "F0000 00:00:1795537181.486147   28761 tensor.cc:12] Check failed: shape",
    "E0000 00:00:1795537178.430632   28761 gpu_device.cc:52] out of memory",
    "I1124 16:19:42.067107 139664365087616 callbacks.py:440] [round 0/10] epoch 1/12",
    "Traceback (most recent call last):",
    "16:25:13 [round 0/2 density 1.0000] epoch 1/3 accuracy=0.3873",
]


@pytest.mark.parametrize("line", NATIVE)
def test_native_noise_is_recognized(line):
    assert logs.is_native_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_fatal_errors_and_python_lines_are_kept(line):
    assert not logs.is_native_noise(line)


@pytest.mark.parametrize("argv, level", [
    (["train.py"], 0), (["train.py", "-v", "1"], 1), (["train.py", "-v=2"], 2),
    (["train.py", "--verbosity=1", "--method=imp"], 1), (["train.py", "--v=3"], 3),
    (["train.py", "--verbosity", "1"], 1), (["train.py", "-v=x"], 0),
    (["train.py", "--method=lrr"], 0)])
def test_verbosity_is_read_before_flags_are_parsed(argv, level):
    assert logs.verbosity(argv) == level


def test_setup_hides_library_info_and_keeps_ours_and_warnings():
    records = [logging.LogRecord("absl", level, path, 1, "m", (), None) for level, path in [
        (logging.INFO, "/x/site-packages/tensorflow/python/checkpoint/functional_saver.py"),
        (logging.INFO, "/x/site-packages/tfprune/engine/loop.py"),
        (logging.INFO, "/work/tfprune/engine/loop.py"),
        (logging.WARNING, "/x/dist-packages/tf_keras/engine.py")]]
    assert [logs._own_info(r) for r in records] == [False, True, True, True]


def _train(tmp_path, *flags):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "launch", "train.py"), "--model=lenet300_100",
         "--rounds=0", "--epochs=1", "--warmup_epochs=0", "--rewind_epoch=0",
         f"--workdir={tmp_path / 'run'}", *flags],
        capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_a_default_run_prints_only_tfprune_lines_and_v1_brings_tensorflow_back(tmp_path):
    quiet = _train(tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = (quiet.stdout + quiet.stderr).splitlines()
    assert not [line for line in lines if logs.is_native_noise(line)]
    assert not [line for line in lines if "Sharding callback" in line]
    assert any("[round 0/0 density 1.0000] epoch 1/1" in line for line in lines), lines
    assert any("test_accuracy=" in line for line in lines)
    loud = _train(tmp_path, "-v", "1")  # the finished run again: TensorFlow loads, no training
    assert loud.returncode == 0, loud.stderr
    assert any(logs.is_native_noise(line) for line in loud.stderr.splitlines())
