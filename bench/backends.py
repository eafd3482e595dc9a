"""Each engine at its own speed: tf_keras, Keras 3 on TensorFlow, on JAX (and on PyTorch where
it is installed), side by side in one run.

    python bench/backends.py [--epochs=8] [--default_run] [--seeds=0,1,2]

Each engine runs in its own process (Keras reads KERAS_BACKEND once):
1. Per step, dense and masked (`tfprune.wrap`, 50% pruned, `KeepMasks`), on random numpy data,
   batch 128: the default convnet on MNIST-1D shapes (40, 1), 32 steps an epoch; ResNet-20 on
   CIFAR shapes (32, 32, 3), 4 steps an epoch; the median of --epochs epochs after a first
   one that compiles.
2. The engine's epoch against bare `model.fit` epochs of the masked convnet: `tfprune`'s loop,
   one pruned round of --epochs + 1 epochs on MNIST-1D (4,000 examples: 32 steps), every
   engine callback on, the median of its epochs after the round's first; a bare fit of the same
   model on the same tf.data stream (engine.feed), and on numpy arrays.
3. With --default_run: the wall time of `python launch/train.py --method=lrr` (10 rounds of 12
   epochs) per engine and seed, and its last round's test accuracy.
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
flags.DEFINE_list("seeds", ["0"], "Seeds of the default runs.")
flags.DEFINE_string("worker", None, "Internal: measure one engine in this process.")
FLAGS = flags.FLAGS
ENGINES = {"tf_keras": ("2", "tensorflow"), "keras3_tensorflow": ("3", "tensorflow"),
           "keras3_jax": ("3", "jax"), "keras3_torch": ("3", "torch")}
MODELS = {"convnet": ((40, 1), 32), "resnet20": ((32, 32, 3), 4)}  # input shape, steps/epoch
BATCH = 128


def available():
    return [e for e, (_, backend) in ENGINES.items()
            if backend == "tensorflow" or importlib.util.find_spec(backend)]


def worker(engine):
    """Measures `engine` in this process (KERAS_BACKEND set by the parent); prints JSON."""
    from tfprune.engine import build, feed, loop
    from tfprune.engine.config import Config
    from tfprune.engine.monitors import EpochTimer
    from tfprune.masking import kerases, masked_model
    from tfprune.models import registry as models
    from tfprune.training import callbacks as cb

    flavour, backend = ENGINES[engine]
    keras = kerases.keras(flavour)
    jit = False if backend == "tensorflow" else "auto"

    def per_step(model, x, y, steps, callbacks=()):
        timer = EpochTimer()
        model.fit(x, y, batch_size=BATCH, epochs=FLAGS.epochs + 1, verbose=0,
                  callbacks=list(callbacks) + [timer])
        return 1000 * median(timer.seconds[1:]) / steps

    rng = np.random.default_rng(0)
    out = {}
    for name, (shape, steps) in MODELS.items():
        x = rng.normal(size=(steps * BATCH, *shape)).astype(np.float32)
        y = rng.integers(0, 10, size=steps * BATCH)
        for variant in ("dense", "masked"):
            keras.utils.set_random_seed(0)
            model = models.get(name, shape, 10, keras=keras)
            callbacks = []
            if variant == "masked":
                model = masked_model.wrap(model)
                masked_model.prune(model, 0.5)
                callbacks = [cb.KeepMasks()]
            model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          jit_compile=jit)
            out[f"{name} {variant}"] = per_step(model, x, y, steps, callbacks)
    timer = EpochTimer()
    config = Config(keras=flavour, backend=backend, rounds=1, epochs=FLAGS.epochs + 1,
                    download=False)
    with tempfile.TemporaryDirectory() as workdir:
        loop.run(config.to_dict() | {"workdir": workdir}, callbacks=[timer])
    steps = MODELS["convnet"][1]
    out["engine"] = 1000 * median(timer.seconds[FLAGS.epochs + 2:]) / steps
    data = build.load_data(config, 0)
    model = build.build_model(config, data)  # the engine's compiled model, pruned once
    masked_model.prune(model, 0.2)
    callbacks = [cb.KeepMasks()] if flavour == "2" else []
    timer = EpochTimer()
    model.fit(feed.stream(data, 0, 0, FLAGS.epochs + 1), epochs=FLAGS.epochs + 1, verbose=0,
              steps_per_epoch=feed.steps_per_epoch(data, BATCH), callbacks=callbacks + [timer])
    out["bare stream"] = 1000 * median(timer.seconds[1:]) / steps
    x, y = (np.concatenate(parts) for parts in zip(*data.train.as_numpy_iterator()))
    out["bare numpy"] = per_step(model, x, y, steps, callbacks)
    print("RESULT " + json.dumps(out))


def measure(engine):
    flavour, backend = ENGINES[engine]
    env = dict(os.environ, KERAS_BACKEND=backend)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), f"--worker={engine}",
                           f"--epochs={FLAGS.epochs}"], env=env, capture_output=True,
                          text=True, check=True)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def default_run(engine, seed):
    flavour, backend = ENGINES[engine]
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "launch", "train.py"),
                        "--method=lrr", f"--keras={flavour}", f"--workdir={workdir}",
                        f"--seed={seed}"] + ([f"--backend={backend}"] if flavour == "3" else []),
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
    rows = []
    for e, r in results.items():
        row = [e]
        for name in MODELS:
            row += [f"{r[name + ' dense']:.1f}", f"{r[name + ' masked']:.1f}",
                    f"{r[name + ' masked'] / r[name + ' dense']:.2f}"]
        rows.append(row + [f"{r['engine']:.1f}", f"{r['bare stream']:.1f}",
                           f"{r['engine'] / r['bare stream']:.2f}", f"{r['bare numpy']:.1f}",
                           f"{r['engine'] / r['bare numpy']:.2f}"])
    print(f"\nms per step, batch {BATCH}, median of {FLAGS.epochs} epochs; not installed: "
          f"{', '.join(sorted(set(ENGINES) - set(engines))) or 'none'}")
    header = ["engine"]
    for name in MODELS:
        header += [f"{name} dense", "masked", "masked / dense"]
    table(header + ["engine (tfprune's loop)", "bare fit, same tf.data", "engine / bare",
                    "bare fit, numpy", "engine / bare numpy"], rows)
    if FLAGS.default_run:
        runs = {e: [default_run(e, seed) for seed in FLAGS.seeds] for e in engines}
        base = median([s for s, _ in runs["tf_keras"]])
        print(f"\nThe default run (python launch/train.py --method=lrr; 10 rounds of 12 epochs), "
              f"seeds {','.join(FLAGS.seeds)}: median wall time, accuracy mean and range")
        table(["engine", "wall s", "/ tf_keras", "round 10 test accuracy %", "per seed"],
              [[e, f"{median([s for s, _ in r]):.0f}", f"{median([s for s, _ in r]) / base:.2f}",
                f"{100 * np.mean([a for _, a in r]):.1f}",
                " ".join(f"{100 * a:.1f}" for _, a in r)] for e, r in runs.items()])


if __name__ == "__main__":
    app.run(main)
