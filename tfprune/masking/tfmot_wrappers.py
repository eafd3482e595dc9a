"""The mask mechanism of tf_keras models (see `mechanism`): tfmot's prune_low_magnitude
wrappers.

Every layer of a Sequential or functional model (at any depth of nesting) that holds a
prunable weight is wrapped; the wrapper multiplies each prunable weight by its mask
before every forward pass. tfprune gives it a schedule that never recomputes the mask,
so the mask stays what `set_masks` assigned, and tells it which weights to mask
(`prunable.walk`), so depthwise kernels and the kernels inside blocks are masked too.
"""
from tfprune.masking import prunable
from tfprune.masking.kerases import keras as keras_of
from tfprune.masking.kerases import tf, tfmot

_CLASSES = {}


def _classes():
    """The wrapper and schedule classes, defined on first use (they need tfmot)."""
    if _CLASSES:
        return _CLASSES
    sparsity = tfmot().sparsity.keras
    from tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper import (
        PruneLowMagnitude,
    )

    class FixedMask(sparsity.PruningSchedule):
        """A tfmot pruning schedule that never updates the mask."""

        def __call__(self, step):
            return tf.constant(False), tf.constant(0.0)

        def get_config(self):
            return {"class_name": self.__class__.__name__, "config": {}}

    class MaskWrapper(PruneLowMagnitude):
        """tfmot's wrapper, masking the weights of `layer` whose paths (from the layer's
        name down) are in `weights`; they are chosen when the layer is built."""

        def __init__(self, layer, weights=(), **kwargs):
            kwargs.setdefault("pruning_schedule", FixedMask())
            self.masked_paths = list(weights)
            if prunable.user_weights(layer) is None:
                def get_prunable_weights():
                    return [w.variable for w in prunable.walk(layer, layer_only=True)
                            if w.key in self.masked_paths]
                get_prunable_weights.tfprune = True  # ours, not the layer's own choice
                layer.get_prunable_weights = get_prunable_weights
            super().__init__(layer, **kwargs)

        def get_config(self):
            return super().get_config() | {"weights": self.masked_paths}

    _CLASSES.update(FixedMask=FixedMask, MaskWrapper=MaskWrapper)
    return _CLASSES


def custom_objects():
    """What tf_keras needs to load a saved wrapped model."""
    return dict(_classes())


def is_wrapper(layer):
    return any(cls.__name__ == "PruneLowMagnitude" for cls in type(layer).__mro__)


def wrap(model, weights):
    """A copy of `model` whose layers with prunable `weights` (from `prunable.walk`) are in
    mask wrappers, sharing the weights of `model`; nested models are copied alike."""
    if not prunable.is_graph_model(model):
        raise ValueError(
            f"tf_keras model {model.name!r} is subclassed ({type(model).__name__}): tfmot's "
            "wrappers need a Sequential or functional model; build it as one, or build it "
            "with Keras 3 (`import keras`), whose masks tfprune attaches to any model")
    units = {}
    for w in weights:
        if w.prunable:
            units.setdefault(id(w.unit), []).append(w)
    wrapper = _classes()["MaskWrapper"]
    keras = keras_of("2")

    def clone(layer):
        if prunable.is_graph_model(layer):
            return keras.models.clone_model(layer, clone_function=clone)
        if id(layer) not in units:
            return layer
        return wrapper(layer, weights=[w.in_unit for w in units[id(layer)]])

    return keras.models.clone_model(model, clone_function=clone)


def wrappers(model):
    """Every mask wrapper of `model`, nested models included."""
    found = []
    for layer in model.layers:
        if prunable.is_graph_model(layer):
            found += wrappers(layer)
        elif is_wrapper(layer):
            found.append(layer)
    return found


def mask_variables(model):
    """{id(weight variable): mask variable} of a wrapped model."""
    out = {}
    for wrapper in wrappers(model):
        if not wrapper.built:
            raise ValueError(f"layer {wrapper.name} is not built; call the model once first")
        for weight, mask, _ in wrapper.pruning_vars:
            out[id(weight)] = mask
    return out


def changed(model):
    """Nothing to do when the masks change: the wrappers read their mask variables."""


def apply_masks(model, pairs):
    """Re-zeroes pruned weights (weight <- weight * mask) of `pairs` and readies the wrappers.

    tfmot's wrapper asserts that its step counter was started (normally by its
    UpdatePruningStep callback, which also costs a Python call every batch);
    starting it once here makes that callback unnecessary. The work is one
    compiled function per model and set of pairs, cheap enough to run after every epoch.
    """
    key = tuple(id(v) for pair in pairs for v in pair)
    cached = getattr(model, "_tfprune_apply_masks", None)
    if cached is None or cached[0] != key:
        steps = [wrapper.pruning_step for wrapper in wrappers(model)]
        pairs = list(pairs)

        @tf.function
        def function():
            for step in steps:
                step.assign(tf.maximum(step, 0))
            for weight, mask in pairs:
                weight.assign(weight * tf.cast(mask, weight.dtype))

        cached = (key, function)
        model._tfprune_apply_masks = cached
    cached[1]()


def strip(model):
    """A copy of `model` without wrappers (nested models too), sharing its layers; the model
    itself keeps its masks."""
    keras = keras_of("2")

    def clone(layer):
        if prunable.is_graph_model(layer):
            return keras.models.clone_model(layer, clone_function=clone)
        if is_wrapper(layer):
            inner = layer.layer
            if getattr(getattr(inner, "get_prunable_weights", None), "tfprune", False):
                del inner.get_prunable_weights
            return inner
        return layer

    return keras.models.clone_model(model, clone_function=clone)


def load_model(path, **kwargs):
    """Loads a tf_keras model saved with its wrappers (.keras, .h5 or SavedModel)."""
    keras = keras_of("2")
    with tfmot().sparsity.keras.prune_scope():
        return keras.models.load_model(path, custom_objects=custom_objects(), **kwargs)
