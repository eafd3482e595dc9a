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
    own constraint, if it had one)."""

    def __init__(self, holder, constraint=None):
        self.holder, self.constraint = holder, constraint

    def __call__(self, w):
        if self.constraint is not None:
            w = self.constraint(w)
        return w * keras.ops.cast(self.holder.mask, w.dtype)


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


def changed(model):
    """Call after the masks changed: the JAX backend compiled the old masks into its
    training step as constants, so the step is traced again."""
    if keras.backend.backend() == "jax":
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
