"""Step time of one model dense vs tfprune's fixed mask vs stock tfmot, with and without XLA.

    python bench/step_time.py [--models=lenet300_100,resnet20] [--steps=20] [--repeats=3]

Random data at batch 128; each configuration trains `--steps` steps per repeat after a
first fit that compiles; the configurations are interleaved within each repeat so that
machine noise hits them alike; the table gives median per-step times and ratios to dense.
"""
import numpy as np
from absl import app, flags
from common import StepTimer, median, table

from tfprune.masking import masked_model
from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tf
from tfprune.masking.kerases import tfmot as _tfmot
from tfprune.training import callbacks as cb

keras, tfmot = _keras("2"), _tfmot()
from tfprune.models import registry as models

flags.DEFINE_list("models", ["lenet300_100", "resnet20"], "Models to time.")
flags.DEFINE_integer("steps", 20, "Timed steps per configuration and repeat.")
flags.DEFINE_integer("repeats", 3, "Interleaved repeats.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
FLAGS = flags.FLAGS
SHAPES = {"lenet300_100": (28, 28, 1), "resnet20": (32, 32, 3), "convnet": (40, 1)}


def build(name, variant, xla):
    keras.utils.set_random_seed(0)
    model = models.get(name, SHAPES[name], 10)
    callbacks = []
    if variant == "tfprune":
        model = masked_model.wrap(model)
        masked_model.prune(model, 0.5)
        callbacks = [cb.KeepMasks()]
    elif variant == "tfmot":
        schedule = tfmot.sparsity.keras.ConstantSparsity(0.5, begin_step=0, frequency=100)
        model = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
        callbacks = [tfmot.sparsity.keras.UpdatePruningStep()]
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=xla)
    return model, callbacks


def dataset(name, steps):
    rng = np.random.default_rng(0)
    n = steps * FLAGS.batch_size
    x = rng.normal(size=(n,) + SHAPES[name]).astype("float32")
    y = rng.integers(0, 10, n)
    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(FLAGS.batch_size).cache().with_options(
        options)


def main(argv):
    del argv
    rows = []
    for name in FLAGS.models:
        data = dataset(name, FLAGS.steps)
        configs = {(v, x): build(name, v, x) for x in (False, True)
                   for v in ("dense", "tfprune", "tfmot")}
        for model, callbacks in configs.values():  # compile (and warm up) every configuration
            model.fit(data.take(2), epochs=1, verbose=0, callbacks=callbacks)
        times = {key: [] for key in configs}
        for _ in range(FLAGS.repeats):
            for key, (model, callbacks) in configs.items():
                timer = StepTimer()
                model.fit(data, epochs=1, verbose=0, callbacks=callbacks + [timer])
                times[key] += timer.seconds[1:]
        for xla in (False, True):
            dense = median(times[("dense", xla)])
            for variant in ("dense", "tfprune", "tfmot"):
                step = median(times[(variant, xla)])
                rows.append((name, "XLA" if xla else "no XLA", variant, step * 1e3, step / dense))
    table(("model", "compile", "variant", "ms / step (median)", "ratio to dense"), rows)


if __name__ == "__main__":
    app.run(main)
