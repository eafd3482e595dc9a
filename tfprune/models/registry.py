"""Name-to-builder registry of the model architectures."""
from tfprune import backend
from tfprune.models import convnet, lenet, resnet_cifar, resnet_imagenet, vgg

_MODELS = {
    "lenet300_100": lenet.build,
    "convnet": convnet.build,
    "resnet20": resnet_cifar.resnet20,
    "resnet18": resnet_cifar.resnet18,
    "resnet50": resnet_imagenet.build,
    "vgg16": vgg.build,
}


def register(name, builder):
    """Adds a model: `builder(input_shape, num_classes, width=None, *, keras)` returns an
    unwrapped model of that Keras (or of its own Keras; see `experiment.run`).

    Example:
      >>> register("tiny", lambda shape, classes, width=None, *, keras: keras.Sequential(
      ...     [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(classes)]))
      >>> "tiny" in names()
      True
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"a model name must be a non-empty string, got {name!r}")
    _MODELS[name] = builder


def names():
    """Returns the sorted list of registered model names."""
    return sorted(_MODELS)


def get(name, input_shape, num_classes, width=None, keras=None):
    """Builds a registered model.

    Args:
      name: A name from `names()`.
      input_shape: Shape of one example, without the batch dimension.
      num_classes: Number of output logits.
      width: Width argument of the model's builder (None for the default).
      keras: The Keras module to build with: tf_keras (the default) or keras (Keras 3).

    Returns:
      A functional `keras.Model` that outputs logits.

    Raises:
      ValueError: If `name` is not registered.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; valid: {', '.join(names())}")
    return _MODELS[name](tuple(input_shape), num_classes, width=width,
                         keras=keras or backend.keras(backend.KERAS2))
