"""Keras callbacks that turn any `model.fit` into one round of IMP, LRR or FT.

Put them in your own `fit` call, in this order:
    `RewindWeights` (IMP) or `RestartSchedule` (LRR), then `KeepMasks`.
"""
import time

import numpy as np
from absl import logging

from tfprune import masking
from tfprune.backend import keras, tf


class KeepMasks(keras.callbacks.Callback):
    """Holds the masks fixed: pruned weights are exactly zero after every epoch.

    Momentum and weight decay move pruned weights between steps; tfmot's wrapper
    zeroes them again before every forward pass, and this callback after every
    epoch and at the end, so evaluation, checkpoints and exports see exact zeros.
    """

    def on_train_begin(self, logs=None):
        masking.apply_masks(self.model)

    def on_epoch_end(self, epoch, logs=None):
        masking.apply_masks(self.model)

    def on_train_end(self, logs=None):
        masking.apply_masks(self.model)


def reset_optimizer(optimizer):
    """Zeroes the optimizer's step and slots (momentum): a fresh optimizer, no retrace."""
    for variable in optimizer.variables:
        variable.assign(tf.zeros_like(variable))


class RestartSchedule(keras.callbacks.Callback):
    """LRR: at the start of `fit`, the learning-rate schedule restarts from step 0.

    The optimizer's step and momentum are zeroed, so the whole schedule, warm-up
    included, is replayed on the trained weights.
    """

    def on_train_begin(self, logs=None):
        reset_optimizer(self.model.optimizer)


def _checkpoint(model):
    return tf.train.Checkpoint(model=model, optimizer=model.optimizer)


def save_state(model, prefix):
    """Writes weights and optimizer state (its slots built first) to `prefix`."""
    model.optimizer.build(model.trainable_variables)
    return _checkpoint(model).write(prefix)


def restore_state(model, prefix, keep=()):
    """Restores weights and optimizer state from `prefix`, except the variables in `keep`."""
    model.optimizer.build(model.trainable_variables)
    kept = [(v, v.numpy()) for v in keep]
    _checkpoint(model).read(prefix).assert_existing_objects_matched().expect_partial()
    for variable, value in kept:
        variable.assign(value)


def bn_statistics(model):
    """The BatchNorm running means and variances of `model`."""
    return [v for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
            for v in (layer.moving_mean, layer.moving_variance)]


class RewindWeights(keras.callbacks.Callback):
    """IMP: at the start of `fit`, surviving weights go back to the rewind point.

    Restores every weight, bias, BatchNorm gamma/beta and the optimizer state
    (momentum and step, so the schedule resumes where the rewind point was) from
    the checkpoint at `prefix`, keeps the current masks, then zeroes the pruned
    weights. BatchNorm running statistics are kept unless `rewind_bn_statistics`.
    """

    def __init__(self, prefix, rewind_bn_statistics=False):
        super().__init__()
        self.prefix = prefix
        self.rewind_bn_statistics = rewind_bn_statistics

    def on_train_begin(self, logs=None):
        keep = [m for _, m in masking.pruning_vars(self.model).values()]
        if not self.rewind_bn_statistics:
            keep += bn_statistics(self.model)
        restore_state(self.model, self.prefix, keep=keep)
        masking.apply_masks(self.model)


class SaveRewindPoint(keras.callbacks.Callback):
    """Saves the rewind point: the state after `epoch` epochs (0 = before training)."""

    def __init__(self, prefix, epoch):
        super().__init__()
        self.prefix = prefix
        self.epoch = epoch

    def on_train_begin(self, logs=None):
        if self.epoch == 0:
            save_state(self.model, self.prefix)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            save_state(self.model, self.prefix)


class Progress(keras.callbacks.Callback):
    """Logs one line per epoch: losses, accuracy, learning rate and seconds."""

    def __init__(self, prefix=""):
        super().__init__()
        self.prefix = prefix

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        lr = float(np.asarray(self.model.optimizer.learning_rate))
        items = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        logging.info("%sepoch %d/%d %s lr=%.5f (%.1fs)", self.prefix, epoch + 1,
                     self.params.get("epochs", 0), items, lr, time.perf_counter() - self._start)


class StepTimer(keras.callbacks.Callback):
    """Records the wall time of every training step (for benchmarks; adds a sync per step)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
