"""Keras callbacks that turn any `model.fit` into one round of IMP, LRR or FT.

Put them in your own `fit` call, in this order:
    `RewindWeights` (IMP) or `RestartSchedule` (LRR) (FT: neither), then `KeepMasks`.
"""
import os
import time

import keras as keras3
import numpy as np
import tf_keras
from absl import logging

from tfprune.core import analysis, faults, files, signs
from tfprune.masking import kerases, masked_model, prunable
from tfprune.masking.kerases import tf
from tfprune.training.state import inner_optimizer, restore_state, save_state


class Callback(keras3.callbacks.Callback, tf_keras.callbacks.Callback):
    """A callback that both Kerases' `fit` accept (Keras 3's base first: on JAX, its
    `self.model` brings the model's variables up to date before a callback reads them)."""

    def __init__(self):
        keras3.callbacks.Callback.__init__(self)
        self.validation_data = None
        self._chief_worker_only = None
        self._supports_tf_logs = False


class KeepMasks(Callback):
    """Holds the masks fixed: pruned weights are exactly zero after every epoch.

    tf_keras: momentum and weight decay move pruned weights between steps; tfmot's
    wrapper zeroes them again before every forward pass, and this callback after every
    epoch and at the end, so evaluation, checkpoints and exports see exact zeros.
    Keras 3: the masks' constraints already zero them after every step; the callback
    matters only at the start (weights assigned from outside).
    """

    def on_train_begin(self, logs=None):
        masked_model.apply_masks(self.model)

    def on_epoch_end(self, epoch, logs=None):
        masked_model.apply_masks(self.model)

    def on_train_end(self, logs=None):
        masked_model.apply_masks(self.model)


def current_lr(optimizer):
    """The learning rate of the last step, as a float (also for distributed variables).

    tf_keras reports a schedule at the last step; Keras 3 at the next one, so for Keras 3 the
    schedule is evaluated one step back (both Kerases then log the same rate per epoch).
    """
    if kerases.of(optimizer) == kerases.KERAS2:
        return float(tf_keras.backend.get_value(optimizer.learning_rate))
    inner = inner_optimizer(optimizer)
    schedule = getattr(inner, "_learning_rate", None)
    if isinstance(schedule, keras3.optimizers.schedules.LearningRateSchedule):
        return float(keras3.ops.convert_to_numpy(
            schedule(keras3.ops.maximum(inner.iterations - 1, 0))))
    return float(keras3.ops.convert_to_numpy(optimizer.learning_rate))


def _numpy(variable):
    return np.asarray(variable.numpy())


def reset_optimizer(optimizer):
    """Zeroes the optimizer's step and slots (momentum): a fresh optimizer, no retrace.

    A loss-scale optimizer's own scale, and a learning rate held in a variable, are
    left alone.
    """
    inner = inner_optimizer(optimizer)
    rate = getattr(inner, "_learning_rate", None)
    for variable in inner.variables:
        if variable is not rate:
            variable.assign(np.zeros_like(_numpy(variable)))


class RestartSchedule(Callback):
    """LRR: at the start of `fit`, the learning-rate schedule restarts from step 0.

    The optimizer's step and momentum are zeroed, so the whole schedule, warm-up
    included, is replayed on the trained weights.
    """

    def on_train_begin(self, logs=None):
        reset_optimizer(self.model.optimizer)


def _batch_norms(model):
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if prunable.builtin_type(layer) in ("BatchNormalization", "SyncBatchNormalization")]


def bn_statistics(model):
    """The BatchNorm running means and variances of `model` (nested layers too)."""
    return [v for layer in _batch_norms(model) for v in (layer.moving_mean,
                                                        layer.moving_variance)]


def bn_variables(model):
    """Every BatchNorm variable of `model`: gamma, beta and the running statistics."""
    return [v for layer in _batch_norms(model) for v in layer.weights]


REWIND_JSON = "rewind.json"  # {"epoch": the rewind point's epoch}


class RewindWeights(Callback):
    """IMP: at the start of `fit`, surviving weights go back to the rewind point.

    Restores every weight, bias, BatchNorm gamma/beta and the optimizer state
    (momentum and step, so the schedule resumes where the rewind point was) from
    the checkpoint in `directory`, keeps the current masks, then zeroes the pruned
    weights. BatchNorm running statistics are kept unless `rewind_bn_statistics`.
    """

    def __init__(self, directory, rewind_bn_statistics=False):
        super().__init__()
        self.directory = directory
        self.rewind_bn_statistics = rewind_bn_statistics

    def on_train_begin(self, logs=None):
        keep = [m for _, m in masked_model.pruning_vars(self.model).values()]
        if not self.rewind_bn_statistics:
            keep += bn_statistics(self.model)
        restore_state(self.model, self.directory, keep=keep)
        masked_model.apply_masks(self.model)
        point = os.path.join(self.directory, REWIND_JSON)
        self._rewind_epoch = files.read_json(point)["epoch"] if os.path.exists(point) else None

    def on_epoch_begin(self, epoch, logs=None):
        rewind, self._rewind_epoch = self._rewind_epoch, None  # checked at the first epoch
        if rewind is not None and epoch != rewind:
            logging.warning(
                "IMP round starts at epoch %d, but the rewind point is the state after epoch "
                "%d: the schedule resumes there, so pass initial_epoch=%d to fit() to train "
                "as many epochs as the dense round did after it", epoch, rewind, rewind)


