"""Keras callbacks that turn any `model.fit` into one round of IMP, LRR or FT.

Put them in your own `fit` call, in this order:
    `RewindWeights` (IMP) or `RestartSchedule` (LRR) (FT: neither), then `KeepMasks`.

Each is a thin wrapper over a function of `starts` (what starts a round) or `masked_model`;
the engine calls the same functions before its own `fit`.
"""
import keras as keras3
import numpy as np
import tf_keras
from absl import logging

from tfprune.core import analysis, rundir, signs
from tfprune.masking import kerases, masked_model
from tfprune.masking.kerases import tf
from tfprune.training import starts


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
        self._again()

    def on_train_end(self, logs=None):
        self._again()

    def _again(self):
        if kerases.of(self.model) == kerases.KERAS2:  # Keras 3's constraints already did
            masked_model.apply_masks(self.model)


class RestartSchedule(Callback):
    """LRR: at the start of `fit`, the learning-rate schedule restarts from step 0
    (`starts.restart_schedule`)."""

    def on_train_begin(self, logs=None):
        starts.restart_schedule(self.model)


class RewindWeights(Callback):
    """IMP: at the start of `fit`, surviving weights go back to the rewind point saved in
    `directory` (`starts.rewind_weights`), with the optimizer state; BatchNorm running
    statistics are kept unless `rewind_bn_statistics`."""

    def __init__(self, directory, rewind_bn_statistics=False):
        super().__init__()
        self.directory = directory
        self.rewind_bn_statistics = rewind_bn_statistics

    def on_train_begin(self, logs=None):
        starts.rewind_weights(self.model, self.directory, self.rewind_bn_statistics)
        self._rewind_epoch = rundir.read_rewind_epoch(self.directory)

    def on_epoch_begin(self, epoch, logs=None):
        rewind, self._rewind_epoch = self._rewind_epoch, None  # checked at the first epoch
        if rewind is not None and epoch != rewind:
            logging.warning(
                "IMP round starts at epoch %d, but the rewind point is the state after epoch "
                "%d: the schedule resumes there, so pass initial_epoch=%d to fit() to train "
                "as many epochs as the dense round did after it", epoch, rewind, rewind)


class SaveRewindPoint(Callback):
    """Saves the rewind point, the state after `epoch` epochs (0 = before training), into
    `directory` (`starts.save_rewind_point`); `kernels` holds its prunable kernels once saved."""

    def __init__(self, directory, epoch):
        super().__init__()
        self.directory = directory
        self.epoch = epoch
        self.kernels = None

    def on_train_begin(self, logs=None):
        epochs = (self.params or {}).get("epochs")
        if epochs is not None and self.epoch > epochs:
            raise ValueError(f"SaveRewindPoint(epoch={self.epoch}) is past the end of "
                             f"training ({epochs} epochs): the rewind point would never be "
                             f"saved; use an epoch in [0, {epochs}]")
        if self.epoch == 0:
            self.kernels = starts.save_rewind_point(self.model, self.directory, self.epoch)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            self.kernels = starts.save_rewind_point(self.model, self.directory, self.epoch)


class RewindBatchNorm(Callback):
    """BN rewind (--rewind_bn): at the start of `fit`, BatchNorm and the optimizer's slots go
    back to the rewind point in `directory` (`starts.rewind_batch_norm`)."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_train_begin(self, logs=None):
        starts.rewind_batch_norm(self.model, self.directory)


class SetSigns(Callback):
    """At the start of `fit`, the surviving weights take the signs of `signs_of`
    (`starts.set_signs`).

    Args:
        signs_of: {name: array} whose signs are taken (e.g. another run's kernels).
        shuffle_rng: if given, the surviving magnitudes are shuffled within each layer.
    """

    def __init__(self, signs_of, shuffle_rng=None):
        super().__init__()
        self.signs_of = signs_of
        self.shuffle_rng = shuffle_rng

    def on_train_begin(self, logs=None):
        starts.set_signs(self.model, self.signs_of, self.shuffle_rng)


class PerturbSigns(Callback):
    """Every `every` epochs, flips each surviving weight's sign with `probability`; never after
    the last epoch of a `fit` (a perturbation is for training to recover from, and the round's
    network is measured right after that epoch).

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
        if (epoch + 1) % self.every or epoch + 1 >= self.params.get("epochs", epoch + 2):
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
        pairs = [(w, np.sign(np.asarray(w.numpy())))
                 for w, _ in masked_model.pruning_vars(self.model).values()]
        if kerases.of(self.model) == kerases.KERAS2:
            pairs = [(w, tf.constant(s, w.dtype)) for w, s in pairs]
            self._project = tf.function(lambda: [w.assign(tf.abs(w) * s) for w, s in pairs])
        else:
            ops = keras3.ops
            self._project = lambda: [w.assign(ops.abs(w) * ops.cast(s, w.dtype))
                                     for w, s in pairs]

    def on_train_batch_end(self, batch, logs=None):
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:  # JAX holds the step's state apart from the variables during fit
            sync()
        self._project()


class SignFlips(Callback):
    """Adds `sign_flips` to each epoch's logs: the fraction of surviving weights whose
    sign changed since the previous epoch (since the start for the first epoch); a weight
    counts if the mask keeps it at both ends (masks may move during training: SET, RigL).

    Put it before the callbacks that read the logs (the engine's console and TensorBoard).
    """

    def __init__(self, per_epoch=()):
        super().__init__()
        self.per_epoch = list(per_epoch)  # a resumed round passes the epochs it already has

    def on_train_begin(self, logs=None):
        self._mask = masked_model.get_masks(self.model)
        self._previous = masked_model.get_kernels(self.model)

    def on_epoch_end(self, epoch, logs=None):
        kernels, mask = masked_model.get_kernels(self.model), masked_model.get_masks(self.model)
        both = {k: mask[k] & self._mask[k] for k in mask}
        flips = analysis.sign_flips(self._previous, kernels, both)["global"]
        self.per_epoch.append(flips)
        self._previous, self._mask = kernels, mask
        if logs is not None:
            logs["sign_flips"] = flips
