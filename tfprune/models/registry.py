"""Name-to-builder registry of the model architectures."""
from tfprune.core import lazy
from tfprune.masking import kerases

# Builders by name, imported when first built (listing the names loads no TensorFlow).
_MODELS = {
    "lenet300_100": "tfprune.models.lenet:build",
    "convnet": "tfprune.models.convnet:build",
    "resnet20": "tfprune.models.resnet_cifar:resnet20",
    "resnet18": "tfprune.models.resnet_cifar:resnet18",
    "resnet50": "tfprune.models.resnet_imagenet:build",
    "vgg16": "tfprune.models.vgg:build",
}
# The ranks of one example each model takes ((length, channels) is 2, (H, W, C) is 3);
# a model missing here takes any rank.
_INPUT_RANKS = {"convnet": (2, 3), "resnet20": (3,), "resnet18": (3,), "resnet50": (3,),
                "vgg16": (3,)}


def register(name, builder, input_ranks=None):
    """Adds a model: `builder(input_shape, num_classes, width=None, *, keras)` returns an
    unwrapped model of that Keras (`tfprune.run` refuses one of another Keras). `input_ranks`:
    the ranks of one example it takes, e.g. (3,) for images (H, W, C); None: any.

    Example:
      >>> register("tiny", lambda shape, classes, width=None, *, keras: keras.Sequential(
      ...     [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(classes)]))
      >>> "tiny" in names()
      True
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"a model name must be a non-empty string, got {name!r}")
    _MODELS[name] = builder
    _INPUT_RANKS.pop(name, None)
    if input_ranks is not None:
        _INPUT_RANKS[name] = tuple(input_ranks)


def fits(name, input_shape):
    """Whether model `name` takes examples of `input_shape` (as far as it declares)."""
    return len(input_shape) in _INPUT_RANKS.get(name, (len(input_shape),))


def check_fits(name, input_shape, dataset):
    """Raises a one-line error naming --model and --dataset unless model `name` takes the
    examples (of `input_shape`) of `dataset`."""
    if not fits(name, input_shape):
        raise ValueError(
            f"--model={name} does not take --dataset={dataset}'s examples of shape "
            f"{tuple(input_shape)} (it takes rank {' or '.join(map(str, _INPUT_RANKS[name]))}); "
            f"models that do: {', '.join(n for n in names() if fits(n, input_shape))}")


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
    return lazy.resolve(_MODELS[name])(tuple(input_shape), num_classes, width=width,
                         keras=keras or kerases.keras(kerases.KERAS2))
