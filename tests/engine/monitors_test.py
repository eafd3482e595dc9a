"""The engine's monitors: a diverged epoch stops with its record, epoch checkpoints resume."""
import numpy as np
import pytest

from tfprune.core import rundir
from tfprune.engine import monitors
from tfprune.masking import masked_model
from tfprune.training import callbacks as cb

from tiny import compiled, data


def test_non_finite_weights_stop_training_even_when_the_loss_looks_finite():
    model = compiled()
    kernel = next(iter(masked_model.pruning_vars(model).values()))[0]
    stop = monitors.StopIfDiverged("round 3 of runs/x: ", "--finetune_lr")
    stop.set_model(model)
    stop.on_epoch_end(0, {"loss": 1.0})  # all finite: nothing happens
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    with pytest.raises(monitors.TrainingDiverged) as error:
        stop.on_epoch_end(1, {"loss": 1.0})
    message = str(error.value)
    assert message.startswith("round 3 of runs/x: training diverged after epoch 2")
    assert "non-finite weights in " in message and "lower --finetune_lr" in message
    record = error.value.record()
    assert record["epoch"] == 2 and record["loss"] == "1.0"
    assert len(record["nonfinite"]) == 1 and "kernel" in record["nonfinite"][0]


@pytest.mark.slow
def test_epoch_checkpoints_hold_the_state_and_progress_a_round_goes_on_from(tmp_path):
    model, folder = compiled(), str(tmp_path / "resume")
    flips = cb.SignFlips()
    model.fit(data(), epochs=3, verbose=0,
              callbacks=[flips, monitors.EpochCheckpoint(folder, flips, every=2)])
    progress = rundir.read_progress(folder)
    assert progress["epoch"] == 2 and len(progress["sign_flips_per_epoch"]) == 2
    assert set(progress["logs"]) >= {"loss", "sign_flips"}


@pytest.mark.slow
def test_the_step_timer_times_every_step():
    timer = monitors.StepTimer()
    compiled().fit(data(), epochs=2, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 8 and min(timer.seconds) > 0
