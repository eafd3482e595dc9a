"""Figures and tables from run directories, drawn with matplotlib in the style of the paper.

Runs that differ only in seed (and location) form one group: its line is the
mean over seeds, with a band of one standard deviation.
"""
import itertools
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tfprune import analysis, files  # noqa: E402
from tfprune.rundir import RunDir  # noqa: E402

DENSITY_TICKS = (1.0, 0.64, 0.41, 0.26, 0.17, 0.11, 0.07, 0.04, 0.02, 0.01)
NOT_GROUPED = ("seed",) + RunDir.FREE_KEYS  # keys that do not change a run's results


def load_run(path):
    """Returns (config dict, list of round metrics) of a run directory; refuses other folders."""
    run_dir = RunDir(path)
    if not run_dir.is_run():
        raise ValueError(f"{path} is not a run directory (no config.json); "
                         "pass folders written by launch/train.py")
    rounds = [run_dir.metrics(r) for r in run_dir.completed_rounds()]
    if not rounds:
        raise ValueError(f"{path} has no completed round yet")
    return run_dir.read_config(), rounds


def find_runs(path):
    """The run directories at or below `path` (a run, or e.g. a sweep folder), sorted."""
    if RunDir(path).is_run():
        return [path]
    found = sorted(root for root, _, names in os.walk(path) if "config.json" in names)
    if not found:
        raise ValueError(f"{path} is not a run directory and holds none (no config.json); "
                         "pass folders written by launch/train.py or launch/sweep.py")
    return found


def group_runs(paths):
    """{label: [run paths]}: runs that differ only in seed share a label.

    Runs with a `name` (sweeps set it) are grouped by name and width; the label of
    the others is the method, plus the config keys that tell groups of the same
    method apart (e.g. "lrr pruning=random_erk").
    """
    configs = {p: load_run(p)[0] for p in paths}
    changed = {p: _changed_from(p) for p in paths}  # retrained after a divergence: own group

    def key(config):
        name = config.get("name") or ""
        return (name,) + tuple(sorted((k, str(v)) for k, v in config.items()
                                      if k not in NOT_GROUPED + ("mask_from", "signs_from")
                                      or (not name and k in ("mask_from", "signs_from"))))

    key = {p: key(c) + (changed[p],) for p, c in configs.items()}
    groups = {}
    for p in paths:
        groups.setdefault(key[p], []).append(p)
    varying = {k for k in configs[paths[0]] if k not in NOT_GROUPED + ("method",)
               and len({str(c.get(k)) for c in configs.values()}) > 1}
    labels = {}
    for members in groups.values():
        config = configs[members[0]]
        if config.get("name"):
            shown = ["width"] if "width" in varying else []
            label = config["name"]
        else:
            shown, label = sorted(varying), config["method"]
        extra = " ".join(f"{k}={config.get(k)}" for k in shown)
        label = f"{label} {extra}".strip()
        if changed[members[0]] is not None:
            label += f" (settings changed at round {changed[members[0]]})"
        while label in labels:  # two groups that the shown keys do not tell apart
            label += "'"
        labels[label] = members
    return labels


def _changed_from(path):
    """The first round trained with settings changed after a divergence, or None."""
    changes = RunDir(path).config_changes()
    return changes[0]["from_round"] if changes else None


def _series(paths, metric):
    """(rounds, mean, std) of `metric` over the runs, on the rounds all of them completed."""
    per_run = [[m.get(metric) for m in load_run(p)[1]] for p in paths]
    n = min(len(v) for v in per_run)
    rounds = [r for r in range(n) if all(v[r] is not None for v in per_run)]
    values = np.array([[v[r] for r in rounds] for v in per_run], dtype=float)
    return np.array(rounds), values.mean(axis=0), values.std(axis=0)


def _finish(fig, ax, path, legend=True):
    ax.grid(True, which="both", alpha=0.3)
    if legend:
        ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def accuracy_vs_density(groups, path):
    """Test accuracy (%) against density on a log axis; one line (mean, std band) per group."""
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    rows, lowest = [], 1.0
    for label, paths in groups.items():
        rounds, density, _ = _series(paths, "density")
        _, mean, std = _series(paths, "test_accuracy")
        mean, std = 100 * mean, 100 * std
        ax.plot(density, mean, marker="o", markersize=3, label=f"{label} (n={len(paths)})")
        ax.fill_between(density, mean - std, mean + std, alpha=0.2)
        lowest = min(lowest, density.min())
        rows += [(label, int(r), d, m, s) for r, d, m, s in zip(rounds, density, mean, std)]
    ax.set_xscale("log")
    ticks = [d for d in DENSITY_TICKS if d >= 0.9 * lowest]
    ax.set_xticks(ticks, [f"{d:g}" for d in ticks])
    ax.minorticks_off()
    ax.invert_xaxis()
    ax.set_xlabel("density (fraction of weights kept)")
    ax.set_ylabel("test accuracy (%)")
    _finish(fig, ax, path)
    return ("run", "round", "density", "test accuracy % (mean)", "std"), rows


