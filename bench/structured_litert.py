"""What LiteRT does with each mask structure: DENSIFY ops, file size and latency, side by side.

    python bench/structured_litert.py [--model=mlp1024] [--density=0.1] [--repeats=50]
    python bench/structured_litert.py --model=lenet300_100 --density=0.168

`--model=mlp1024`: a Dense MLP 1024-1024-1024-1024-10; `lenet300_100`: LeNet-300-100 at MNIST's
input (784). tf_keras, random weights (the kernels' values do not change the speed). The kernels
are masked to `--density` by `tfprune.pruning.structures` (global magnitude over blocks or
channels, in rounds like pruning: the MLP's three hidden kernels, all of LeNet's), then
converted with `Optimize.EXPERIMENTAL_SPARSITY` (the dense model without it); `channel` is the
smaller dense model rebuilt from the kept units (`tfprune.export.shrink`). Per mask: the
DENSIFY ops and
sparse tensors in the flatbuffer, its size, and the median latency of `--repeats` invokes at
batch 1 and 32 with XNNPACK (LiteRT's default) and with the builtin kernels, with the speed-up
against the dense model in the same run. The outputs of every flatbuffer are checked against
the Keras model first.
"""
import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import table  # noqa: E402

from tfprune.core.mask import Mask  # noqa: E402
from tfprune.export import latency, litert, shrink  # noqa: E402
from tfprune.masking import channel_graph, kerases  # noqa: E402
from tfprune.models import registry as models  # noqa: E402
from tfprune.pruning import channels as channel_maths  # noqa: E402
from tfprune.pruning import registry, structures  # noqa: E402

flags.DEFINE_enum("model", "mlp1024", ["mlp1024", "lenet300_100"], "The model to mask.")
flags.DEFINE_float("density", 0.1, "Density of the masked kernels.")
flags.DEFINE_integer("repeats", 50, "Timed invokes per measurement (the median is kept).")
flags.DEFINE_integer("threads", 1, "LiteRT interpreter threads.")
flags.DEFINE_list("structures", ["unstructured", "block:1x4", "block:4x1", "block:1x16",
                                 "nm:2:4", "channel"], "Mask structures to compare with dense.")
FLAGS = flags.FLAGS
WIDTH, DEPTH, BATCHES = 1024, 4, (1, 32)


def build():
    """The model of --model and the names of the layers whose kernels are masked."""
    keras = kerases.keras("2")
    keras.utils.set_random_seed(0)
    if FLAGS.model == "lenet300_100":
        return models.get("lenet300_100", (28, 28, 1), 10, keras=keras), ("fc1", "fc2", "fc")
    layers = [keras.Input((WIDTH,))] + [keras.layers.Dense(WIDTH, activation="relu",
                                                          name=f"fc{i}") for i in range(DEPTH - 1)]
    return (keras.Sequential(layers + [keras.layers.Dense(10, name="out")]),
            tuple(f"fc{i}" for i in range(DEPTH - 1)))


def masked(model, names, spec, density):
    """`model` with the kernels of `names` masked to `density` under structure `spec` (in place;
    `channel`: every kernel reading a unit too, and the smaller model is returned)."""
    graph = channel_graph.build(model) if spec == "channel" else None
    names = set(names) | {k.split("/")[0] for k in (graph.kernels if graph else ())}
    kernels = {f"{n}/kernel": model.get_layer(n).kernel.numpy() for n in sorted(names)}
    structure, mask = structures.parse(spec), Mask.ones_like(kernels)
    while mask.density > density * 1.01:  # rounds of the fraction that lands on `density`
        fraction = min(0.5, 1 - density / mask.density)
        mask = structures.prune(registry.get("global_magnitude"), structure, kernels, mask,
                                fraction, np.random.default_rng(0), channels=graph)
        kernels = {k: v * mask[k] for k, v in kernels.items()}
    for key, value in kernels.items():
        model.get_layer(key.split("/")[0]).kernel.assign(value)
    if graph is not None:
        model = shrink.shrink(model, graph, channel_maths.kept_classes(graph, mask)).model
    return model, mask


def measure(flatbuffer, x):
    out = {}
    for resolver in (litert.XNNPACK, litert.BUILTIN):
        def make(b):
            return litert.Runner(flatbuffer, b, "auto", resolver, FLAGS.threads).invoker(x[:b])
        out[resolver] = latency.by_batch(make, BATCHES, FLAGS.repeats)
    return out


def main(argv):
    del argv
    shape = (28, 28, 1) if FLAGS.model == "lenet300_100" else (WIDTH,)
    x = np.random.default_rng(1).normal(size=(max(BATCHES), *shape)).astype(np.float32)
    results = []
    for spec in ["dense"] + FLAGS.structures:
        model, names = build()
        mask = None
        if spec != "dense":
            model, mask = masked(model, names, spec, FLAGS.density)
        flatbuffer = litert.convert(model, shape, litert.FLOAT if spec == "dense"
                                    else litert.SPARSE)
        expected = np.asarray(model(x, training=False))
        got = litert.Runner(flatbuffer, len(x), "auto", litert.XNNPACK, FLAGS.threads)(x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
        counts = litert.weight_counts(flatbuffer)
        results.append((spec, mask.density if mask else 1.0, counts, len(flatbuffer),
                        measure(flatbuffer, x)))
    dense = results[0][4]
    rows = []
    for spec, density, counts, size, ms in results:
        rows.append([spec, f"{density:.3f}", counts["densify_ops"], counts["sparse_tensors"],
                     f"{size / 1e6:.2f} MB"]
                    + [f"{ms[r][str(b)]:.3f} ({dense[r][str(b)] / ms[r][str(b)]:.1f}x)"
                       for r in (litert.XNNPACK, litert.BUILTIN) for b in BATCHES])
    what = ("LeNet-300-100 (784 inputs), all kernels" if FLAGS.model == "lenet300_100"
            else f"MLP {WIDTH}x{DEPTH}, hidden kernels")
    print(f"{what} at density {FLAGS.density}; "
          f"{litert.interpreter_class()[1]}, {FLAGS.threads} thread(s), median of "
          f"{FLAGS.repeats} invokes; CPU: {latency.cpu_name()}")
    table(["mask", "density", "DENSIFY ops", "sparse tensors", "file"]
          + [f"{r} b{b} ms (speed-up)" for r in ("XNNPACK", "builtin") for b in BATCHES], rows)


if __name__ == "__main__":
    app.run(main)
