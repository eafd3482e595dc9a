"""Which Keras a model is built with, and each Keras' modules, imported only when needed.

tfprune prunes models of both Kerases: tf_keras ("2", Keras 2) through tfmot's
wrappers, and Keras 3 ("3", the `keras` package, TensorFlow's default Keras) with
masks of its own. The Keras is a property of each model (`of`), never a global
switch: importing tfprune leaves `tf.keras` as the user's environment made it.
tfmot, which switches `TF_USE_LEGACY_KERAS` on when imported, is imported by
`tfmot()` only when a tf_keras model is wrapped, and the variable is put back.
"""
import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

KERAS2, KERAS3 = "2", "3"
FLAVOURS = (KERAS2, KERAS3)
_MODULES = {KERAS2: "tf_keras", KERAS3: "keras"}


def keras(flavour):
    """The Keras module of `flavour`: tf_keras for "2", keras (Keras 3) for "3"."""
    if flavour not in _MODULES:
        raise ValueError(f"unknown Keras {flavour!r}; valid: {', '.join(FLAVOURS)}")
    return importlib.import_module(_MODULES[flavour])


def of(obj):
    """The Keras ("2" or "3") that the class of `obj` (a model, layer, optimizer) comes from."""
    for cls in type(obj).__mro__:
        root = cls.__module__.split(".")[0]
        if root == "tf_keras":
            return KERAS2
        if root == "keras":
            return KERAS3
    raise TypeError(f"expected a Keras object (Keras 3 `keras` or tf_keras), got "
                    f"{type(obj).__name__} from {type(obj).__module__}")


def tfmot():
    """tensorflow_model_optimization, imported without changing which Keras `tf.keras` is."""
    previous = os.environ.get("TF_USE_LEGACY_KERAS")
    # resolve tf.keras now, as the user's environment says
    getattr(__getattr__("tf").keras, "version", None)
    try:
        return importlib.import_module("tensorflow_model_optimization")
    finally:  # tfmot sets the variable on import; later code of the user's must not see it
        if previous is None:
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = previous


def __getattr__(name):
    """`kerases.tf`: TensorFlow, imported on first use (listing the Kerases needs none)."""
    if name != "tf":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import tensorflow
    globals()["tf"] = tensorflow
    return tensorflow


__all__ = ["keras", "of", "tfmot", "KERAS2", "KERAS3", "FLAVOURS"]
