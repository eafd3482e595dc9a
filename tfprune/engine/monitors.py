"""What the engine adds to every `fit` to watch a round: the divergence check, the epoch
checkpoint that a killed round resumes from, and a step timer for benchmarks."""
import os
import time

import numpy as np

from tfprune.core import faults, rundir
from tfprune.masking import masked_model
from tfprune.training.callbacks import Callback
from tfprune.training.state import save_state


class TrainingDiverged(ValueError):
    """Training stopped being finite after `epoch` epochs: its `loss`, and the names of the
    trainable variables holding NaN or infinite values (`nonfinite`)."""

    def __init__(self, message, epoch=None, loss=None, nonfinite=()):
        super().__init__(message)
        self.epoch, self.loss, self.nonfinite = epoch, loss, list(nonfinite)

    def record(self):
        """What the run directory keeps of it (round_XX/diverged.json)."""
        record = {"epoch": self.epoch, "loss": str(self.loss)}
        if self.nonfinite:
            record["nonfinite"] = self.nonfinite
        return record


def nonfinite_variables(model):
    """The names of `model`'s trainable variables that hold a NaN or an infinity."""
    return [_variable_name(v) for v in model.trainable_variables
            if not np.all(np.isfinite(np.asarray(v.numpy())))]


def _variable_name(variable):
    return getattr(variable, "path", None) or variable.name.split(":")[0]


class StopIfDiverged(Callback):
    """Raises `TrainingDiverged` at the end of an epoch whose loss or weights are not finite.

    The weights are checked as well as the loss: how NaN passes through an activation
    differs between CPUs (a ReLU may turn it into 0), so NaN weights can leave the loss
    finite while the model is lost.

    Args:
        where: what the message starts with (e.g. which round of which run).
        lr_flag: the flag of the learning rate that this training uses.
    """

    def __init__(self, where="", lr_flag="--lr"):
        super().__init__()
        self.where, self.lr_flag = where, lr_flag

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        bad_loss = loss is not None and not np.isfinite(loss)
        nonfinite = nonfinite_variables(self.model)
        if not (bad_loss or nonfinite):
            return
        reasons = [f"the training loss is {loss}"] if bad_loss else []
        if nonfinite:
            more = f" and {len(nonfinite) - 3} more" if len(nonfinite) > 3 else ""
            reasons.append(f"non-finite weights in {', '.join(nonfinite[:3])}{more}")
        raise TrainingDiverged(
            f"{self.where}training diverged after epoch {epoch + 1} ({'; '.join(reasons)}); "
            f"run the same command with a lower {self.lr_flag} (or other --warmup_epochs, "
            "--momentum, ...) to retrain this round from its start",
            epoch=epoch + 1, loss=None if loss is None else float(loss), nonfinite=nonfinite)


def save_resume_point(model, directory, epoch, logs=None, sign_flips_per_epoch=()):
    """Saves the whole state into the resume folder `directory` (atomically) with
    progress.json (the epochs done, the last epoch's logs and the sign flips per epoch) and
    mask.npz (the masks then: GMP, SET and RigL change them mid-round, and a Keras 3 state
    holds no masks)."""
    progress = {"epoch": epoch, "logs": {k: float(v) for k, v in (logs or {}).items()},
                "sign_flips_per_epoch": list(sign_flips_per_epoch)}
    masks = masked_model.get_masks(model)
    save_state(model, directory, extra={rundir.PROGRESS_JSON: progress,
                                        rundir.MASK_NPZ: {k: masks[k] for k in masks}})


class EpochCheckpoint(Callback):
    """After every `every`-th epoch, saves a resume point into `directory`
    (`save_resume_point`), so that a killed round resumes from its last saved epoch."""

    def __init__(self, directory, sign_flips, every=1):
        super().__init__()
        self.directory = directory
        self.sign_flips = sign_flips
        self.every = every  # 0: never

    def on_epoch_end(self, epoch, logs=None):
        if not self.every or (epoch + 1) % self.every:
            return
        save_resume_point(self.model, self.directory, epoch + 1, logs, self.sign_flips.per_epoch)
        faults.stage(f"epoch_checkpoint:{os.path.basename(os.path.dirname(self.directory))}:"
                     f"{epoch + 1}")


class EpochTimer(Callback):
    """Records the wall time of every epoch, its epoch-end callbacks included when it comes
    last (for benchmarks)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


class StepTimer(Callback):
    """Records the wall time of every training step (for benchmarks; adds a sync per step)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
