"""Shards of a grid for batch schedulers (Slurm job arrays, Kubernetes indexed jobs).

`--shard=I/N` makes one process run every N-th job of the grid, starting at job I, in the
grid's order (sources before their users). A job whose source belongs to another shard waits
until that source's run directory holds all its rounds; the wait has a timeout and says which
shard holds the source. The shards together run every job exactly once.
"""
import time

from absl import logging

from tfprune.core.rundir import RunDir


def parse(text):
    """(I, N) from "I/N", with 0 <= I < N; a one-line error naming --shard otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard={text}: expected I/N, e.g. 0/4 (shard I of N, from 0)") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard={text}: I must be in [0, N), e.g. 0/{max(count, 1)}")
    return index, count


def owner(position, count):
    """The shard that runs the job at `position` of the grid."""
    return position % count


def select(jobs, index, count):
    """The jobs of shard `index` of `count`, in the grid's order."""
    return [job for position, job in enumerate(jobs) if owner(position, count) == index]


def wait_for_sources(job, jobs, count, rounds, timeout, poll=2.0, clock=time.monotonic,
                     sleep=time.sleep):
    """Waits until every source of `job` has completed `rounds` + 1 rounds (0 ... rounds).

    Raises a one-line TimeoutError after `timeout` seconds, naming the source, its progress
    and the shard that runs it.
    """
    positions = {j.workdir: p for p, j in enumerate(jobs)}
    deadline = clock() + timeout
    for source in job.sources:
        logged = False
        while len(RunDir(source).completed_rounds()) <= rounds:
            if clock() >= deadline:
                done = len(RunDir(source).completed_rounds())
                shard = (f"shard {owner(positions[source], count)}/{count}"
                         if source in positions else "another sweep")
                raise TimeoutError(
                    f"{job.label} waited {timeout:g} s for its source {source} ({done} of "
                    f"{rounds + 1} rounds complete), which {shard} runs; start that shard, or "
                    "raise --source_timeout")
            if not logged:
                logging.info("%s: waiting for its source %s (run by another shard)",
                             job.label, source)
                logged = True
            sleep(poll)
