"""What starts a pruned round, as plain functions on a model: restart the schedule, rewind
weights or BatchNorm to the rewind point, draw new weights, set signs, and save the rewind
point.

The engine calls them before `fit`; the callbacks in `callbacks` call them at the start of a
user's own `fit`.
"""
import numpy as np

from tfprune.core import rundir, signs
from tfprune.masking import masked_model, prunable
from tfprune.training import optimizers
from tfprune.training.state import restore_state, save_state


def restart_schedule(model):
    """LRR: the optimizer's step and momentum are zeroed, so the whole learning-rate schedule,
    warm-up included, replays on the trained weights."""
    optimizers.reset_optimizer(model.optimizer)


def batch_norm_layers(model):
    """The BatchNormalization layers of `model`, nested ones too."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if prunable.builtin_type(layer) in ("BatchNormalization", "SyncBatchNormalization")]


def bn_statistics(model):
    """The BatchNorm running means and variances of `model` (nested layers too)."""
    return [v for layer in batch_norm_layers(model) for v in (layer.moving_mean,
                                                        layer.moving_variance)]


def bn_variables(model):
    """Every BatchNorm variable of `model`: gamma, beta and the running statistics."""
    return [v for layer in batch_norm_layers(model) for v in layer.weights]


def rewind_weights(model, directory, rewind_bn_statistics=False):
    """IMP: every weight, bias, BatchNorm gamma/beta and the optimizer state (momentum and step,
    so the schedule resumes at the rewind point) go back to the rewind point saved in
    `directory`; the current masks are kept and the pruned weights zeroed. BatchNorm running
    statistics are kept unless `rewind_bn_statistics`."""
    keep = [m for _, m in masked_model.pruning_vars(model).values()]
    if not rewind_bn_statistics:
        keep += bn_statistics(model)
    restore_state(model, directory, keep=keep)
    masked_model.apply_masks(model)


def rewind_batch_norm(model, directory):
    """BN rewind (LRR or FT with --rewind_bn): BatchNorm gamma, beta and running statistics and
    the optimizer's slots go back to the rewind point in `directory`; every other weight, and
    the optimizer's step (the schedule position the method chose), is kept."""
    rewound = {id(v) for v in bn_variables(model)}
    keep = [v for v in model.variables if id(v) not in rewound]
    restore_state(model, directory, keep=keep + [model.optimizer.iterations])


def reinitialize(model, fresh):
    """--reinit: `model`'s trainable weights and BatchNorm running statistics take the values
    of `fresh` (a newly built model of the same architecture, drawn at another seed); the
    optimizer's slots are zeroed and its step, where the method put the schedule, is kept.
    The masks are not touched: apply them after."""
    pairs = (list(zip(model.trainable_weights, fresh.trainable_weights))
             + list(zip(bn_statistics(model), bn_statistics(fresh))))
    if (len(model.trainable_weights) != len(fresh.trainable_weights)
            or any(tuple(v.shape) != tuple(f.shape) for v, f in pairs)):
        raise ValueError(f"--reinit: a new {model.name!r} does not have the model's weights "
                         "(a model function that builds another architecture each call?)")
    for variable, new in pairs:
        variable.assign(np.asarray(new.numpy()))
    iterations = model.optimizer.iterations
    step = np.asarray(iterations.numpy())
    optimizers.reset_optimizer(model.optimizer)
    iterations.assign(step)


def set_signs(model, signs_of, shuffle_rng=None):
    """The surviving weights take the signs of `signs_of` ({name: array}, e.g. another run's
    kernels); with `shuffle_rng`, their magnitudes are shuffled within each layer."""
    kernels = signs.with_signs(masked_model.get_kernels(model), signs_of,
                               masked_model.get_masks(model), shuffle_rng)
    masked_model.set_kernels(model, kernels)


def save_rewind_point(model, directory, epoch):
    """Saves the rewind point, the state after `epoch` epochs, into `directory`: the state
    folder, the prunable kernels (analyses read them without a model) and the epoch. Returns
    the kernels."""
    kernels = masked_model.get_kernels(model)
    save_state(model, directory, extra={rundir.KERNELS_NPZ: kernels,
                                        rundir.REWIND_JSON: {"epoch": epoch}})
    return kernels

