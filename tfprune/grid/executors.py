"""Who runs the runs of a grid: this process one after another, or Ray tasks on a cluster.

An executor takes jobs (a run directory, its configuration and the run directories it
reads: its sources) and returns one `Outcome` per job. Every run writes only its own run
directory, so a grid is resumable on either executor: a finished run is not started again, a
partial one resumes from its last saved epoch.
"""
import dataclasses
import time

from absl import logging

from tfprune.core import clock, faults
from tfprune.core.rundir import RunDir


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of a grid: where it writes, its Config values (a whole `Config.to_dict()`), and
    the runs it reads first."""
    workdir: str
    config: dict
    sources: tuple = ()
    label: str = ""

    def is_done(self):
        """Whether every round of the run is complete already."""
        return len(RunDir(self.workdir).completed_rounds()) > self.config["rounds"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a job ended: "done", or "failed" with a one-line error."""
    workdir: str
    status: str
    error: str = ""
    seconds: float = 0.0


def last_line(error):
    """The last line of an error's text (Ray wraps remote tracebacks), at most 300 characters."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def run_job(job):
    """Runs (or resumes) one job in this process; a bad configuration, a missing source or a
    diverged round (ValueError: retrying changes nothing) returns a failed `Outcome`, any
    other error is raised (an executor may retry it)."""
    from tfprune.engine import loop  # loads TensorFlow, in the process that trains
    from tfprune.engine.config import Config
    start = time.perf_counter()
    faults.stage(f"start:{job.label}")
    try:
        loop.run(Config.from_dict(job.config))
    except ValueError as e:
        return Outcome(job.workdir, "failed", last_line(e), time.perf_counter() - start)
    return Outcome(job.workdir, "done", "", time.perf_counter() - start)


class SweepProgress:
    """Logs "sweep: k/n runs done (f failed), ETA ..." as jobs end, on any executor."""

    def __init__(self, total, already_done=0):
        self.total, self.done, self.failed = total, already_done, 0
        self.start = time.perf_counter()
        self.counted = 0  # jobs ended in this process (the ETA's rate)

    def ended(self, outcome, label):
        self.counted += 1
        self.done += outcome.status == "done"
        self.failed += outcome.status != "done"
        ended = self.done + self.failed
        left = clock.eta(time.perf_counter() - self.start, self.counted,
                            self.counted + self.total - ended)
        logging.info("sweep: %d/%d runs done%s: %s %s%s%s", self.done, self.total,
                     f" ({self.failed} failed)" if self.failed else "", label, outcome.status,
                     f" ({outcome.error})" if outcome.error else "",
                     f", ETA {clock.duration(left)}" if left and ended < self.total else "")


def run_serial(jobs, max_retries=0, before=None, already_done=0):
    """Runs the jobs one after another in this process (sources come first in `jobs`); a job
    whose source failed is not started. Errors other than bad input are retried.
    `before(job)`, if given, runs first (e.g. waits for a source another process runs)."""
    outcomes, failed = {}, set()
    meter = SweepProgress(len(jobs) + already_done, already_done)
    for job in jobs:
        broken = [s for s in job.sources if s in failed]
        if broken:
            outcome = Outcome(job.workdir, "failed", f"source {broken[0]} failed")
        else:
            try:
                if before is not None:
                    before(job)
                outcome = _with_retries(job, max_retries)
            except TimeoutError as e:
                outcome = Outcome(job.workdir, "failed", last_line(e))
        if outcome.status != "done":
            failed.add(job.workdir)
        outcomes[job.workdir] = outcome
        meter.ended(outcome, job.label)
    return [outcomes[job.workdir] for job in jobs]


def _with_retries(job, max_retries):
    for attempt in range(max_retries + 1):
        try:
            return run_job(job)
        except Exception as e:  # noqa: BLE001 -- reported in the status table, others go on
            error = e
            logging.warning("%s: attempt %d of %d failed: %s", job.label, attempt + 1,
                            max_retries + 1, last_line(e))
    return Outcome(job.workdir, "failed", f"{last_line(error)} (after {max_retries + 1} attempts)")


def run_ray(jobs, max_retries=0, ray_address=None, cpus_per_run=1.0, gpus_per_run=0.0,
            before=None, already_done=0):
    """Runs every job as a Ray task: in an embedded local Ray, or on the cluster at
    `ray_address` ("auto" or "HOST:PORT"). A job's sources are task dependencies, so it starts
    when they have finished; a job that raises or whose worker dies is retried `max_retries`
    times. Returns when every job has ended, whatever its outcome (`before` must be None:
    dependencies are Ray's)."""
    assert before is None, "shards run serially"
    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=ray_address, include_dashboard=False, configure_logging=False,
                 log_to_driver=logging.get_verbosity() > 0)  # -v 1: every run's lines
    remote = ray.remote(_ray_job).options(
        num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=max_retries,
        retry_exceptions=True,
        runtime_env={"env_vars": faults.environment()} if faults.environment() else None)
    refs = {}
    for job in jobs:  # sources before their users: their references exist
        refs[job.workdir] = remote.remote(job, *[refs[s] for s in job.sources if s in refs])
    labels = {ref: job for job, ref in zip(jobs, refs.values())}
    outcomes = {}
    meter = SweepProgress(len(jobs) + already_done, already_done)
    pending = list(refs.values())
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        job = labels[ready[0]]
        try:
            outcome = ray.get(ready[0])
        except Exception as e:  # noqa: BLE001 -- the task failed after its retries
            broken = [s for s in job.sources if outcomes.get(s, Outcome(s, "done")).status
                      != "done"]  # a source that raised fails its users before they start
            outcome = Outcome(job.workdir, "failed", f"source {broken[0]} failed" if broken
                              else f"{last_line(e)} (after {max_retries + 1} attempts)")
        outcomes[job.workdir] = outcome
        meter.ended(outcome, job.label)
    return [outcomes[job.workdir] for job in jobs]


def _ray_job(job, *source_outcomes):
    """A Ray task: the job, once its sources ended (it fails if one of them failed)."""
    for outcome in source_outcomes:
        if outcome.status != "done":
            return Outcome(job.workdir, "failed", f"source {outcome.workdir} failed")
    return run_job(job)


def import_ray():
    """Ray, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ValueError("--executor=ray needs Ray: pip install -e \".[ray]\" (or pip install "
                         "\"ray>=2.9\")") from None
    return ray


EXECUTORS = {"serial": run_serial, "ray": run_ray}


def get(name):
    """The executor function `name` ("serial" or "ray")."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; valid: {', '.join(sorted(EXECUTORS))}")
    return EXECUTORS[name]


def summary(jobs, outcomes):
    """The status table: one line per run, "done" or "failed: <error>"."""
    width = max(len(job.label) for job in jobs)
    return "\n".join(f"{job.label:<{width}}  {outcome.status}"
                     + (f": {outcome.error}" if outcome.error else "")
                     for job, outcome in zip(jobs, outcomes))
