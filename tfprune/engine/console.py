"""The console during training: a line per epoch with the run's ETA, a live bar within long
epochs.

On a terminal the bar (steps, steps/s, ETA of the epoch) redraws in place on stderr; in a log
file (no terminal) a line is logged every `interval` seconds instead, so a long epoch is never
silent.
"""
import sys
import time

from absl import logging

from tfprune.core import clock
from tfprune.training import callbacks as cb
from tfprune.training import optimizers


class Progress(cb.Callback):
    """Logs one line per epoch (metrics, learning rate, seconds, the run's ETA) and shows the
    progress within an epoch: a bar on a terminal, a log line every `interval` seconds otherwise.

    Args:
        prefix: what the lines start with, e.g. "[round 3/10 density 0.5120] ".
        clock: the run's `RunClock` (None: no run ETA).
        interval: seconds between in-epoch log lines when stderr is not a terminal.
        stream: where the bar is drawn (default: sys.stderr, when it is a terminal).
    """

    async_safe = True  # reads no logs per batch: Keras 3 need not wait for each step

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
        left = clock.eta(now - self._start, steps, total)
        where = f"{self.prefix}epoch {self._epoch + 1}/{self.params.get('epochs', 0)} "
        if self._live():
            shown = f"{clock.bar(steps, total)} {steps}/{total}" if total else f"{steps} steps"
            eta = f" ETA {clock.duration(left)}" if left is not None else ""
            self.stream.write(f"\r{where}{shown} {rate:.1f} steps/s{eta}\033[K")
            self.stream.flush()
            self._drawn = True
        else:
            logging.info("%sstep %d/%s (%.1f steps/s%s)", where, steps, total or "?", rate,
                         f", epoch ETA {clock.duration(left)}" if left is not None else "")

    def on_epoch_end(self, epoch, logs=None):
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
        run_eta = ""
        if self.clock is not None:
            self.clock.epoch_done()
            left = self.clock.eta()
            run_eta = f", run ETA {clock.duration(left)}" if left is not None else ""
        items = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        logging.info("%sepoch %d/%d %s lr=%.5f (%.1fs%s)", self.prefix, epoch + 1,
                     self.params.get("epochs", 0), items,
                     optimizers.current_lr(self.model.optimizer),
                     time.perf_counter() - self._start, run_eta)
