"""Saving and restoring a model's whole training state: weights and optimizer, both Kerases.

A state folder (its files are named in `core.rundir`) holds, for tf_keras, a
tf.train.Checkpoint; for Keras 3 on any backend, every model and optimizer variable in order,
as arrays. Rewind points, finished rounds and resume folders are state folders.
"""
import os

import numpy as np

from tfprune.core import files, logs, rundir
from tfprune.masking import kerases
from tfprune.masking.kerases import tf
from tfprune.masking.keras3_constraints import is_step_mask
from tfprune.training.optimizers import inner_optimizer


def _checkpoint(model):
    return tf.train.Checkpoint(model=model, optimizer=model.optimizer)


def _state_variables(model):
    """Keras 3: the variables a state file holds, in order, and their paths (not the masks'
    twins of a JAX step: each round's mask.npz holds the masks)."""
    variables = list(model.variables) + [v for v in inner_optimizer(model.optimizer).variables
                                         if not is_step_mask(v)]
    return variables, [v.path for v in variables]


def _build_optimizer(model):
    optimizer = inner_optimizer(model.optimizer)
    if kerases.of(model) == kerases.KERAS2 or not optimizer.built:
        optimizer.build(model.trainable_variables)


def save_state(model, directory, extra=None):
    """Writes weights and optimizer state (slots built first) into `directory`, atomically,
    with the files of `extra` ({file name: a dict of arrays for ".npz", a value for ".json"})."""
    _build_optimizer(model)
    with files.atomic_path(directory) as tmp:
        if kerases.of(model) == kerases.KERAS2:
            _checkpoint(model).write(os.path.join(tmp, rundir.TF_CHECKPOINT))
        else:
            variables, paths = _state_variables(model)
            files.save_arrays(os.path.join(tmp, rundir.STATE_NPZ),  # each epoch: not deflated
                              {f"{i:06d} {path}": np.asarray(v.numpy())
                               for i, (v, path) in enumerate(zip(variables, paths))},
                              compress=False)
        for name, value in (extra or {}).items():
            if name.endswith(".npz"):
                files.save_arrays(os.path.join(tmp, name), value)
            else:
                files.write_json(os.path.join(tmp, name), value)


def restore_state(model, directory, keep=()):
    """Restores weights and optimizer state from `directory`, except the variables in `keep`."""
    _build_optimizer(model)
    kept = [(v, v.numpy()) for v in keep]
    if kerases.of(model) == kerases.KERAS3:
        _restore_arrays(model, os.path.join(directory, rundir.STATE_NPZ))
    else:
        _restore_checkpoint(model, os.path.join(directory, rundir.TF_CHECKPOINT))
    for variable, value in kept:
        variable.assign(value)


def _restore_arrays(model, path):
    arrays = files.load_arrays(path)
    variables, _ = _state_variables(model)
    if len(arrays) != len(variables) or any(
            np.shape(a) != tuple(v.shape) for a, v in zip(arrays.values(), variables)):
        raise ValueError(f"cannot restore {path}: it holds {len(arrays)} variables that do "
                         f"not match this model's and optimizer's {len(variables)}")
    for variable, array in zip(variables, arrays.values()):
        variable.assign(array)


def _restore_checkpoint(model, prefix):
    if not tf.io.gfile.exists(prefix + ".index"):
        raise FileNotFoundError(f"missing checkpoint {prefix}.index")
    try:
        _checkpoint(model).read(prefix).assert_existing_objects_matched().expect_partial()
    except (tf.errors.OpError, AssertionError, ValueError) as e:
        message = logs.one_line(e)
        raise ValueError(f"cannot restore checkpoint {prefix}: {message}") from None
