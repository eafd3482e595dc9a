"""Fixed masks on a Keras model of either Keras: wrap, get/set, prune, strip, load.

tf_keras models get tfmot's wrappers, Keras 3 models a mask variable and a constraint per
weight: one `mechanism` per Keras, picked by the model's Keras. Everything
else sees only `{name: array}` dicts, keyed by the weight's path (`prunable`): the layer
names below the model, then the weight, e.g. "fc/kernel" or "backbone/conv1/kernel".
"""
import dataclasses
import os
import zipfile

import numpy as np
from absl import logging

from tfprune.core.mask import Mask
from tfprune.masking import kerases, mechanism, prunable
from tfprune.pruning import registry as pruning

_CACHE = "_tfprune_pruning_vars"


def wrap(model, ignore=()):
    """Gives every prunable weight of `model` a mask (all ones) and logs what was masked.

    A tf_keras model is copied with its layers in tfmot's mask wrappers (the copy
    shares the weights of `model`; nested models are copied alike; a subclassed model
    is refused). A Keras 3 model, of any kind, is masked in place and returned.

    Args:
        model: a built Keras model.
        ignore: names of layers (at any depth: a nested model's name covers it all) or
            weight paths to leave dense.

    Example:
        >>> from tfprune.masking.kerases import keras
        >>> k = keras("2")
        >>> model = wrap(k.Sequential([k.Input((4,)), k.layers.Dense(2, name="fc")]))
        >>> list(get_masks(model))
        ['fc/kernel']
    """
    if not model.built or not model.weights:
        raise ValueError(f"model {model.name!r} is not built: call it once on data, or give "
                         "it an Input, before wrapping it")
    weights = prunable.walk(model, ignore)
    if not any(w.prunable for w in weights):
        raise ValueError(f"model {model.name!r} has no prunable weight (conv, dense, "
                         "embedding or attention kernels) outside the ignored layers")
    wrapped = mechanism.for_model(model).wrap(model, weights)
    apply_masks(wrapped)
    rows, summary = weight_table(wrapped)
    logging.info("tfprune.wrap(%s): %s", model.name, summary)
    expected = {f"dense: {reason}" for reason in (prunable.NORMALIZING, prunable.NOT_A_KERNEL)}
    for key, _, size, status in rows:  # the summary counts biases and norms; -v 1 lists them
        if status != "masked":
            logging.log(logging.DEBUG if status in expected else logging.INFO,
                        "  %s (%d weights) %s", key, size, status)
    return wrapped


def weight_table(model):
    """Every weight of a wrapped model: rows (path, shape, size, "masked" or "dense: why")
    and a one-line summary of the share masked."""
    masks = mechanism.for_model(model).mask_variables(model)
    weights = [dataclasses.replace(w, prunable=False, reason=prunable.IGNORED)
               if w.prunable and id(w.variable) not in masks else w
               for w in prunable.walk(model)]
    return prunable.table(weights)


def pruning_vars(model):
    """Returns {path: (weight variable, mask variable)} of a wrapped model."""
    cached = getattr(model, _CACHE, None)
    if cached is not None:
        return cached
    masks = mechanism.for_model(model).mask_variables(model)
    found = {w.key: (w.variable, masks[id(w.variable)]) for w in prunable.walk(model)
             if id(w.variable) in masks}
    if not found:
        raise ValueError(f"model {model.name!r} has no tfprune masks; call "
                         "tfprune.wrap(model) first")
    object.__setattr__(model, _CACHE, found)  # untracked by Keras
    return found


def _numpy(variable):
    return np.asarray(variable.numpy())


def get_kernels(model):
    """Returns {name: np.ndarray} of the prunable kernels."""
    return {k: _numpy(w) for k, (w, _) in pruning_vars(model).items()}


def get_masks(model):
    """Returns the current masks as a `Mask`."""
    return Mask({k: _numpy(m) for k, (_, m) in pruning_vars(model).items()})


def set_kernels(model, kernels):
    """Assigns {name: array} to the prunable kernels (all of them), then re-zeroes pruned ones."""
    variables = pruning_vars(model)
    if set(kernels) != set(variables):
        raise ValueError(f"kernels {sorted(kernels)} do not match the model's {sorted(variables)}")
    for key, (weight, _) in variables.items():
        weight.assign(np.asarray(kernels[key], dtype=_numpy(weight).dtype))
    apply_masks(model)


def set_masks(model, mask):
    """Assigns `mask` to the model's masks and zeroes the pruned weights.

    A layer left with no weight at all is warned about: its output no longer
    depends on its input (layer collapse).
    """
    variables = pruning_vars(model)
    mask.check_compatible({k: _numpy(w) for k, (w, _) in variables.items()})
    for key, (_, mask_var) in variables.items():
        mask_var.assign(np.asarray(mask[key], dtype=_numpy(mask_var).dtype))
    empty = [k for k, a in mask.items() if not a.any()]
    if empty:
        logging.warning("LAYER COLLAPSE: every weight of %s is pruned (%d tensors); its "
                        "output no longer depends on its input", ", ".join(empty[:5]),
                        len(empty))
    mechanism.for_model(model).changed(model)
    apply_masks(model)


def apply_masks(model):
    """Re-zeroes pruned weights (weight <- weight * mask) and readies the masks."""
    mechanism.for_model(model).apply_masks(model, list(pruning_vars(model).values()))


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
    """The model without masks, its pruned weights zero, ready to save and ship.

    tf_keras: a copy without wrappers (sharing the weights). Keras 3: the masks are
    removed from `model` itself, which is returned.
    """
    apply_masks(model)
    object.__setattr__(model, _CACHE, None)  # Keras 3 strips `model` itself
    return mechanism.for_model(model).strip(model)


def summary(model, print_fn=print):
    """Prints the density of every masked weight of a wrapped model, and the total."""
    mask = get_masks(model)
    width = max(len(k) for k in mask)
    lines = [f"{'weight':<{width}}  {'kept':>10} {'of':>10}  density"]
    for key, array in mask.items():
        lines.append(f"{key:<{width}}  {int(array.sum()):>10,} {array.size:>10,}  "
                     f"{array.mean():.4f}")
    lines.append(f"{'total':<{width}}  {mask.num_kept:>10,} {mask.num_weights:>10,}  "
                 f"{mask.density:.4f}")
    lines.append(weight_table(model)[1])
    print_fn("\n".join(lines))


def load_model(path, keras=None, **kwargs):
    """Loads a model saved from a wrapped model, with its masks, ready to train on.

    Args:
        path: a `.keras` file (either Keras), or a tf_keras `.h5` file or SavedModel folder.
        keras: "2" or "3"; default: read from the file (tf_keras for .h5 and folders).
        **kwargs: passed to Keras' `load_model` (e.g. `compile=False`).
    """
    return mechanism.for_keras(keras or _saved_keras(path)).load_model(path, **kwargs)


def _saved_keras(path):
    """Which Keras wrote the model at `path`."""
    if os.path.isdir(path) or not zipfile.is_zipfile(path):
        return kerases.KERAS2
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json").decode()
    return kerases.KERAS2 if "MaskWrapper" in config or '"tf_keras' in config \
        else kerases.KERAS3
