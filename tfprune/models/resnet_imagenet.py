"""ImageNet-style ResNet-50 (used here for Tiny ImageNet)."""
from tfprune.models.layers import bottleneck_block, classifier, conv_bn, scaled


def build(input_shape, num_classes, width=None, *, keras):
    """Builds ResNet-50: 7x7/2 stem, 3x3/2 max-pool, [3, 4, 6, 3] bottlenecks.

    Stages have 64/128/256/512 inner channels (x4 outputs); stages 2-4 start
    with stride 2 on the 3x3 conv; shortcuts are 1x1 conv + BN projections.

    Args:
      input_shape: (H, W, C), e.g. (64, 64, 3).
      num_classes: Number of output logits.
      width: Float channel multiplier (None means 1.0).
      keras: The Keras module to build with (tf_keras or keras).

    Returns:
      A functional `keras.Model` named "resnet50" that outputs logits.
    """
    inputs = keras.Input(input_shape, name="input")
    x = conv_bn(inputs, scaled(64, width), 7, "stem", strides=2)
    x = keras.layers.MaxPool2D(3, strides=2, padding="same", name="stem_pool")(x)
    for s, (channels, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), start=1):
        for b in range(1, blocks + 1):
            strides = 2 if s > 1 and b == 1 else 1
            x = bottleneck_block(x, scaled(channels, width), strides, f"s{s}_b{b}")
    return keras.Model(inputs, classifier(x, num_classes), name="resnet50")
