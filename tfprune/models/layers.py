"""Shared layer helpers with deterministic, architecture-derived layer names.

Each helper builds with the Keras of the tensor it is given (tf_keras or Keras 3).
"""
from tfprune.masking import kerases

# PyTorch-style batch-norm statistics (as in open_lth and the ICLR 2024 code).
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def _keras(x):
    return kerases.keras(kerases.of(x))


def scaled(channels, width):
    """Scales a channel count by a float width multiplier.

    Args:
      channels: Base channel count.
      width: Float multiplier, or None for 1.0.

    Returns:
      `round(channels * width)`, at least 1.
    """
    return max(1, int(round(channels * (1.0 if width is None else width))))


def conv_bn(x, filters, kernel_size, name, strides=1, relu=True, suffix=""):
    """Applies a bias-free convolution, batch norm and optionally ReLU.

    The convolution is 1-D or 2-D according to the rank of `x`. Layers are
    named `{name}_conv{suffix}`, `{name}_bn{suffix}` and `{name}_relu{suffix}`.

    Args:
      x: Input tensor of shape (batch, length, C) or (batch, H, W, C).
      filters: Number of output channels.
      kernel_size: Kernel size.
      name: Name prefix.
      strides: Convolution stride.
      relu: Whether to end with a ReLU.
      suffix: Appended to each layer's kind, e.g. "1" gives `{name}_conv1`.

    Returns:
      The output tensor.
    """
    keras = _keras(x)
    conv = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}[len(x.shape) - 2]
    x = conv(filters, kernel_size, strides=strides, padding="same", use_bias=False,
             kernel_initializer="he_normal", name=f"{name}_conv{suffix}")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                        name=f"{name}_bn{suffix}")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu{suffix}")(x)
    return x


def _residual(x, shortcut, filters, strides, name):
    """Adds `x` to `shortcut` (projected if shapes differ) and applies ReLU."""
    keras = _keras(x)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = conv_bn(shortcut, filters, 1, f"{name}_shortcut", strides=strides, relu=False)
    return keras.layers.Add(name=f"{name}_add")([x, shortcut])


def basic_block(x, filters, strides, name):
    """He et al. (2016) basic block: two 3x3 conv-BN with a residual connection.

    The shortcut is a 1x1 conv + BN projection when the shape changes.

    Args:
      x: Input tensor.
      filters: Output channels.
      strides: Stride of the first conv (and of the projection).
      name: Name prefix, e.g. "s2_b1".

    Returns:
      The output tensor.
    """
    y = conv_bn(x, filters, 3, name, strides=strides, suffix="1")
    y = conv_bn(y, filters, 3, name, relu=False, suffix="2")
    y = _residual(y, x, filters, strides, name)
    return _keras(x).layers.ReLU(name=f"{name}_relu2")(y)


def bottleneck_block(x, filters, strides, name, expansion=4):
    """ResNet-50 bottleneck block (stride on the 3x3 conv, as in ResNet v1.5).

    Args:
      x: Input tensor.
      filters: Inner channels; the block outputs `expansion * filters`.
      strides: Stride of the 3x3 conv (and of the projection).
      name: Name prefix, e.g. "s2_b1".
      expansion: Output channel multiplier.

    Returns:
      The output tensor.
    """
    y = conv_bn(x, filters, 1, name, suffix="1")
    y = conv_bn(y, filters, 3, name, strides=strides, suffix="2")
    y = conv_bn(y, expansion * filters, 1, name, relu=False, suffix="3")
    y = _residual(y, x, expansion * filters, strides, name)
    return _keras(x).layers.ReLU(name=f"{name}_relu3")(y)


def classifier(x, num_classes):
    """Global average pooling followed by the logits layer "fc"."""
    keras = _keras(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.layers.Dense(num_classes, name="fc")(x)
