"""The time of one RigL mask update on ResNet-50 (25.5M prunable weights in 54 kernels), at
density 0.1 (ERK) with the first drop fraction (0.3): the maths alone (scores |g|, drop, grow),
then the whole update on a wrapped model (masks and kernels read and written, momentum of the
grown weights zeroed), then one gradient of a batch for scale.

    python bench/rigl_update.py [--keras=2] [--repeats=3] [--batch=16]

The goal: the update (scores, drop, grow) at most 1 s on 2 cores.
"""
import os
import sys
import time

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import median, table  # noqa: E402

from tfprune.core.mask import Mask  # noqa: E402
from tfprune.masking import kerases, masked_model  # noqa: E402
from tfprune.pruning import dynamic, random_erk  # noqa: E402
from tfprune.training import gradients, mask_updates  # noqa: E402

flags.DEFINE_string("keras", "2", "Keras of the model: 2 (tf_keras) or 3.")
flags.DEFINE_integer("repeats", 3, "Timed updates (the median is kept).")
flags.DEFINE_integer("batch", 16, "Batch of the gradient timing.")
FLAGS = flags.FLAGS


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def main(argv):
    keras = kerases.keras(FLAGS.keras)
    model = masked_model.wrap(keras.applications.ResNet50(weights=None))
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy())
    kernels = masked_model.get_kernels(model)
    rng = np.random.default_rng(0)
    mask = random_erk.prune(kernels, Mask.ones_like(kernels), 0.9, rng)
    masked_model.set_masks(model, mask)
    grads = {k: rng.normal(size=v.shape).astype(np.float32) for k, v in kernels.items()}
    n = sum(v.size for v in kernels.values())

    def maths():
        dynamic.drop_and_grow(kernels, mask, 0.3, dynamic.gradient_scores(grads))

    x = rng.normal(size=(FLAGS.batch, 224, 224, 3)).astype(np.float32)
    y = rng.integers(0, 1000, FLAGS.batch)
    # the update on the model as RigL's, its growth scores drawn (SET) instead of a gradient
    callback = mask_updates.DynamicSparsity("set", 0, 10 ** 6, 1, 0.3)
    callback.set_model(model)
    callback.on_train_begin()

    rows = [("scores |g|, drop, grow (numpy)", timed(maths, FLAGS.repeats)),
            ("the whole update on the model, growth scores given",
             timed(lambda: callback.update(1), FLAGS.repeats)),
            (f"RigL's gradient of a batch of {FLAGS.batch} (224x224)",
             timed(lambda: gradients.loss_gradients(model, x, y), 1))]
    print(f"ResNet-50, {n:,} prunable weights in {len(kernels)} kernels, density "
          f"{mask.density:.3f}, Keras {FLAGS.keras}")
    table(("step", "seconds (median)"), rows)


if __name__ == "__main__":
    app.run(main)