def sign_flips(groups, path):
    """Global sign-flip fraction per round: vs the rewind point and vs the previous round."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), dpi=150, sharex=True)
    rows = []
    for label, paths in groups.items():
        rounds, vs_rewind, _ = _series(paths, "sign_flips_vs_rewind")
        prev_rounds, vs_prev, _ = _series(paths, "sign_flips_vs_prev_round")
        axes[0].plot(rounds, vs_rewind, marker="o", markersize=3, label=label)
        axes[1].plot(prev_rounds, vs_prev, marker="o", markersize=3, label=label)
        previous = dict(zip(prev_rounds.tolist(), vs_prev))
        rows += [(label, int(r), f, previous.get(int(r), float("nan")))
                 for r, f in zip(rounds, vs_rewind)]
    axes[0].set_title("vs rewind point", fontsize=9)
    axes[1].set_title("vs end of previous round", fontsize=9)
    for ax in axes:
        ax.set_xlabel("round")
        ax.set_ylabel("fraction of surviving weights flipped")
        ax.grid(True, alpha=0.3)
    _finish(fig, axes[1], path)
    return ("run", "round", "sign flips vs rewind", "sign flips vs previous round"), rows


def layer_density(groups, path):
    """Per-layer density per round of the first run of each group, one panel per group."""
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.5), dpi=150,
                             squeeze=False)
    rows = []
    for ax, (label, paths) in zip(axes[0], groups.items()):
        rounds = load_run(paths[0])[1]
        for layer in rounds[0]["layer_density"]:
            values = [m["layer_density"][layer] for m in rounds]
            ax.plot(range(len(rounds)), values, label=layer)
            rows += [(label, layer, r, v) for r, v in enumerate(values)]
        ax.set_yscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("round")
        ax.set_ylabel("layer density")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    _finish(fig, axes[0][-1], path, legend=False)
    return ("run", "layer", "round", "density"), rows


def mask_overlap(groups, path):
    """Jaccard overlap of the masks of two groups' first runs at each round."""
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    rows = []
    for (a, pa), (b, pb) in itertools.combinations(groups.items(), 2):
        first, second = RunDir(pa[0]), RunDir(pb[0])
        n = min(len(first.completed_rounds()), len(second.completed_rounds()))
        overlap = [analysis.mask_overlap(first.mask(r), second.mask(r))["global"]
                   for r in range(n)]
        ax.plot(range(n), overlap, marker="o", markersize=3, label=f"{a} vs {b}")
        rows += [(a, b, r, o) for r, o in enumerate(overlap)]
    ax.set_xlabel("round")
    ax.set_ylabel("mask overlap (Jaccard)")
    _finish(fig, ax, path, legend=bool(rows))
    return ("run", "other run", "round", "overlap"), rows


FIGURES = {
    "accuracy_vs_density": accuracy_vs_density,
    "sign_flips": sign_flips,
    "layer_density": layer_density,
    "mask_overlap": mask_overlap,
}


def _table(header, rows):
    def cell(v):
        return f"{v:.4f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def write(paths, out):
    """Draws every figure of FIGURES into `out` and writes `summary.md` with their tables.

    Returns:
        The paths written.
    """
    groups = group_runs(list(paths))
    written, sections = [], ["# tfprune report", "",
                             "Runs: " + ", ".join(f"{k} ({', '.join(v)})" for k, v in groups.items())]
    for name, draw in FIGURES.items():
        if name == "mask_overlap" and len(groups) < 2:
            continue
        png = os.path.join(out, f"{name}.png")
        header, rows = draw(groups, png)
        written.append(png)
        sections += ["", f"## {name}", "", f"![{name}]({name}.png)", "", _table(header, rows)]
    changes = [f"- {path}: from round {c['from_round']} (diverged at epoch "
               f"{(c['diverged'] or {}).get('epoch')}), " + ", ".join(
                   f"{k} {v['old']!r} -> {v['new']!r}" for k, v in c["changed"].items())
               for members in groups.values() for path in members
               for c in RunDir(path).config_changes()]
    if changes:
        sections += ["", "## settings changed after a divergence", "", *changes]
    summary = os.path.join(out, "summary.md")
    files.write_text(summary, "\n".join(sections) + "\n")
    return written + [summary]
