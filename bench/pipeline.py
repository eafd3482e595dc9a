"""Input pipeline headroom: batches per second the tf.data pipeline delivers vs what the model
consumes, for the embedded default (MNIST-1D + convnet) and CIFAR-shaped data with the paper's
crop+flip augmentation (in memory, 50,000 random images + resnet20).

    python bench/pipeline.py [--cifar_images=50000] [--model_steps=20]
"""
import time

import numpy as np
from absl import app, flags
from common import StepTimer, median, table

from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tf

keras = _keras("2")
from tfprune.datasets import base, tfds_image
from tfprune.datasets import registry as datasets
from tfprune.models import registry as models

flags.DEFINE_integer("cifar_images", 50000, "Random CIFAR-sized images in the pipeline.")
flags.DEFINE_integer("model_steps", 20, "Timed training steps per model.")
FLAGS = flags.FLAGS


def delivered(ds, epochs=2):
    """Batches per second over `epochs` full passes (the first fills the cache)."""
    rates = []
    for _ in range(epochs):
        start, count = time.perf_counter(), 0
        for _ in ds:
            count += 1
        rates.append(count / (time.perf_counter() - start))
    return rates


def consumed(model_name, ds, input_shape):
    model = models.get(model_name, input_shape, 10)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = ds.take(FLAGS.model_steps + 1).cache()
    model.fit(batches, epochs=1, verbose=0)  # compile, fill the cache
    timer = StepTimer()
    model.fit(batches, epochs=1, verbose=0, callbacks=[timer])
    return 1 / median(timer.seconds[1:])


def cifar_like(n):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    mean, std = tfds_image._SPECS["cifar10"][:2]

    def augment(x, y, seed):
        return base.normalize(tfds_image.crop_flip(x, seed), mean, std), y

    return base.make_train(tf.data.Dataset.from_tensor_slices((images, labels)), 128, 0,
                           augment_fn=augment).batches


def main(argv):
    del argv
    rows = []
    mnist1d = datasets.get("mnist1d", batch_size=128)
    cifar = cifar_like(FLAGS.cifar_images)
    for label, ds, model, shape in (("mnist1d", mnist1d.train, "convnet", (40, 1)),
                                    ("cifar-like + crop/flip", cifar, "resnet20", (32, 32, 3))):
        first, second = delivered(ds)
        need = consumed(model, ds, shape)
        rows.append((label, model, first, second, need, second / need))
    table(("data", "model", "pipeline batches/s (1st epoch)", "pipeline batches/s (cached)",
           "model batches/s", "headroom (pipeline / model)"), rows)


if __name__ == "__main__":
    app.run(main)
