"""Learning-rate schedules of a pruning round: warm-up, then step drops or cosine.

A schedule is a function of the optimizer's step, so "where the schedule
restarts" is decided by the optimizer state alone: LRR zeroes the step (the
whole schedule, warm-up included, replays), IMP restores the step of the rewind
point, and fine-tuning keeps counting past the end of the round, where every
schedule here returns the fixed fine-tuning rate.
"""
import math

import numpy as np

import keras as keras3
import tf_keras

from tfprune.masking.kerases import tf

# The paper drops the rate at epochs 70 and 130 of 150; shorter rounds scale these.
PAPER_DROPS = (70 / 150, 130 / 150)


@keras3.saving.register_keras_serializable(package="tfprune")
@tf_keras.utils.register_keras_serializable(package="tfprune")
class RoundSchedule(keras3.optimizers.schedules.LearningRateSchedule,
                    tf_keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then step drops or cosine decay; `finetune_lr` after the end.

    An optimizer of either Keras takes it (on Keras 3, on any backend).

    Args:
        lr: peak learning rate, reached at the end of the warm-up.
        steps_per_epoch: optimizer steps in one epoch.
        epochs: epochs of one round; the schedule ends after `epochs * steps_per_epoch`.
        warmup_epochs: epochs of linear warm-up from lr / warmup_steps up to lr.
        kind: "step" (multiply by `factor` at each fraction in `drops` of the round)
            or "cosine" (from lr down to `finetune_lr` at the end of the round).
        finetune_lr: the rate at and after the end of the round (fine-tuning).
        drops: fractions of the round at which "step" drops the rate.
        factor: the multiplier applied at each drop.

    Example:
        >>> s = RoundSchedule(0.1, steps_per_epoch=10, epochs=15, warmup_epochs=1)
        >>> [round(float(s(step)), 6) for step in (0, 9, 10 * 14, 10 * 15)]
        [0.01, 0.1, 0.001, 0.001]
    """

    KINDS = ("step", "cosine")

    def __init__(self, lr, steps_per_epoch, epochs, warmup_epochs=0, kind="step",
                 finetune_lr=None, drops=PAPER_DROPS, factor=0.1):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"unknown schedule {kind!r}; valid: {', '.join(self.KINDS)}")
        if steps_per_epoch < 1 or epochs < 1 or not 0 <= warmup_epochs <= epochs:
            raise ValueError(f"need steps_per_epoch >= 1, epochs >= 1 and 0 <= warmup_epochs "
                             f"<= epochs; got {steps_per_epoch}, {epochs}, {warmup_epochs}")
        self.lr = float(lr)
        self.steps_per_epoch = int(steps_per_epoch)
        self.epochs = int(epochs)
        self.warmup_epochs = int(warmup_epochs)
        self.kind = kind
        self.factor = float(factor)
        self.drops = tuple(float(d) for d in drops)
        self.finetune_lr = (self.lr * self.factor ** len(self.drops)
                            if finetune_lr is None else float(finetune_lr))

    @property
    def total_steps(self):
        return self.epochs * self.steps_per_epoch

    def __call__(self, step):
        if isinstance(step, keras3.Variable):
            ops = _Ops(keras3.ops)
        else:  # a number (logs, reports) is computed in numpy: no op dispatched to a backend
            ops = _Ops(np) if isinstance(step, (int, np.integer)) else _Ops(tf)
        step = ops.cast(step, "float32")
        warmup = float(self.warmup_epochs * self.steps_per_epoch)
        total = float(self.total_steps)
        if self.kind == "step":
            boundaries = [round(d * self.epochs) * self.steps_per_epoch for d in self.drops]
            decayed = ops.cast(self.lr, "float32")
            for b in boundaries:
                decayed = ops.where(step >= float(b), decayed * self.factor, decayed)
        else:
            progress = ops.clip((step - warmup) / max(total - warmup, 1.0), 0.0, 1.0)
            decayed = self.finetune_lr + 0.5 * (self.lr - self.finetune_lr) * (
                1.0 + ops.cos(math.pi * progress))
        if warmup > 0:
            decayed = ops.where(step < warmup, self.lr * (step + 1.0) / warmup, decayed)
        return ops.where(step >= total, self.finetune_lr, decayed)

    def get_config(self):
        return dict(lr=self.lr, steps_per_epoch=self.steps_per_epoch, epochs=self.epochs,
                    warmup_epochs=self.warmup_epochs, kind=self.kind,
                    finetune_lr=self.finetune_lr, drops=self.drops, factor=self.factor)


class _Ops:
    """The few tensor functions the schedule uses, from TensorFlow or keras.ops."""

    def __init__(self, module):
        self.module = module
        self.where, self.cos = module.where, module.cos
        self.clip = module.clip_by_value if module is tf else module.clip

    def cast(self, x, dtype):
        if self.module is np:
            return np.float32(x)
        return self.module.cast(x, dtype)
