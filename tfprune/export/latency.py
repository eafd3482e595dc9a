"""Latency of a model call: the median of repeated calls, after a few untimed ones."""
import platform
import time

import numpy as np


def median_ms(call, repeats, warmup=3):
    """The median wall time of `call()` in milliseconds over `repeats` timed calls.

    The median, not the mean: a call that another process delays (on a shared CPU) moves it
    little. `warmup` untimed calls come first (allocation, caches, lazy initialisation).

    >>> median_ms(lambda: None, repeats=5) >= 0
    True
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        call()
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        call()
        times[i] = time.perf_counter() - start
    return float(np.median(times) * 1e3)


def by_batch(make_call, batch_sizes, repeats, warmup=3):
    """{str(batch size): median ms} of the calls `make_call(batch_size)` returns.

    >>> sorted(by_batch(lambda b: (lambda: sum(range(b))), (1, 32), repeats=3))
    ['1', '32']
    """
    return {str(b): median_ms(make_call(b), repeats, warmup) for b in batch_sizes}


def cpu_name():
    """The CPU's model name (as `lscpu` shows it), for the record of a measurement."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
