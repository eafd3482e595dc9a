"""Time as a person reads it: durations, ETAs, progress bars, the run's clock and a stopwatch
of named phases."""
import collections
import contextlib
import time


def duration(seconds):
    """'41s', '2m10s', '1h05m': a duration at the precision a person reads."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def eta(elapsed, done, total):
    """Seconds left when `done` of `total` equal units took `elapsed` seconds (None: unknown)."""
    if done <= 0 or total is None:
        return None
    return elapsed / done * max(0, total - done)


def bar(done, total, width=24):
    """'[#########...............]' for `done` of `total`."""
    filled = int(width * min(done, total) / total) if total else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"


class RunClock:
    """Counts the epochs a process trains towards the `total` it has to train: the run's ETA."""

    def __init__(self, total_epochs):
        self.total = total_epochs
        self.done = 0
        self.start = time.perf_counter()

    def epoch_done(self):
        self.done += 1

    def eta(self):
        return eta(time.perf_counter() - self.start, self.done, self.total)


class Stopwatch:
    """Adds up the wall time of named phases: `with stopwatch("save"): ...`."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)

    @contextlib.contextmanager
    def __call__(self, phase):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start
