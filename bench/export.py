"""The table of bench/RESULTS.md's export section, from an export.json of launch/export.py.

    python launch/train.py --method=lrr
    python launch/export.py --run=runs/lrr --all --out=export/lrr
    python bench/export.py --export=export/lrr/export.json --rounds=0,10

One row per round and format: gzip size, density, test accuracy and its change against
metrics.json, and the median latency at each batch size with XNNPACK and builtin kernels.
"""
import json
import sys

from absl import app, flags

flags.DEFINE_string("export", None, "An export.json written by launch/export.py.")
flags.DEFINE_list("rounds", ["0", "10"], "Rounds to list.")
flags.mark_flag_as_required("export")
FLAGS = flags.FLAGS


def rows(summary, rounds):
    """Markdown table lines of `rounds` of an export.json `summary`."""
    batches = summary["latency"]["batch_sizes"]
    head = ["round", "density", "format", "bytes", "gzip bytes", "test acc. (change)"]
    head += [f"{r} b{b} (ms)" for r in ("XNNPACK", "builtin") for b in batches]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by_round = {rec["round"]: rec for rec in summary["rounds"]}
    for r in rounds:
        rec = by_round[r]
        keras_ms = rec.get("keras_latency_ms", {})
        tf_cells = [f"{keras_ms[str(b)]:.3f} (TF)" if str(b) in keras_ms else "" for b in batches]
        lines.append(f"| {r} | {rec['mask_density']:.3f} | Keras model in TensorFlow "
                     f"(tf.function) | | | {100 * rec['metrics_test_accuracy']:.1f}% | "
                     + " | ".join(tf_cells + [""] * len(batches)) + " |")
        for fmt, a in rec["artifacts"].items():
            times = a.get("latency_ms", {})
            cells = [f"{times[k][str(b)]:.3f}" if k in times else ""
                     for k in ("xnnpack", "builtin") for b in batches]
            lines.append(f"| {r} | {a['density']:.3f} | {fmt} | {a['bytes']:,} | "
                         f"{a['gzip_bytes']:,} | {100 * a['test_accuracy']:.1f}% "
                         f"({a['accuracy_change_points']:+.1f}) | " + " | ".join(cells) + " |")
    return lines


def main(argv):
    try:
        with open(FLAGS.export) as f:
            summary = json.load(f)
        rounds = [int(r) for r in FLAGS.rounds]
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")
    held = [rec["round"] for rec in summary["rounds"]]
    missing = [r for r in rounds if r not in held]
    if missing:
        sys.exit(f"error: --rounds: {FLAGS.export} holds rounds {', '.join(map(str, held))}, "
                 f"not {', '.join(map(str, missing))}")
    print(f"interpreter: {summary['interpreter']}; CPU: {summary['latency']['cpu']}; "
          f"{summary['latency']['litert_threads']} LiteRT thread(s), "
          f"{summary['latency']['tensorflow_threads']} TensorFlow intra-op thread(s); median "
          f"of {summary['latency']['repeats']} calls")
    print("\n".join(rows(summary, rounds)))


if __name__ == "__main__":
    app.run(main)
