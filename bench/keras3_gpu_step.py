"""One CIFAR ResNet-18 training step on Keras 3 (JAX backend), tfprune's masks vs dense.

    KERAS_BACKEND=jax python bench/keras3_gpu_step.py [--batch-size=256] [--steps=50]
        [--warmup=5] [--repeats=3] [--density=0.2] [--policy=mixed_bfloat16]

Needs a GPU machine with keras (>= 3.6), JAX and numpy; TensorFlow need not be installed: the
script imports only `tfprune/masking/prunable.py` and `tfprune/masking/keras3_constraints.py`
(which need just keras and numpy; importing `tfprune` loads nothing else), and builds its own
copy of the CIFAR ResNet-18 (tfprune/models/resnet_cifar.py, layers.py).

The masked model uses tfprune's Keras 3 mechanism unchanged: `prunable.walk` lists the
weights, `keras3_constraints.wrap` gives every prunable weight a MaskHolder and the KeepMask
constraint (w <- w * mask after each optimizer update), the masks are set to a random
0/1 pattern of density `--density`, the pruned weights are zeroed, and
`keras3_constraints.changed` drops the compiled step. The dense model is the same model
(same seed) without masks.

Timing: random data at the given batch size, `model.fit` (verbose 0) with a callback
that reads the loss after every batch (a device sync) and records the time between
batch ends; the first `--warmup` batches of each fit (compilation, warm-up) are
discarded. Each repeat runs dense then masked, so drift hits both alike. A second,
"pipelined" number per variant syncs only at the first and last timed batch, so the
host may run ahead of the device as in a normal fit: (t_last - t_first) / steps.
After timing, every pruned weight of the masked model is checked to be exactly zero.
"""
import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
BN_MOMENTUM, BN_EPSILON = 0.9, 1e-5  # tfprune/models/layers.py


sys.path.insert(0, str(ROOT))  # tfprune's package imports nothing heavy; these two need no TF
from tfprune.masking import keras3_constraints, prunable  # noqa: E402

# --- CIFAR ResNet-18, as tfprune/models/resnet_cifar.py + layers.py build it ---------------

def conv_bn(x, filters, kernel_size, name, strides=1, relu=True, suffix=""):
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                            use_bias=False, kernel_initializer="he_normal",
                            name=f"{name}_conv{suffix}")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                        name=f"{name}_bn{suffix}")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu{suffix}")(x)
    return x


def basic_block(x, filters, strides, name):
    y = conv_bn(x, filters, 3, name, strides=strides, suffix="1")
    y = conv_bn(y, filters, 3, name, relu=False, suffix="2")
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, f"{name}_shortcut", strides=strides, relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu")(y)


def resnet18(input_shape=(32, 32, 3), num_classes=10):
    inputs = keras.Input(input_shape, name="input")
    x = conv_bn(inputs, 64, 3, "stem")
    for s, channels in enumerate((64, 128, 256, 512), start=1):
        for b in (1, 2):
            x = basic_block(x, channels, 2 if s > 1 and b == 1 else 1, f"s{s}_b{b}")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, outputs, name="resnet18")


# --- models ---------------------------------------------------------------------------------

