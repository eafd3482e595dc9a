"""Progress: durations, ETAs and the in-epoch bar or log lines."""
import io

import numpy as np

from tfprune.core import clock
from tfprune.engine import console
from tfprune.masking.kerases import keras


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _fit(callback, epochs=2):
    k = keras("3")
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2)])
    model.compile(optimizer=k.optimizers.SGD(0.01), loss="mse")
    x, y = np.zeros((40, 3), "float32"), np.zeros((40, 2), "float32")
    model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=[callback])


def test_on_a_terminal_the_bar_redraws_and_clears_and_each_epoch_logs_a_run_eta(monkeypatch):
    terminal, logged = _Terminal(), []
    monkeypatch.setattr(console.logging, "info", lambda fmt, *a: logged.append(fmt % a))
    run_clock = clock.RunClock(total_epochs=4)
    callback = console.Progress("[round 1/3] ", run_clock, stream=terminal)
    monkeypatch.setattr(console.time, "perf_counter", iter(range(0, 10_000, 1)).__next__)
    _fit(callback)
    drawn = terminal.getvalue()
    assert "\r[round 1/3] epoch 1/2 [" in drawn and "/10 " in drawn and "steps/s ETA" in drawn
    assert drawn.endswith("\r\033[K")  # the bar is gone before the epoch line
    assert len(logged) == 2 and logged[0].startswith("[round 1/3] epoch 1/2 loss=")
    assert "run ETA" in logged[0] and run_clock.done == 2


def test_without_a_terminal_long_epochs_log_a_line_every_interval(monkeypatch):
    logged = []
    monkeypatch.setattr(console.logging, "info", lambda fmt, *a: logged.append(fmt % a))
    monkeypatch.setattr(console.time, "perf_counter", iter(range(0, 10_000, 30)).__next__)
    callback = console.Progress("", None, interval=60.0, stream=io.StringIO())
    _fit(callback, epochs=1)
    steps = [line for line in logged if " step " in line]
    assert steps and all("/10 (" in line and "epoch ETA" in line for line in steps)
    assert logged[-1].startswith("epoch 1/1 loss=") and "run ETA" not in logged[-1]
