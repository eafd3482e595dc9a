"""Named stages where a test can kill the process, or make it raise, to prove that a run or a
sweep survives it.

`TFPRUNE_KILL_AT=<stage>` makes `stage(<stage>)` SIGKILL the process: no cleanup, no flush, as
a preemption would. `TFPRUNE_RAISE_AT=<stage>` makes it raise `InjectedFault` instead. With
`TFPRUNE_FAULT_ONCE=<path>` the fault fires once: only while <path> does not exist (it is
created just before). Unset (always, outside tests), `stage` does nothing.
"""
import os
import signal

VARIABLES = ("TFPRUNE_KILL_AT", "TFPRUNE_RAISE_AT", "TFPRUNE_FAULT_ONCE")


class InjectedFault(RuntimeError):
    """The error `TFPRUNE_RAISE_AT` raises."""


def stage(name):
    """Kills this process, or raises, if TFPRUNE_KILL_AT or TFPRUNE_RAISE_AT names this stage."""
    kill = os.environ.get("TFPRUNE_KILL_AT") == name
    raise_ = os.environ.get("TFPRUNE_RAISE_AT") == name
    if not (kill or raise_) or not _first_time():
        return
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFault(f"injected fault at stage {name}")


def _first_time():
    once = os.environ.get("TFPRUNE_FAULT_ONCE")
    if not once:
        return True
    try:
        with open(once, "x"):
            return True
    except FileExistsError:
        return False


def environment():
    """The fault variables set in this process (for processes it starts, e.g. Ray workers)."""
    return {k: os.environ[k] for k in VARIABLES if k in os.environ}
