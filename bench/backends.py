"""Each engine at its own speed: tf_keras, Keras 3 on TensorFlow, on JAX (and on PyTorch where
it is installed), side by side in one run.

    python bench/backends.py [--epochs=8] [--default_run]

Each engine runs in its own process (Keras reads KERAS_BACKEND once):
1. Per step: the default convnet on MNIST-1D shapes (40, 1), batch 128, 32 steps an epoch of
   random data; dense, and masked (`tfprune.wrap`, 50% pruned, `KeepMasks`); the median of
   --epochs epochs after a first one that compiles, divided by 32.
2. The engine's epoch against that bare `model.fit` epoch of the masked model: `tfprune`'s
   loop, one pruned round of --epochs + 1 epochs on MNIST-1D (4,000 examples: 32 steps), the
   median of its epochs after the round's first.
3. With --default_run: the wall time of `python launch/train.py --method=lrr` (10 rounds of 12
   epochs) per engine, and its last round's test accuracy.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import median, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
flags.DEFINE_integer("epochs", 8, "Timed epochs per measurement.")
flags.DEFINE_bool("default_run", False, "Also time the default run of each engine.")
flags.DEFINE_string("worker", None, "Internal: measure one engine in this process.")
FLAGS = flags.FLAGS
ENGINES = {"tf_keras": ("2", "tensorflow"), "keras3_tensorflow": ("3", "tensorflow"),
           "keras3_jax": ("3", "jax"), "keras3_torch": ("3", "torch")}
STEPS, BATCH = 32, 128


def available():
    return [e for e, (_, backend) in ENGINES.items()
            if backend == "tensorflow" or importlib.util.find_spec(backend)]


def worker(engine):
    """Measures `engine` in this process (KERAS_BACKEND set by the parent); prints JSON."""
    from tfprune.engine import loop
    from tfprune.engine.config import Config
    from tfprune.masking import kerases, masked_model
    from tfprune.models import registry as models
    from tfprune.training import callbacks as cb

    flavour, backend = ENGINES[engine]
    keras = kerases.keras(flavour)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS * BATCH, 40, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=STEPS * BATCH)
    out = {}
    for variant in ("dense", "masked"):
        keras.utils.set_random_seed(0)
        model = models.get("convnet", (40, 1), 10, keras=keras)
        callbacks = []
        if variant == "masked":
            model = masked_model.wrap(model)
            masked_model.prune(model, 0.5)
            callbacks = [cb.KeepMasks()]
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=False if backend == "tensorflow" else "auto")
        timer = EpochTimer()
        model.fit(x, y, batch_size=BATCH, epochs=FLAGS.epochs + 1, verbose=0,
                  callbacks=callbacks + [timer])
        out[variant] = 1000 * median(timer.seconds[1:]) / STEPS
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as workdir:
        loop.run(Config(keras=flavour, backend=backend, rounds=1, epochs=FLAGS.epochs + 1,
                        download=False, workdir=workdir), callbacks=[timer])
    out["engine"] = 1000 * median(timer.seconds[FLAGS.epochs + 2:]) / STEPS
    print("RESULT " + json.dumps(out))


def measure(engine):
    flavour, backend = ENGINES[engine]
    env = dict(os.environ, KERAS_BACKEND=backend)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), f"--worker={engine}",
                           f"--epochs={FLAGS.epochs}"], env=env, capture_output=True,
                          text=True, check=True)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def default_run(engine):
    flavour, backend = ENGINES[engine]
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "launch", "train.py"),
                        "--method=lrr", f"--keras={flavour}", f"--workdir={workdir}"]
                       + ([f"--backend={backend}"] if flavour == "3" else []),
                       check=True, capture_output=True)
        seconds = time.perf_counter() - start
        with open(os.path.join(workdir, "round_10", "metrics.json")) as f:
            accuracy = json.load(f)["test_accuracy"]
    return seconds, accuracy


def main(argv):
    del argv
    if FLAGS.worker:
        return worker(FLAGS.worker)
    engines = available()
    results = {e: measure(e) for e in engines}
    base = results["tf_keras"]
    rows = [[e, f"{r['dense']:.1f}", f"{r['masked']:.1f}", f"{r['masked'] / r['dense']:.2f}",
             f"{r['masked'] / base['masked']:.2f}", f"{r['engine']:.1f}",
             f"{r['engine'] / r['masked']:.2f}"] for e, r in results.items()]
    print(f"\nconvnet, MNIST-1D shapes, batch {BATCH}, {STEPS} steps an epoch, median of "
          f"{FLAGS.epochs} epochs (ms per step); not installed: "
          f"{', '.join(sorted(set(ENGINES) - set(engines))) or 'none'}")
    table(["engine", "dense", "masked", "masked / dense", "masked / tf_keras masked",
           "engine (tfprune's loop)", "engine / bare masked fit"], rows)
    if FLAGS.default_run:
        runs = {e: default_run(e) for e in engines}
        print("\nThe default run (python launch/train.py --method=lrr; 10 rounds of 12 epochs)")
        table(["engine", "wall s", "/ tf_keras", "round 10 test accuracy %"],
              [[e, f"{s:.0f}", f"{s / runs['tf_keras'][0]:.2f}", f"{100 * a:.1f}"]
               for e, (s, a) in runs.items()])


if __name__ == "__main__":
    app.run(main)
