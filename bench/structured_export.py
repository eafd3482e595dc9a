"""Structured pruning end to end: trained runs under each structure, exported as LiteRT and
compared with their own dense round 0, and the time to build a structured mask over ResNet-50.

    python bench/structured_export.py [--workdir=/tmp/tfprune_structured] [--repeats=200]

1. Mask time: one pruning round (20%) of Keras 3 ResNet-50's 54 kernels (224x224 input) under
   each structure, the channel graph included; median of 3.
2. LeNet-300-100 on MNIST-1D, LRR, 8 rounds of 10 epochs (density 0.8^8 = 0.17) under each
   structure; rounds 0 and 8 exported by `tfprune export` (tflite and tflite_sparse), each
   artifact against round 0 in the same format (`speedup_vs_dense` of export.json).
3. The default convnet on MNIST-1D, LRR with --structure=channel, 8 rounds of 6 epochs, with
   global and with per-layer magnitude (--pruning): the sparsest round whose test accuracy is
   within 1 point of round 0, exported the same way (the smaller dense model).

Runs are reused from --workdir when complete (delete it to retrain).
"""
import os
import sys
import time

import numpy as np
from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import median, table  # noqa: E402

from tfprune.core.mask import Mask  # noqa: E402
from tfprune.engine import loop  # noqa: E402
from tfprune.engine.config import Config  # noqa: E402
from tfprune.export import artifacts, latency, litert  # noqa: E402
from tfprune.export import plan as export_plan  # noqa: E402
from tfprune.masking import channel_graph, kerases, prunable  # noqa: E402
from tfprune.pruning import registry, structures  # noqa: E402

flags.DEFINE_string("workdir", "/tmp/tfprune_structured", "Where the runs and exports go.")
flags.DEFINE_integer("repeats", 200, "Timed invokes per latency (the median is kept).")
FLAGS = flags.FLAGS
STRUCTURES = ("unstructured", "block:1x4", "nm:2:4", "channel")
FORMATS = ("tflite", "tflite_sparse")


def mask_times():
    """Rows (structure, graph s, mask s, density) for one round over ResNet-50's kernels."""
    keras = kerases.keras(kerases.KERAS3)
    model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    kernels = {w.key: w.variable.numpy() for w in prunable.walk(model) if w.prunable}
    rows = []
    for spec in STRUCTURES:
        graph, build, mask = [], [], None
        for _ in range(3):
            start = time.perf_counter()
            channels = channel_graph.build(model) if spec == "channel" else None
            middle = time.perf_counter()
            mask = structures.prune(registry.get("global_magnitude"), structures.parse(spec),
                                    kernels, Mask.ones_like(kernels), 0.2,
                                    np.random.default_rng(0), channels=channels)
            graph.append(middle - start)
            build.append(time.perf_counter() - middle)
        rows.append([spec, f"{median(graph):.3f}", f"{median(build):.3f}",
                     f"{median(graph) + median(build):.3f}", f"{mask.density:.3f}"])
    return rows, sum(v.size for v in kernels.values())


def train(name, **overrides):
    workdir = os.path.join(FLAGS.workdir, name)
    logging.info("training (or reusing) %s", workdir)
    return loop.run(Config(download=False, workdir=workdir, **overrides))


def export(name, r):
    """export.json of rounds 0 and `r` of run `name`, in FORMATS."""
    plan = export_plan.Plan(os.path.join(FLAGS.workdir, name), (0, r), FORMATS,
                            os.path.join(FLAGS.workdir, f"export_{name}"), figure=False,
                            overwrite=True)
    return artifacts.export(plan, artifacts.Options(repeats=FLAGS.repeats))


def rows_of(model, spec, summary):
    dense, pruned = summary["rounds"]
    out = []
    for fmt in FORMATS:
        a, d = pruned["artifacts"][fmt], dense["artifacts"][fmt]
        speed = a["speedup_vs_dense"]
        out.append([model, spec, pruned["round"], f"{pruned['mask_density']:.3f}",
                    f"{100 * pruned['metrics_test_accuracy']:.1f} "
                    f"({100 * dense['metrics_test_accuracy']:.1f})",
                    fmt, a["densify_ops"], f"{a['bytes'] / 1e3:.0f} kB",
                    f"{a['bytes'] / d['bytes']:.2f}"]
                   + [f"{a['latency_ms'][res][b]:.3f} ({1 / speed[res][b]:.2f}x)"
                      for res in (litert.XNNPACK, litert.BUILTIN) for b in ("1", "32")])
    return out


def main(argv):
    del argv
    mask_rows, size = mask_times()
    rows = []
    for spec in STRUCTURES:
        name = f"lenet_{spec.replace(':', '_')}"
        train(name, model="lenet300_100", structure=spec, rounds=8, epochs=10)
        rows += rows_of("lenet300_100", spec, export(name, 8))
    for pruning in ("global_magnitude", "layerwise_magnitude"):
        name = f"convnet_channel_{pruning}"
        results = train(name, structure="channel", pruning=pruning, rounds=8, epochs=6)
        dense = results[0]["test_accuracy"]
        best = max((m for m in results if m["test_accuracy"] >= dense - 0.01),
                   key=lambda m: m["round"])
        rows += rows_of(f"convnet ({pruning})", "channel", export(name, best["round"]))

    print(f"\nMask time, ResNet-50 ({size:,} weights in its kernels), one round of 20%, "
          "median of 3")
    table(["structure", "channel graph s", "mask s", "total s", "density"], mask_rows)
    print(f"\nLiteRT ({litert.interpreter_class()[1]}, 1 thread, median of {FLAGS.repeats} "
          f"invokes; CPU: {latency.cpu_name()}); time (ratio to round 0 in the same format)")
    table(["model", "structure", "round", "density", "test acc % (round 0)", "format",
           "DENSIFY", "file", "file / dense"]
          + [f"{r} b{b} ms" for r in ("XNNPACK", "builtin") for b in (1, 32)], rows)


if __name__ == "__main__":
    app.run(main)