def build(variant, args):
    keras.utils.set_random_seed(args.seed)
    model = resnet18()
    pruned = []  # (variable, mask as numpy) of every masked weight
    if variant == "masked":
        weights = prunable.walk(model)
        keras3_constraints.wrap(model, weights)
        rng = np.random.default_rng(args.seed)
        for w in weights:
            if not w.prunable:
                continue
            mask = (rng.random(tuple(w.variable.shape)) < args.density).astype("float32")
            w.variable.constraint.holder.mask.assign(mask)
            pruned.append((w.variable, mask))
        keras3_constraints.apply_masks(model, [(v, v.constraint.holder.mask) for v, _ in pruned])
        keras3_constraints.changed(model)
    model.compile(
        optimizer=keras.optimizers.SGD(args.lr, momentum=0.9, weight_decay=5e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, pruned


class StepTimes(keras.callbacks.Callback):
    """Time of each batch end; `sync_every` reads the loss (a device sync) every batch,
    else only at the first and last timed batch."""

    def __init__(self, warmup, steps, sync_every):
        super().__init__()
        self.warmup, self.steps, self.sync_every = warmup, steps, sync_every
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        if self.sync_every or batch in (self.warmup - 1, self.warmup + self.steps - 1):
            float(logs["loss"])
            self.ends.append(time.perf_counter())
            self.loss = float(logs["loss"])


def run_fit(model, data, args, sync_every):
    x, y = data
    timer = StepTimes(args.warmup, args.steps, sync_every)
    start = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0,
              callbacks=[timer])
    wall = time.perf_counter() - start
    if sync_every:
        steps = np.diff(timer.ends[args.warmup - 1:]) * 1e3
    else:
        steps = np.array([(timer.ends[-1] - timer.ends[0]) * 1e3 / args.steps])
    return steps, wall, timer.loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per fit")
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches per fit")
    parser.add_argument("--repeats", type=int, default=3, help="dense/masked alternations")
    parser.add_argument("--density", type=float, default=0.2)
    parser.add_argument("--policy", default="mixed_bfloat16")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.warmup < 1:
        parser.error("--warmup must be >= 1 (the first batch compiles)")

    import jax
    keras.mixed_precision.set_global_policy(args.policy)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, jax {jax.__version__}"
          f", devices {jax.devices()}, policy {keras.mixed_precision.global_policy().name}")
    print(f"batch {args.batch_size}, warmup {args.warmup}, steps {args.steps}, repeats "
          f"{args.repeats}, density {args.density}")

    rng = np.random.default_rng(args.seed)
    n = (args.warmup + args.steps) * args.batch_size
    data = (rng.normal(size=(n, 32, 32, 3)).astype("float32"), rng.integers(0, 10, n))

    variants = ("dense", "masked")
    models, pruned = {}, {}
    for variant in variants:
        start = time.perf_counter()
        models[variant], found = build(variant, args)
        if found:
            pruned[variant] = found
        print(f"built {variant} in {time.perf_counter() - start:.1f} s")
    kept = sum(int(m.sum()) for _, m in pruned["masked"])
    total = sum(m.size for _, m in pruned["masked"])
    print(f"masked: {len(pruned['masked'])} tensors, {total:,} prunable weights, "
          f"{kept:,} kept (density {kept / total:.4f}); model has "
          f"{models['dense'].count_params():,} params, dtype of kernels "
          f"{pruned['masked'][0][0].dtype}, compute {models['masked'].compute_dtype}")

    times = {(v, s): [] for v in variants for s in (True, False)}
    first = {}
    for repeat in range(args.repeats):
        for sync_every in (True, False):
            for variant in variants:
                steps, wall, loss = run_fit(models[variant], data, args, sync_every)
                first.setdefault(variant, wall)
                times[(variant, sync_every)].extend(steps.tolist())
                print(f"repeat {repeat} {variant:6s} {'synced' if sync_every else 'pipelined'}"
                      f": fit {wall:.2f} s, median {np.median(steps):.3f} ms, loss {loss:.4f}",
                      flush=True)
    for variant in variants:
        print(f"first fit of {variant} (compiles): {first[variant]:.1f} s")

    # Every pruned weight of the masked model must still be exactly zero.
    nonzero = 0
    for variable, mask in pruned["masked"]:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        nonzero += int(np.count_nonzero(value[mask == 0]))
    print(f"non-zero pruned weights after training: {nonzero}")

    print("\n| variant | timing | median step ms | p10 | p90 | steps |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for sync_every in (True, False):
        for variant in variants:
            t = np.array(times[(variant, sync_every)])
            medians[(variant, sync_every)] = np.median(t)
            label = "synced each step" if sync_every else "pipelined (mean per fit)"
            count = len(t) if sync_every else f"{len(t)} x {args.steps}"
            print(f"| {variant} | {label} | {np.median(t):.3f} | {np.percentile(t, 10):.3f} | "
                  f"{np.percentile(t, 90):.3f} | {count} |")
    for sync_every in (True, False):
        ratio = medians[("masked", sync_every)] / medians[("dense", sync_every)]
        print(f"ratio masked/dense ({'synced' if sync_every else 'pipelined'}): {ratio:.4f}")
    if nonzero:
        sys.exit("pruned weights are not zero: the masked model is wrong")


if __name__ == "__main__":
    main()
