"""Named stages where a test can kill the process, to prove that a run survives it.

`TFPRUNE_KILL_AT=<stage>` makes `stage(<stage>)` SIGKILL the process: no cleanup, no
flush, as a preemption would. Unset (always, outside tests), `stage` does nothing.
"""
import os
import signal


def stage(name):
    """Kills this process if TFPRUNE_KILL_AT names this stage."""
    if os.environ.get("TFPRUNE_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
