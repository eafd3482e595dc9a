"""The optimizer of a round, for either Keras: the inner optimizer, a reset, the current rate."""
import keras as keras3
import numpy as np
import tf_keras

from tfprune.masking import kerases
from tfprune.masking.keras3_constraints import is_step_mask


def inner_optimizer(optimizer):
    """The optimizer itself, or the one inside a mixed-precision LossScaleOptimizer."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def reset_optimizer(optimizer):
    """Zeroes the optimizer's step and slots (momentum): a fresh optimizer, no retrace.

    A loss-scale optimizer's own scale, a learning rate held in a variable, and the masks'
    twins of the JAX step (`keras3_constraints.add_step_masks`) are left alone.
    """
    inner = inner_optimizer(optimizer)
    rate = getattr(inner, "_learning_rate", None)
    for variable in inner.variables:
        if variable is not rate and not is_step_mask(variable):
            variable.assign(np.zeros_like(np.asarray(variable.numpy())))


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
        step = int(keras3.ops.convert_to_numpy(inner.iterations))
        return float(schedule(max(step - 1, 0)))  # in numpy (see RoundSchedule)
    return float(keras3.ops.convert_to_numpy(optimizer.learning_rate))


def zero_momentum(optimizer, variable, entries):
    """Zeroes the momentum of `variable`'s `entries` (a bool array of its shape), e.g. of
    connections grown by dynamic sparse training, which start from rest. Nothing without
    momentum."""
    inner = inner_optimizer(optimizer)
    if not getattr(inner, "momentums", None):
        return
    if hasattr(inner, "_get_variable_index"):  # Keras 3
        slot = inner.momentums[inner._get_variable_index(variable)]
    else:  # tf_keras
        slot = inner.momentums[inner._index_dict[inner._var_key(variable)]]
    value = np.asarray(slot.numpy())
    slot.assign(np.where(entries, np.zeros_like(value), value))