class SaveRewindPoint(Callback):
    """Saves the rewind point: the state after `epoch` epochs (0 = before training).

    `directory` receives the state (see `state.save_state`), `kernels.npz` and `rewind.json`.
    """

    def __init__(self, directory, epoch):
        super().__init__()
        self.directory = directory
        self.epoch = epoch

    def on_train_begin(self, logs=None):
        epochs = (self.params or {}).get("epochs")
        if epochs is not None and self.epoch > epochs:
            raise ValueError(f"SaveRewindPoint(epoch={self.epoch}) is past the end of "
                             f"training ({epochs} epochs): the rewind point would never be "
                             f"saved; use an epoch in [0, {epochs}]")
        if self.epoch == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            self._save()

    def _save(self):
        save_state(self.model, self.directory, with_kernels=True,
                   extra_json={REWIND_JSON: {"epoch": self.epoch}})


class RewindBatchNorm(Callback):
    """LRR or FT with BN rewind (--rewind_bn): at the start of `fit`, BatchNorm gamma, beta and running
    statistics and the optimizer's slots go back to the rewind point in `directory`;
    every other weight, and the optimizer's step (so the schedule position the method
    chose), is kept."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_train_begin(self, logs=None):
        rewound = {id(v) for v in bn_variables(self.model)}
        keep = [v for v in self.model.variables if id(v) not in rewound]
        restore_state(self.model, self.directory, keep=keep + [self.model.optimizer.iterations])


class SetSigns(Callback):
    """At the start of `fit`, the surviving weights take the signs of `signs_of`.

    Args:
        signs_of: {name: array} whose signs are taken (e.g. another run's kernels).
        shuffle_rng: if given, the surviving magnitudes are shuffled within each layer.
    """

    def __init__(self, signs_of, shuffle_rng=None):
        super().__init__()
        self.signs_of = signs_of
        self.shuffle_rng = shuffle_rng

    def on_train_begin(self, logs=None):
        kernels = signs.with_signs(masked_model.get_kernels(self.model), self.signs_of,
                                   masked_model.get_masks(self.model), self.shuffle_rng)
        masked_model.set_kernels(self.model, kernels)


class PerturbSigns(Callback):
    """Every `every` epochs, flips each surviving weight's sign with `probability`.

    `flipped` collects (epoch, weights flipped, surviving weights) per perturbation.
    The random draw of epoch e is seeded by (*seed, e), so a resumed round repeats it.
    """

    def __init__(self, probability, every, seed):
        super().__init__()
        self.probability = probability
        self.every = every
        self.seed = list(seed)
        self.flipped = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        mask = masked_model.get_masks(self.model)
        rng = np.random.default_rng(self.seed + [epoch])
        kernels, count = signs.perturb(masked_model.get_kernels(self.model), mask,
                                       self.probability, rng)
        masked_model.set_kernels(self.model, kernels)
        self.flipped.append((epoch, count, mask.num_kept))
        logging.info("perturbed the signs of %d of %d surviving weights", count, mask.num_kept)


class FixSigns(Callback):
    """Fixed-sign training: after every step, w <- |w| * sign(w at the start of `fit`)."""

    def on_train_begin(self, logs=None):
        pairs = [(w, np.sign(_numpy(w))) for w, _ in masked_model.pruning_vars(self.model).values()]
        if kerases.of(self.model) == kerases.KERAS2:
            pairs = [(w, tf.constant(s, w.dtype)) for w, s in pairs]
            self._project = tf.function(lambda: [w.assign(tf.abs(w) * s) for w, s in pairs])
        else:
            ops = keras3.ops
            self._project = lambda: [w.assign(ops.abs(w) * ops.cast(s, w.dtype))
                                     for w, s in pairs]

    def on_train_batch_end(self, batch, logs=None):
        self._project()


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


class EpochCheckpoint(Callback):
    """After every `every`-th epoch, saves the whole state into `directory` (atomically), with
    `progress.json`: the epochs done, the epoch's logs and `sign_flips.per_epoch`, so that
    a killed round resumes from its last saved epoch (see `experiment`)."""

    def __init__(self, directory, sign_flips, every=1):
        super().__init__()
        self.directory = directory
        self.sign_flips = sign_flips
        self.every = every  # 0: never

    def on_epoch_end(self, epoch, logs=None):
        if not self.every or (epoch + 1) % self.every:
            return
        progress = {"epoch": epoch + 1, "logs": {k: float(v) for k, v in (logs or {}).items()},
                    "sign_flips_per_epoch": self.sign_flips.per_epoch}
        save_state(self.model, self.directory, extra_json={"progress.json": progress})
        faults.stage(f"epoch_checkpoint:{os.path.basename(os.path.dirname(self.directory))}:"
                     f"{epoch + 1}")


class SignFlips(Callback):
    """Adds `sign_flips` to each epoch's logs: the fraction of surviving weights whose
    sign changed since the previous epoch (since the start for the first epoch).

    Put it before the callbacks that read the logs (`progress.Progress`, `summaries.EpochSummaries`).
    """

    def __init__(self, per_epoch=()):
        super().__init__()
        self.per_epoch = list(per_epoch)  # a resumed round passes the epochs it already has

    def on_train_begin(self, logs=None):
        self._mask = masked_model.get_masks(self.model)
        self._previous = masked_model.get_kernels(self.model)

    def on_epoch_end(self, epoch, logs=None):
        kernels = masked_model.get_kernels(self.model)
        flips = analysis.sign_flips(self._previous, kernels, self._mask)["global"]
        self.per_epoch.append(flips)
        self._previous = kernels
        if logs is not None:
            logs["sign_flips"] = flips


class StepTimer(Callback):
    """Records the wall time of every training step (for benchmarks; adds a sync per step)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
