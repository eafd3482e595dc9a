"""Grids beyond one process: Ray tasks, retries, sources first, a killed driver, shards."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tfprune.core.rundir import RunDir
from tfprune.grid import executors, sweep

from compare import assert_same_run
from conftest import ROOT, launcher_flags, tiny_config

# Deterministic: a run in a Ray worker or a shard equals the serial one bit for bit (compare.py).
BASE = tiny_config(deterministic=True)
# b transfers a's masks: a must finish before b starts.
GRID = {"a": {"method": "lrr"}, "b": {"method": "imp", "mask_from": "@a"}}
LABELS = ["a/seed_0", "b/seed_0"]


def assert_same_runs(out, reference):
    """The runs of two sweep folders hold the same trainings, bit for bit."""
    for label in LABELS:
        assert_same_run(RunDir(os.path.join(out, label)), RunDir(os.path.join(reference, label)))


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("serial"))
    return out, sweep.run(BASE, GRID, [0], [], out)


# ------------------------------------------------------------------------------ shards


def _sweep_command(out, *flags):
    return [sys.executable, os.path.join(ROOT, "launch", "sweep.py"), f"--grid={json.dumps(GRID)}",
            "--seeds=0", *launcher_flags(BASE), f"--out={out}", *flags]


@pytest.mark.slow
def test_shards_side_by_side_wait_for_each_other_and_equal_the_serial_sweep(serial, tmp_path):
    reference, _ = serial
    out = str(tmp_path / "sharded")
    # Shard 0 runs a/seed_0, shard 1 b/seed_0, whose source is shard 0's: it starts first, and
    # waits.
    started = [subprocess.Popen(_sweep_command(out, f"--shard={i}/2"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for i in (1, 0)]
    logs = [p.communicate(timeout=600)[0] for p in started]
    assert [p.returncode for p in started] == [0, 0], logs
    assert "b/seed_0: waiting for its source" in logs[0]
    assert_same_runs(out, reference)
    with open(os.path.join(out, "aggregate.csv")) as f:  # the last shard saw every run done
        assert len(f.read().splitlines()) == 1 + 2 * 2  # (variant, round) rows


# ------------------------------------------------------------------------- failures

@pytest.mark.slow
def test_a_failing_run_is_retried_then_reported_while_the_others_go_on(tmp_path, monkeypatch):
    monkeypatch.setenv("TFPRUNE_RAISE_AT", "start:a/seed_1")
    grid = GRID | {"c": {"method": "lrr"}}
    with pytest.raises(sweep.SweepIncomplete) as error:
        sweep.run(BASE, grid, [0, 1], [], str(tmp_path), max_retries=1)
    status = {o.workdir: (o.status, o.error) for o in error.value.outcomes}
    out = str(tmp_path)
    assert status[f"{out}/a/seed_1"] == (
        "failed", "injected fault at stage start:a/seed_1 (after 2 attempts)")
    assert status[f"{out}/b/seed_1"] == ("failed", f"source {out}/a/seed_1 failed")
    assert {status[f"{out}/{k}"][0] for k in ("a/seed_0", "b/seed_0", "c/seed_0", "c/seed_1")
            } == {"done"}
    assert str(error.value).startswith("2 of 6 runs failed")
    assert "a/seed_1  failed: injected fault" in error.value.table
    assert {row["variant"] for row in error.value.rows} == {"a", "b", "c"}  # the done runs


def test_bad_input_is_not_retried(tmp_path, monkeypatch):
    calls = []
    original = executors.run_job

    def counted(job):
        calls.append(job.label)
        return original(job)
    monkeypatch.setattr(executors, "run_job", counted)
    grid = {"a": {"method": "imp", "mask_from": str(tmp_path / "nothing")}}
    with pytest.raises(sweep.SweepIncomplete) as error:
        sweep.run(BASE, grid, [0], [], str(tmp_path / "out"), max_retries=3)
    assert calls == ["a/seed_0"]
    assert "is not a run directory" in error.value.outcomes[0].error


# ------------------------------------------------------------------------------- Ray

@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False,
             log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_retries_a_killed_worker_runs_sources_first_and_equals_the_serial_sweep(
        local_ray, serial, tmp_path, monkeypatch):
    reference, rows = serial
    monkeypatch.setenv("TFPRUNE_KILL_AT", "saved_kernels:round_01")
    monkeypatch.setenv("TFPRUNE_FAULT_ONCE", str(tmp_path / "killed"))
    out = str(tmp_path / "out")
    assert sweep.run(BASE, GRID, [0], [], out, executor="ray", cpus_per_run=1,
                     max_retries=1) == rows
    assert (tmp_path / "killed").exists()  # a's worker died at that stage, and was retried
    assert_same_runs(out, reference)
    source = os.path.join(out, "a", "seed_0", "round_01", "metrics.json")
    user = os.path.join(out, "b", "seed_0", "config.json")
    assert os.path.getmtime(user) >= os.path.getmtime(source)  # b waited for its source


@pytest.mark.slow
def test_a_sweep_whose_driver_was_killed_resumes(serial, tmp_path):
    """The sweep's resume skips finished runs and resumes the cut one, whichever executor ran
    them (the Ray executor's own kills are above): here the serial driver."""
    reference, _ = serial
    out = str(tmp_path / "out")
    driver = subprocess.Popen(_sweep_command(out), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:  # killed once the first epoch of a run is saved
        while not any("progress.json" in names for _, _, names in os.walk(out)):
            assert driver.poll() is None and time.monotonic() < deadline, "no epoch was saved"
            time.sleep(0.1)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    assert not all(RunDir(os.path.join(out, label)).completed_rounds() == [0, 1]
                   for label in LABELS)
    again = subprocess.run(_sweep_command(out), capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_same_runs(out, reference)


def test_without_ray_the_ray_executor_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ValueError) as error:
        sweep.run(BASE, GRID, [0], [], str(tmp_path), executor="ray")
    assert str(error.value) == ('--executor=ray needs Ray: pip install -e ".[ray]" (or pip '
                                'install "ray>=2.9")')


def test_shards_run_serially(tmp_path):
    with pytest.raises(ValueError, match="use it with --executor=serial"):
        sweep.run(BASE, GRID, [0], [], str(tmp_path), executor="ray", shard=(0, 2))
    assert not os.path.exists(tmp_path / "a")
