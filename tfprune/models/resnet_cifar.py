"""CIFAR ResNets: ResNet-20 (He et al., 2016) and the CIFAR ResNet-18."""
import numbers

from tfprune.models.layers import basic_block, classifier, conv_bn, scaled


def _resnet(input_shape, num_classes, stem, stages, name, keras):
    """Builds a stem conv, stages of basic blocks and the GAP + Dense head.

    Args:
      input_shape: (H, W, C).
      num_classes: Number of output logits.
      stem: Channels of the 3x3 stride-1 stem conv.
      stages: One (channels, num_blocks) per stage; stages after the first
        start with stride 2.
      name: Model name.
      keras: The Keras module to build with (tf_keras or keras).

    Returns:
      A functional `keras.Model` that outputs logits.
    """
    inputs = keras.Input(input_shape, name="input")
    x = conv_bn(inputs, stem, 3, "stem")
    for s, (channels, blocks) in enumerate(stages, start=1):
        for b in range(1, blocks + 1):
            strides = 2 if s > 1 and b == 1 else 1
            x = basic_block(x, channels, strides, f"s{s}_b{b}")
    return keras.Model(inputs, classifier(x, num_classes), name=name)


def resnet20(input_shape, num_classes, width=None, *, keras):
    """Builds ResNet-20: 16w stem, 3 stages x 3 blocks of 16w/32w/64w channels.

    Projection shortcuts are 1x1 conv + BN (option B).

    Args:
      input_shape: (H, W, C), e.g. (32, 32, 3).
      num_classes: Number of output logits.
      width: Float channel multiplier (None means 1.0).

    Returns:
      A functional `keras.Model` named "resnet20" that outputs logits.
    """
    stages = [(scaled(c, width), 3) for c in (16, 32, 64)]
    return _resnet(input_shape, num_classes, scaled(16, width), stages, "resnet20", keras)


def resnet18(input_shape, num_classes, width=None, *, keras):
    """Builds the CIFAR ResNet-18: 3x3 stem, no max-pool, [2, 2, 2, 2] blocks.

    Args:
      input_shape: (H, W, C), e.g. (32, 32, 3).
      num_classes: Number of output logits.
      width: Int channel count used by the stem and every stage, or None for
        the standard 64/128/256/512.

    Returns:
      A functional `keras.Model` named "resnet18" that outputs logits.

    Raises:
      ValueError: If `width` is not None or a positive int.
    """
    if width is None:
        stem, channels = 64, (64, 128, 256, 512)
    elif isinstance(width, numbers.Integral) and not isinstance(width, bool) and width > 0:
        stem, channels = int(width), (int(width),) * 4
    else:
        raise ValueError(f"resnet18 width must be a positive int or None, got {width!r}")
    return _resnet(input_shape, num_classes, stem, [(c, 2) for c in channels], "resnet18", keras)
