"""A tiny masked model, its data and a probe callback, shared by the callback tests."""
import numpy as np

import tfprune
from tfprune.masking import masked_model
from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tf

keras = _keras("2")

STEPS = 4  # batches per epoch of `data()`


def tiny_model():
    inputs = keras.Input((8, 1), name="input")
    x = keras.layers.Conv1D(6, 3, use_bias=False, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, name="fc")(x)
    return keras.Model(inputs, outputs)


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=32)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8)


def compiled(weight_decay=1e-2, seed=0):
    keras.utils.set_random_seed(seed)
    model = masked_model.wrap(tiny_model())
    schedule = tfprune.RoundSchedule(0.1, steps_per_epoch=STEPS, epochs=3, warmup_epochs=1)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9, weight_decay=weight_decay),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class Probe(keras.callbacks.Callback):
    """Records `fn(model)` when training begins (after the callbacks before it): `value` of
    the last `fit`, `values` of every `fit` it took part in (e.g. every round of a run)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.value = None
        self.values = []

    def on_train_begin(self, logs=None):
        self.value = self.fn(self.model)
        self.values.append(self.value)


def values(variables):
    return [v.numpy().copy() for v in variables]
