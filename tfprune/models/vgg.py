"""VGG-16 for CIFAR, after open_lth's cifar_vgg_16."""
from tfprune.models.layers import classifier, conv_bn, scaled

_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)


def build(input_shape, num_classes, width=None, *, keras):
    """Builds VGG-16: 13 conv3x3-BN-ReLU layers, 4 max-pools, GAP and Dense.

    Args:
      input_shape: (H, W, C), e.g. (32, 32, 3).
      num_classes: Number of output logits.
      width: Float channel multiplier (None means 1.0).
      keras: The Keras module to build with (tf_keras or keras).

    Returns:
      A functional `keras.Model` named "vgg16" that outputs logits.
    """
    inputs = keras.Input(input_shape, name="input")
    x, conv, pool = inputs, 0, 0
    for item in _PLAN:
        if item == "M":
            pool += 1
            x = keras.layers.MaxPool2D(2, name=f"pool{pool}")(x)
        else:
            conv += 1
            x = conv_bn(x, scaled(item, width), 3, f"block{conv}")
    return keras.Model(inputs, classifier(x, num_classes), name="vgg16")
