"""The mask mechanism of Keras 3 models on any backend (see `mechanism`): a mask variable per
weight, kept by a constraint.

Each prunable weight gets a 0/1 mask variable, held by a small `MaskHolder` layer set on
the layer that owns the weight (as an attribute Keras does not track, so the model's
variables, and JAX's training state, stay as they were), and the constraint
`w <- w * mask`, which Keras applies after every optimizer update. Pruned weights are
therefore zero in every forward pass and after every step, on TensorFlow, JAX and
PyTorch alike. No model is cloned: Sequential, functional, nested and subclassed models
are masked in place. Keras saves the holders with the model (it walks layer
attributes), so `load_model` can read the masks back.
"""
import keras

from tfprune.masking import prunable

ATTRIBUTE = "_tfprune_mask_{}"


class MaskHolder(keras.layers.Layer):
    """Holds the 0/1 mask of one weight, so Keras saves it with the model."""

    def __init__(self, shape, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.mask = self.add_weight(shape=tuple(shape), initializer="ones", trainable=False,
                                    name="mask", dtype="float32")
        self.in_file = True

    def load_own_variables(self, store):
        if not list(store.keys()):  # the weight had no mask in the saved model
            self.in_file = False
            return
        super().load_own_variables(store)


class KeepMask(keras.constraints.Constraint):
    """w <- constraint(w) * mask, after every optimizer update (`constraint`: the weight's
    own constraint, if it had one). The mask read is `step_mask` when the model has one
    (`add_step_masks`), else the holder's."""

    def __init__(self, holder, constraint=None):
        self.holder, self.constraint = holder, constraint
        self.step_mask = None

    def __call__(self, w):
        if self.constraint is not None:
            w = self.constraint(w)
        mask = self.holder.mask if self.step_mask is None else self.step_mask
        return w * keras.ops.cast(mask, w.dtype)


def _attribute(weight):
    return ATTRIBUTE.format(weight.key.rsplit("/", 1)[-1])


def wrap(model, weights):
    """Gives every prunable weight of `weights` (from `prunable.walk`) a mask, all ones for
    a weight that has none yet, in place; returns `model`."""
    _attach(weights)
    return model


def _attach(weights):
    for w in weights:
        if not w.prunable or isinstance(w.variable.constraint, KeepMask):
            continue
        holder = MaskHolder(w.variable.shape, name=f"{w.layer.name}_mask")
        object.__setattr__(w.layer, _attribute(w), holder)  # untracked: not a model variable
        w.variable.constraint = KeepMask(holder, w.variable.constraint)


def mask_variables(model):
    """{id(weight variable): mask variable} of every masked weight of `model`."""
    return {id(v): v.constraint.holder.mask for v in model.weights
            if isinstance(getattr(v, "constraint", None), KeepMask)}


STEP_MASK = "tfprune_step_mask"


def _constraints(model):
    return [v.constraint for v in model.weights
            if isinstance(getattr(v, "constraint", None), KeepMask)]


def add_step_masks(model):
    """JAX: gives every mask a twin among the variables of the model's optimizer, which the
    compiled step takes as state (it reads the model's other variables as constants: the
    constraint runs inside the optimizer's update). New masks are then new values of the
    step's state, not a new step to trace and compile (4 s a round for the default convnet).
    Call after compile, before the first fit. Twins are not saved with the state (the masks
    are, in each round's mask.npz) and `reset_optimizer` leaves them alone."""
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    for constraint in _constraints(model):
        if constraint.step_mask is None:
            constraint.step_mask = optimizer.add_variable(
                tuple(constraint.holder.mask.shape), initializer="ones", name=STEP_MASK)
            _copy_mask(constraint)


def _copy_mask(constraint):
    """holder's mask -> its twin, as a copy: the JAX step donates its state's buffers, and a
    buffer shared by the two would be deleted under the holder."""
    constraint.step_mask.assign(keras.ops.convert_to_numpy(constraint.holder.mask))


def is_step_mask(variable):
    """Whether `variable` is a mask's twin in the optimizer (`add_step_masks`)."""
    return getattr(variable, "name", "") == STEP_MASK


def changed(model):
    """Call after the masks changed. With step masks (`add_step_masks`) their twins take the
    new values; otherwise the JAX backend compiled the old masks into its training step as
    constants, so the step is traced again."""
    constraints = _constraints(model)
    for constraint in constraints:
        if constraint.step_mask is not None:
            _copy_mask(constraint)
    if keras.backend.backend() == "jax" and any(c.step_mask is None for c in constraints):
        model.train_function = None


def apply_masks(model, pairs):
    """weight <- weight * mask for each (weight, mask) of `pairs`."""
    for weight, mask in pairs:
        weight.assign(weight * keras.ops.cast(mask, weight.dtype))


def strip(model):
    """Removes the masks of `model` in place (the pruned weights stay zero); returns it."""
    for w in prunable.walk(model):
        constraint = getattr(w.variable, "constraint", None)
        if isinstance(constraint, KeepMask):
            w.variable.assign(w.variable * keras.ops.cast(constraint.holder.mask,
                                                          w.variable.dtype))
            w.variable.constraint = constraint.constraint
            object.__delattr__(w.layer, _attribute(w))
    changed(model)
    return model


def load_model(path, **kwargs):
    """Loads a Keras 3 model saved as .keras by a masked model, with its masks.

    Weights that had no mask in the file (e.g. ignored layers) stay dense.
    """
    model = keras.saving.load_model(path, **kwargs)
    weights = prunable.walk(model)
    _attach(weights)
    model.load_weights(path)
    for w in weights:
        constraint = getattr(w.variable, "constraint", None)
        if isinstance(constraint, KeepMask) and not constraint.holder.in_file:
            w.variable.constraint = constraint.constraint
            object.__delattr__(w.layer, _attribute(w))
    return model
