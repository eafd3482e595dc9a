"""A small conv net for 1-D sequences (e.g. MNIST-1D) or images."""
from tfprune.models.layers import conv_bn, scaled


def build(input_shape, num_classes, width=None, *, keras):
    """Builds three conv-BN-ReLU blocks (32, 64, 64 channels) and an MLP head.

    Rank-2 inputs (length, channels) use Conv1D with kernel 5, rank-3 inputs
    (H, W, C) use Conv2D with 3x3 kernels. The first two blocks are followed
    by a max-pool of 2; the head is Flatten, Dense 128 (ReLU), Dense logits.

    Args:
      input_shape: (length, channels) or (H, W, C).
      num_classes: Number of output logits.
      width: Float channel multiplier (None means 1.0).
      keras: The Keras module to build with (tf_keras or keras).

    Returns:
      A functional `keras.Model` named "convnet" that outputs logits.

    Raises:
      ValueError: If `input_shape` is neither rank 2 nor rank 3.
    """
    rank = len(input_shape) - 1
    pools = {1: keras.layers.MaxPool1D, 2: keras.layers.MaxPool2D}
    if rank not in pools:
        raise ValueError(f"convnet needs a rank-2 or rank-3 input shape, got {tuple(input_shape)}")
    kernel = 5 if rank == 1 else 3
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, channels in enumerate((32, 64, 64), start=1):
        x = conv_bn(x, scaled(channels, width), kernel, f"block{i}")
        if i < 3:
            x = pools[rank](2, name=f"block{i}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(scaled(128, width), activation="relu", name="fc1")(x)
    outputs = keras.layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, outputs, name="convnet")
