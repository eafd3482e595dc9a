"""Fixed masks held in tfmot's prune_low_magnitude wrappers, set by tfprune.

tfmot's wrapper multiplies each prunable kernel by its mask before every
forward pass; tfprune gives it a schedule that never recomputes the mask, so
the mask stays exactly what `set_masks` assigned. Weights are keyed by a stable
name, "<layer name>/<weight name>" (e.g. "fc/kernel").
"""
import numpy as np
from tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper import (
    PruneLowMagnitude as _Wrapper)

from tfprune.backend import keras, tf, tfmot
from tfprune.mask import Mask
from tfprune.pruning import registry as pruning

PRUNABLE_TYPES = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D,
                  keras.layers.Conv3D)


class FixedMask(tfmot.sparsity.keras.PruningSchedule):
    """A tfmot pruning schedule that never updates the mask."""

    def __call__(self, step):
        return tf.constant(False), tf.constant(0.0)

    def get_config(self):
        return {"class_name": self.__class__.__name__, "config": {}}


def wrap(model, ignore=()):
    """Returns `model` rebuilt with every conv and dense layer in a mask wrapper.

    The new model reuses the layers (and so the weights) of `model`.

    Args:
        model: a functional or Sequential tf_keras model.
        ignore: names of conv/dense layers to leave dense (never pruned).

    Example:
        >>> model = wrap(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="fc")]))
        >>> list(get_masks(model))
        ['fc/kernel']
    """
    ignore = set(ignore)
    present = {layer.name for layer in model.layers}
    if ignore - present:
        raise ValueError(f"layers to ignore not in the model: {sorted(ignore - present)}; "
                         f"layers: {sorted(present)}")

    def clone(layer):
        if isinstance(layer, PRUNABLE_TYPES) and layer.name not in ignore:
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=FixedMask())
        return layer

    wrapped = keras.models.clone_model(model, clone_function=clone)
    if not _wrappers(wrapped):
        raise ValueError(f"model {model.name!r} has no conv or dense layer to prune")
    return wrapped


def _wrappers(model):
    return [layer for layer in model.layers if isinstance(layer, _Wrapper)]


def _key(wrapper, weight):
    return f"{wrapper.layer.name}/{weight.name.split('/')[-1].split(':')[0]}"


def pruning_vars(model):
    """Returns {stable name: (kernel variable, mask variable)} of a wrapped model."""
    out = {}
    for wrapper in _wrappers(model):
        if not wrapper.built:
            raise ValueError(f"layer {wrapper.name} is not built; call the model once first")
        for weight, mask, _ in wrapper.pruning_vars:
            out[_key(wrapper, weight)] = (weight, mask)
    return out


def get_kernels(model):
    """Returns {name: np.ndarray} of the prunable kernels."""
    return {k: w.numpy() for k, (w, _) in pruning_vars(model).items()}


def get_masks(model):
    """Returns the current masks as a `Mask`."""
    return Mask({k: m.numpy() for k, (_, m) in pruning_vars(model).items()})


def set_kernels(model, kernels):
    """Assigns {name: array} to the prunable kernels (all of them), then re-zeroes pruned ones."""
    variables = pruning_vars(model)
    if set(kernels) != set(variables):
        raise ValueError(f"kernels {sorted(kernels)} do not match the model's {sorted(variables)}")
    for key, (weight, _) in variables.items():
        weight.assign(np.asarray(kernels[key], dtype=weight.dtype.as_numpy_dtype))
    apply_masks(model)


def set_masks(model, mask):
    """Assigns `mask` to the wrappers and zeroes the pruned weights."""
    variables = pruning_vars(model)
    mask.check_compatible({k: w.numpy() for k, (w, _) in variables.items()})
    for key, (_, mask_var) in variables.items():
        mask_var.assign(np.asarray(mask[key], dtype=mask_var.dtype.as_numpy_dtype))
    apply_masks(model)


def apply_masks(model):
    """Re-zeroes pruned weights (weight <- weight * mask) and readies the wrappers.

    tfmot's wrapper asserts that its step counter was started (normally by its
    UpdatePruningStep callback, which also costs a Python call every batch);
    starting it once here makes that callback unnecessary. The work is one
    compiled function per model, cheap enough to run after every epoch.
    """
    function = getattr(model, "_tfprune_apply_masks", None)
    if function is None:
        pairs = list(pruning_vars(model).values())
        steps = [wrapper.pruning_step for wrapper in _wrappers(model)]

        @tf.function
        def function():
            for step in steps:
                step.assign(tf.maximum(step, 0))
            for weight, mask in pairs:
                weight.assign(weight * tf.cast(mask, weight.dtype))

        model._tfprune_apply_masks = function
    function()


def prune(model, fraction=0.2, strategy=pruning.DEFAULT, rng=None):
    """Prunes `fraction` of the surviving weights of `model` in place; returns the new mask.

    Args:
        model: a model made by `wrap`.
        fraction: fraction of the currently kept weights to remove.
        strategy: a name from the pruning registry (global magnitude by default).
        rng: a `np.random.Generator` for the random strategies (default: seeded 0).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    mask = pruning.get(strategy)(get_kernels(model), get_masks(model), fraction, rng)
    set_masks(model, mask)
    return mask


def strip(model):
    """Returns the plain Keras model with the masked (sparse) kernels, for export."""
    apply_masks(model)
    return tfmot.sparsity.keras.strip_pruning(model)
