"""Progress of a run: a line per epoch with the run's ETA, and a live bar within long epochs.

On a terminal the bar (steps, steps/s, ETA of the epoch) redraws in place on stderr; in a log
file (no terminal) a line is logged every `interval` seconds instead, so a long epoch is never
silent.
"""
import sys
import time

from absl import logging

from tfprune.training import callbacks as cb


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
    """Counts the epochs a process trains towards the `total` it has to train; the ETA of the run."""

    def __init__(self, total_epochs):
        self.total = total_epochs
        self.done = 0
        self.start = time.perf_counter()

    def epoch_done(self):
        self.done += 1

    def eta(self):
        return eta(time.perf_counter() - self.start, self.done, self.total)


class Progress(cb.Callback):
    """Logs one line per epoch (metrics, learning rate, seconds, the run's ETA) and shows the
    progress within an epoch: a bar on a terminal, a log line every `interval` seconds otherwise.

    Args:
        prefix: what the lines start with, e.g. "[round 3/10 density 0.5120] ".
        clock: the run's `RunClock` (None: no run ETA).
        interval: seconds between in-epoch log lines when stderr is not a terminal.
        stream: where the bar is drawn (default: sys.stderr, when it is a terminal).
    """

    def __init__(self, prefix="", clock=None, interval=60.0, stream=None):
        super().__init__()
        self.prefix = prefix
        self.clock = clock
        self.interval = interval
        self._stream = stream

    @property
    def stream(self):
        return self._stream or sys.stderr

    def _live(self):
        return self.stream.isatty()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last = time.perf_counter()
        self._drawn = False

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self._last < (0.5 if self._live() else self.interval):
            return
        self._last = now
        steps, total = batch + 1, self.params.get("steps")
        rate = steps / (now - self._start)
        left = eta(now - self._start, steps, total)
        where = f"{self.prefix}epoch {self._epoch + 1}/{self.params.get('epochs', 0)} "
        if self._live():
            shown = f"{bar(steps, total)} {steps}/{total}" if total else f"{steps} steps"
            self.stream.write(f"\r{where}{shown} {rate:.1f} steps/s"
                              + (f" ETA {duration(left)}" if left is not None else "") + "\033[K")
            self.stream.flush()
            self._drawn = True
        else:
            logging.info("%sstep %d/%s (%.1f steps/s%s)", where, steps, total or "?", rate,
                         f", epoch ETA {duration(left)}" if left is not None else "")

    def on_epoch_end(self, epoch, logs=None):
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
        run_eta = ""
        if self.clock is not None:
            self.clock.epoch_done()
            left = self.clock.eta()
            run_eta = f", run ETA {duration(left)}" if left is not None else ""
        items = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        logging.info("%sepoch %d/%d %s lr=%.5f (%.1fs%s)", self.prefix, epoch + 1,
                     self.params.get("epochs", 0), items, cb.current_lr(self.model.optimizer),
                     time.perf_counter() - self._start, run_eta)
