"""LeNet-300-100, the fully connected network of the lottery-ticket papers."""
from tfprune.models.layers import scaled


def build(input_shape, num_classes, width=None, *, keras):
    """Builds LeNet-300-100: Flatten, Dense 300, Dense 100 (ReLU), Dense logits.

    Args:
      input_shape: Shape of one example, e.g. (28, 28, 1).
      num_classes: Number of output logits.
      width: Float multiplier of the hidden sizes (None means 1.0).
      keras: The Keras module to build with (tf_keras or keras).

    Returns:
      A functional `keras.Model` named "lenet300_100" that outputs logits.
    """
    inputs = keras.Input(input_shape, name="input")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dense(scaled(300, width), activation="relu", name="fc1")(x)
    x = keras.layers.Dense(scaled(100, width), activation="relu", name="fc2")(x)
    outputs = keras.layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, outputs, name="lenet300_100")
