"""The trade-off figure of an export: test accuracy against download size and against
latency, one point per round, to pick the round to deploy."""
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

STYLE = {  # format: (label, colour, marker)
    "keras": ("Keras (.keras)", "tab:gray", "s"),
    "saved_model": ("SavedModel", "tab:brown", "D"),
    "tflite": ("LiteRT float32", "tab:blue", "o"),
    "tflite_sparse": ("LiteRT float32, sparse storage", "tab:green", "^"),
    "tflite_int8": ("LiteRT int8", "tab:red", "v"),
}


def series(summary, fmt, x_of):
    """[(x, test accuracy %, round)] of `fmt`'s artifacts, for the rounds where
    `x_of(record, artifact)` is not None.

    >>> s = {"rounds": [{"round": 0, "artifacts": {"tflite": {"gzip_bytes": 2048,
    ...                                                      "test_accuracy": 0.5}}}]}
    >>> series(s, "tflite", lambda rec, a: a["gzip_bytes"] / 1024)
    [(2.0, 50.0, 0)]
    """
    points = []
    for record in summary["rounds"]:
        artifact = record["artifacts"].get(fmt)
        if artifact is None:
            continue
        x = x_of(record, artifact)
        if x is not None:
            points.append((x, 100 * artifact["test_accuracy"], record["round"]))
    return points


def _gzip_kib(record, artifact):
    return artifact["gzip_bytes"] / 1024


def _latency(batch):
    def x_of(record, artifact):
        times = artifact.get("latency_ms", {}).get("xnnpack")
        return times.get(str(batch)) if times else None
    return x_of


def _plot(ax, points, fmt, label_rounds, path=True):
    """Points of one format; `path` joins them in round order."""
    if not points:
        return
    label, colour, marker = STYLE[fmt]
    xs, ys, _ = zip(*sorted(points, key=lambda p: p[2]))
    ax.plot(xs, ys, marker=marker, color=colour, label=label, linewidth=0.8 if path else 0,
            markersize=5, alpha=0.9)
    if label_rounds:
        for x, y, r in points:
            ax.annotate(str(r), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7,
                        color=colour)


def _log_x(ax):
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.FuncFormatter(  # label 2 and 5 of each decade
        lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.grid(True, which="both", alpha=0.3)


def draw(summary, path, batch=1):
    """Writes the figure of an export.json `summary` to `path` (PNG).

    Left: test accuracy against gzip size for each format. Right: against the median
    latency at `batch` (LiteRT with XNNPACK, and Keras). Round numbers label the points.
    """
    fig, (size_ax, time_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    formats = [f for f in STYLE if any(f in rec["artifacts"] for rec in summary["rounds"])]
    for fmt in formats:
        _plot(size_ax, series(summary, fmt, _gzip_kib), fmt, fmt in ("tflite", "tflite_int8"))
    size_ax.set_xlabel("gzip size (KiB, log scale)")
    size_ax.set_title("Accuracy vs download size", fontsize=10)
    for fmt in ("tflite", "tflite_sparse", "tflite_int8"):
        if fmt in formats:
            _plot(time_ax, series(summary, fmt, _latency(batch)), fmt, fmt == "tflite",
                  path=False)
    keras_points = [(rec["keras_latency_ms"][str(batch)],
                     100 * rec["metrics_test_accuracy"], rec["round"])
                    for rec in summary["rounds"] if str(batch) in rec.get("keras_latency_ms", {})]
    _plot(time_ax, keras_points, "keras", False, path=False)
    if keras_points:
        time_ax.lines[-1].set_label("Keras, tf.function")
    time_ax.set_xlabel(f"median latency, batch {batch} (ms, log scale)")
    threads = summary["latency"]["litert_threads"]
    time_ax.set_title(f"Accuracy vs CPU latency (LiteRT with XNNPACK, {threads} "
                      f"thread{'s' if threads > 1 else ''})", fontsize=10)
    for ax in (size_ax, time_ax):
        ax.set_ylabel("test accuracy (%)")
        ax.yaxis.set_major_locator(ticker.MaxNLocator(steps=[1, 2, 5, 10]))  # no 96.25 as "96.2"
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.margins(y=0.08)
        if ax.lines:
            _log_x(ax)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3,
                      frameon=False)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"Which round to deploy: {summary.get('method')} {summary.get('model')} on "
                 f"{summary.get('dataset')}, one point per round (labels: round)", fontsize=11)
    densities = ", ".join(f"{rec['round']}: {rec['mask_density']:.3f}"
                          for rec in summary["rounds"])
    footer = (f"density of round {densities}\nCPU: {summary['latency']['cpu']}; "
              f"interpreter: {summary['interpreter']}")
    fig.text(0.5, 0.01, textwrap.fill(footer, 180, replace_whitespace=False), ha="center",
             fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
