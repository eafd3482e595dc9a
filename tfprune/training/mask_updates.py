"""Masks that change during training, as callbacks for any `fit`: gradual magnitude pruning
(GMP) and dynamic sparse training (SET, RigL). The maths are pure numpy in
`pruning.gradual` and `pruning.dynamic`; these apply it before the steps it names.

Both count optimizer steps (the step at the start of `fit`, plus the batches since, from each
batch's index: no hook after a step, so Keras 3 keeps dispatching steps asynchronously), so a
round resumed mid-way updates at the same steps, and every random draw is seeded by (seed,
step). On JAX, reading `self.model` brings the variables up to date and the next step reads
the new masks (`jax_state_sync`).
"""
import numpy as np
from absl import logging

from tfprune.masking import masked_model
from tfprune.pruning import dynamic
from tfprune.training import gradients, optimizers
from tfprune.training.callbacks import Callback


class _StepCallback(Callback):
    """Calls `update(step)` before every optimizer step `due(step)` names; adds the density
    to each epoch's logs; `updates` lists what each update did."""

    def __init__(self):
        super().__init__()
        self.updates = []

    def due(self, step):
        raise NotImplementedError

    def update(self, step):
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        self._step = int(np.asarray(self.model.optimizer.iterations.numpy()))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._step

    def on_train_batch_begin(self, batch, logs=None):
        # the step from the batch's index: no hook after the step, which would make Keras 3
        # wait for every step's results (no asynchronous dispatch)
        step = self._epoch_start + batch
        if self.due(step):
            self.update(step)
        self._step = step + 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["density"] = masked_model.get_masks(self.model).density


class GradualPruning(_StepCallback):
    """GMP: before each step `schedule` (a `pruning.gradual.Gradual`) updates at, the mask
    is pruned by `strategy` (a pruning-registry function) to the schedule's density there.

    `updates`: (step, density) of each update that pruned.
    """

    def __init__(self, schedule, strategy, seed=(0,)):
        super().__init__()
        self.schedule, self.strategy, self.seed = schedule, strategy, list(seed)

    def due(self, step):
        return self.schedule.updates_at(step)

    def update(self, step):
        model = self.model
        mask = masked_model.get_masks(model)
        fraction = self.schedule.prune_fraction(step, mask.num_weights, mask.num_kept)
        if fraction <= 0:
            return
        new = self.strategy(masked_model.get_kernels(model), mask, fraction,
                            np.random.default_rng(self.seed + [step]))
        masked_model.set_masks(model, new)
        self.updates.append((step, new.density))
        logging.info("gmp at step %d: density %.4f (%d of %d weights)", step, new.density,
                     new.num_kept, new.num_weights)


class DynamicSparsity(_StepCallback):
    """SET (`growth="set"`) or RigL (`"rigl"`): every `every` steps between `begin` and `end`,
    each layer drops the cosine-decaying fraction of its connections with smallest |w| and
    grows as many, at random (SET) or where |dL/dw| on a training batch is largest (RigL,
    from `batches`, an iterable of (x, y) read one batch per update). Grown connections start
    at zero with zero momentum.

    `first_step`: the optimizer step this round began at; a resumed round skips the batches
    its earlier updates read. `updates`: (step, fraction, connections moved) of each.
    """

    def __init__(self, growth, begin, end, every, drop_fraction, seed=(0,), batches=None,
                 first_step=None):
        super().__init__()
        if growth not in dynamic.GROWTH:
            raise ValueError(f"growth must be one of {dynamic.GROWTH}, got {growth!r}")
        if growth == "rigl" and batches is None:
            raise ValueError("RigL grows by gradient: give it training `batches`")
        self.growth, self.begin, self.end, self.every = growth, begin, end, every
        self.drop_fraction, self.seed = drop_fraction, list(seed)
        self.batches, self.first_step = batches, first_step

    def due(self, step):
        return dynamic.updates_at(step, self.begin, self.end, self.every)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.batches is not None:
            self._batches = iter(self.batches)
            first = self._step if self.first_step is None else self.first_step
            for _ in range(sum(self.due(s) for s in range(first, self._step))):
                next(self._batches)

    def update(self, step):
        model = self.model
        mask, kernels = masked_model.get_masks(model), masked_model.get_kernels(model)
        fraction = dynamic.drop_fraction(step, self.begin, self.end, self.drop_fraction)
        if self.growth == "set":
            scores = dynamic.random_scores(mask, np.random.default_rng(self.seed + [step]))
        else:
            x, y = next(self._batches)
            scores = dynamic.gradient_scores(gradients.loss_gradients(model, x, y))
        new = dynamic.drop_and_grow(kernels, mask, fraction, scores)
        grown = {k: new[k] & ~mask[k] for k in mask}
        masked_model.set_masks(model, new)
        masked_model.set_kernels(model, {k: np.where(grown[k], 0, kernels[k]) for k in kernels})
        variables = masked_model.pruning_vars(model)
        for k, entries in grown.items():
            if entries.any():
                optimizers.zero_momentum(model.optimizer, variables[k][0], entries)
        moved = int(sum(g.sum() for g in grown.values()))
        self.updates.append((step, fraction, moved))
        logging.info("%s at step %d: moved %d of %d connections (drop fraction %.4f)",
                     self.growth, step, moved, new.num_kept, fraction)
