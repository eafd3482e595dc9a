"""--strategy=multiworker for real, once end to end: 2 worker processes of launch/train.py on
127.0.0.1 ports (TF_CONFIG) train an IMP run, one worker is killed mid-round, both restart and
finish a run that equals a one-process run of the same global batch (within the drift of
all-reducing gradients: compare.ALL_REDUCE); only the chief writes --workdir."""
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir
from tfprune.engine import distribute, loop
from tfprune.engine.config import Config

from compare import ALL_REDUCE, assert_same_run
from conftest import ROOT, launcher_flags, tiny_config

SETTINGS = tiny_config(rounds=2, epochs=3, warmup_epochs=1, rewind_epoch=1)
FLAGS = launcher_flags(SETTINGS) + ["--strategy=multiworker"]
TIMEOUT = 240  # seconds a launch may take before the test fails (a hang, not a slow machine)


def free_ports(count):
    """`count` distinct free TCP ports on 127.0.0.1 (bound to port 0 together, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Cluster:
    """2 workers on fixed local ports; `launch` starts both (the same TF_CONFIG every time)."""

    def __init__(self, folder):
        self.folder = folder
        self.addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
        self.launches = 0

    def launch(self, workdir, method, kill_worker_at=None, worker_workdir=None):
        """Starts launch/train.py on both workers (worker 0 is the chief); worker 1 dies at
        stage `kill_worker_at`, and is given `worker_workdir` instead of `workdir`."""
        self.launches += 1
        self.scratch = self.folder / f"tmp{self.launches}"  # TMPDIR: where a worker's scratch goes
        self.scratch.mkdir()
        processes = []
        for index in range(2):
            env = {k: v for k, v in os.environ.items() if not k.startswith("TFPRUNE_")}
            env.update(TMPDIR=str(self.scratch), TF_CONFIG=json.dumps({
                "cluster": {"worker": self.addresses}, "task": {"type": "worker", "index": index}}))
            if index == 1 and kill_worker_at:
                env["TFPRUNE_KILL_AT"] = kill_worker_at
            folder = worker_workdir if index == 1 and worker_workdir else workdir
            with open(self.log(index), "w") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, os.path.join(ROOT, "launch", "train.py"),
                     f"--workdir={folder}", f"--method={method}", *FLAGS],
                    env=env, stdout=log, stderr=subprocess.STDOUT))
        self.processes = processes
        return processes

    def wait(self, processes, timeout=TIMEOUT):
        """The exit codes; kills every process still running and fails on a hang."""
        try:
            return [p.wait(timeout=timeout) for p in processes]
        except subprocess.TimeoutExpired:
            for p in self.processes:
                p.kill()
            pytest.fail(f"workers still running after {timeout} s:\n" + self.logs())

    def log(self, index):
        """The path of worker `index`'s output in the latest launch."""
        return self.folder / f"launch{self.launches}_worker{index}.log"

    def logs(self):
        """The end of every worker's output, every launch, for a failure's message."""
        return "\n".join(f"== {log.name}\n" + log.read_text()[-3000:]
                         for log in sorted(self.folder.glob("launch*.log")))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    return Cluster(tmp_path_factory.mktemp("cluster"))


@pytest.fixture(scope="module")
def killed_and_restarted(cluster, tmp_path_factory):
    """The IMP run of 2 workers, worker 1 killed after its checkpoint of round 1's epoch 2
    (IMP rewinds to epoch 1: mid-round), then both restarted: its folder."""
    workdir = tmp_path_factory.mktemp("imp_run") / "run"
    # the chief, which saved that epoch too, stops when the worker's heartbeats do
    processes = cluster.launch(workdir, "imp", kill_worker_at="epoch_checkpoint:round_01:2")
    chief, worker = processes
    assert cluster.wait([worker])[0] == -signal.SIGKILL, cluster.logs()
    assert cluster.wait([chief])[0] != 0, cluster.logs()
    run_dir = RunDir(workdir)
    assert run_dir.completed_rounds() == [0] and run_dir.progress(1)["epoch"] == 2
    processes = cluster.launch(workdir, "imp")
    assert cluster.wait(processes) == [0, 0], cluster.logs()
    for index in range(2):  # the non-chief read the chief's epoch checkpoint
        assert "resuming round 1 after epoch 2" in cluster.log(index).read_text()
    assert_only_the_chief_wrote(cluster, workdir, processes)
    return workdir


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The same IMP run in this process on one device (strategy default)."""
    workdir = tmp_path_factory.mktemp("one_process") / "imp"
    loop.run(Config(**SETTINGS, method="imp", workdir=str(workdir)))
    return RunDir(workdir)


def assert_only_the_chief_wrote(cluster, workdir, processes):
    _, worker = processes
    assert not os.listdir(cluster.scratch), "a worker's scratch folder was left behind"
    written = [name for name in os.listdir(workdir) if name.startswith("events.")]
    assert written and not [name for name in written if f".{worker.pid}." in name]


def test_one_worker_agrees_with_itself_and_checksums_tell_masks_apart():
    distribute.agree(None, "nothing", ["x"], [1])  # one process: no collective, no error
    one, other = Mask({"w": [1, 0, 1]}), Mask({"w": [1, 1, 0]})
    assert distribute.checksum(one) == distribute.checksum(Mask({"w": [1, 0, 1]}))
    assert distribute.checksum(one) != distribute.checksum(other)
    assert distribute.checksum(one) != distribute.checksum({"v": one["w"]})


@pytest.mark.slow
def test_two_workers_killed_and_restarted_train_the_same_imp_run_as_one_process(
        killed_and_restarted, one_process):
    run_dir = RunDir(killed_and_restarted)
    assert_same_run(run_dir, one_process, ALL_REDUCE)
    assert not any(os.path.exists(run_dir.resume_dir(r)) for r in range(3))


@pytest.mark.slow
def test_a_worker_that_sees_another_run_directory_stops_both_with_a_clear_error(
        cluster, killed_and_restarted, tmp_path):
    processes = cluster.launch(killed_and_restarted, "imp",
                               worker_workdir=tmp_path / "not_shared")
    assert cluster.wait(processes) == [1, 1], cluster.logs()
    for index in range(2):
        assert ("error: the workers disagree on the run directory (replica 0: "
                "completed_rounds=3, resume_epoch=-1; replica 1: completed_rounds=0, "
                "resume_epoch=-1): every worker must read the same run directory: put "
                "--workdir on a filesystem they all see") in cluster.log(index).read_text()
