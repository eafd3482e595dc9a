"""Figures and tables from run directories, drawn with matplotlib in the style of the paper.

Each group of runs (`engine.grouping`: the same settings, other seeds) is drawn as the mean
over seeds, with a band of one standard deviation.
"""
import itertools
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from absl import logging  # noqa: E402
from matplotlib import ticker  # noqa: E402

from tfprune.core import analysis, files  # noqa: E402
from tfprune.core.rundir import RunDir  # noqa: E402
from tfprune.engine import grouping  # noqa: E402


def group_runs(paths):
    """{label: [run paths]}: the runs averaged together (see `engine.grouping`)."""
    return {g.label: g.paths for g in grouping.group(paths)}


def _series(paths, metric):
    """(rounds, mean, std) of `metric` over the runs, on the rounds all of them completed."""
    per_run = [[m.get(metric) for m in grouping.load_run(p)[1]] for p in paths]
    n = min(len(v) for v in per_run)
    rounds = [r for r in range(n) if all(v[r] is not None for v in per_run)]
    values = np.array([[v[r] for r in rounds] for v in per_run], dtype=float)
    return np.array(rounds), values.mean(axis=0), values.std(axis=0)


class Skipped(Exception):
    """A figure that the given runs cannot draw; its message says why (summary.md shows it)."""


def _plain(value):
    """A tick label of at most two significant digits without exponent: 1, 0.8, 0.64, 0.0012."""
    return np.format_float_positional(value, precision=2, fractional=False, trim="-")


def log_ticks(values, max_ticks):
    """Tick positions among the positive `values` for a log axis, at most about `max_ticks` of
    them: from the largest down, each value at least 1/max_ticks of the (log) span below the last
    one kept, so that labels do not overlap; the smallest takes the place of the last one kept if
    that is too close. Values with the same label count once."""
    by_label = {}
    for v in sorted((float(v) for v in values if v > 0), reverse=True):
        by_label.setdefault(_plain(v), v)
    ticks = list(by_label.values())
    if len(ticks) < 2:
        return ticks
    gap = np.log10(ticks[0] / ticks[-1]) / max_ticks
    kept = [ticks[0]]
    for v in ticks[1:]:
        if np.log10(kept[-1] / v) >= gap:
            kept.append(v)
    if kept[-1] != ticks[-1]:  # too close to the last one kept, which is not the largest
        kept[-1] = ticks[-1]
    return kept


def _round_log_ticks(low, high, max_ticks):
    """Round tick positions within [low, high] for a log axis: powers of ten if that gives three,
    else 1, 2 and 5 times them if that does, else every 1 to 9 times them (thinned)."""
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    ticks = []
    for subs in ((1,), (1, 2, 5), range(1, 10)):
        ticks = [s * 10.0 ** e for e in decades for s in subs
                 if low * (1 - 1e-9) <= s * 10.0 ** e <= high * (1 + 1e-9)]
        if len(ticks) >= 3:
            break
    return log_ticks(ticks, max_ticks) or [high]


def plain_log_axis(axis, ticks):
    """Labels a log-scale axis at `ticks` with plain numbers, and its minor ticks not at all."""
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _plain(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


def _integer_rounds(ax):
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.set_xlabel("round")


def _first_runs(groups):
    """A title's note that a figure shows the first run of each group, if a group has more."""
    return " (first run of each group)" if any(len(p) > 1 for p in groups.values()) else ""


def save(fig, path):
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _saves(draw):
    """The public form of a `draw(groups) -> (figure, header, rows)`: (groups, path) -> (header,
    rows), saving the figure as the PNG `path`."""
    def saved(groups, path):
        fig, header, rows = draw(groups)
        save(fig, path)
        return header, rows

    saved.__name__, saved.__doc__ = draw.__name__.lstrip("_"), draw.__doc__
    return saved


def _accuracy_vs_density(groups):
    """Test accuracy (%) against density on a log axis; one line (mean, std band) per group."""
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    rows, densities = [], []
    for label, paths in groups.items():
        rounds, density, _ = _series(paths, "density")
        _, mean, std = _series(paths, "test_accuracy")
        mean, std = 100 * mean, 100 * std
        ax.plot(density, mean, marker="o", markersize=3, label=f"{label} (n={len(paths)})")
        ax.fill_between(density, mean - std, mean + std, alpha=0.2)
        densities += density.tolist()
        rows += [(label, int(r), d, m, s) for r, d, m, s in zip(rounds, density, mean, std)]
    ax.set_xscale("log")
    ax.minorticks_off()
    plain_log_axis(ax.xaxis, log_ticks(densities, max_ticks=7))
    ax.invert_xaxis()
    ax.set_xlabel("density (fraction of weights kept)")
    ax.set_ylabel("test accuracy (%)")
    seeds = ", mean ± std over seeds" if any(len(p) > 1 for p in groups.values()) else ""
    ax.set_title(f"Test accuracy vs density, one point per round{seeds}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig, ("run", "round", "density", "test accuracy % (mean)", "std"), rows


def _sign_flips(groups):
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
    fig.suptitle("Sign flips of the surviving weights at the end of each round"
                 + (", mean over seeds" if any(len(p) > 1 for p in groups.values()) else ""),
                 fontsize=10)
    axes[0].set_title("vs rewind point", fontsize=9)
    axes[1].set_title("vs end of previous round", fontsize=9)
    for ax in axes:
        _integer_rounds(ax)
        ax.set_ylabel("fraction of surviving weights flipped")
        ax.grid(True, alpha=0.3)
    axes[1].legend(fontsize=8)
    return fig, ("run", "round", "sign flips vs rewind", "sign flips vs previous round"), rows


def _layer_density(groups):
    """Per-layer density per round of the first run of each group, one panel per group."""
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.5), dpi=150,
                             squeeze=False)
    rows = []
    for ax, (label, paths) in zip(axes[0], groups.items()):
        rounds = grouping.load_run(paths[0])[1]
        values = []
        for layer in rounds[0]["layer_density"]:
            density = [m["layer_density"][layer] for m in rounds]
            ax.plot(range(len(rounds)), density, label=layer)
            rows += [(label, layer, r, v) for r, v in enumerate(density)]
            values += density
        ax.set_yscale("log")
        positive = [v for v in values if v > 0] or [1.0]
        plain_log_axis(ax.yaxis, _round_log_ticks(min(positive), max(positive), max_ticks=8))
        ax.set_title(label, fontsize=9)
        _integer_rounds(ax)
        ax.set_ylabel("layer density (fraction kept)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle("Density of each layer per round" + _first_runs(groups), fontsize=10)
    return fig, ("run", "layer", "round", "density"), rows


def _same_density(first, second, tolerance=0.005):
    """[(round of first, round of second, density)] of the rounds of two runs whose masks have
    the same density (within `tolerance`, relative): the same rounds for LRR and IMP, the
    last round of a GMP or RigL run ending at LRR's density."""
    theirs = [(r, second.metrics(r)["density"]) for r in second.completed_rounds()]
    pairs = []
    for r in first.completed_rounds():
        density = first.metrics(r)["density"]
        close = [q for q, d in theirs if abs(d - density) <= tolerance * density]
        if close:
            pairs.append((r, close[-1], density))
    return pairs


def _mask_overlap(groups):
    """Jaccard overlap of the masks of two groups' first runs at each density both reach."""
    if len(groups) < 2:
        raise Skipped("it compares the masks of two groups of runs round by round, and the runs "
                      f"given form one group ({next(iter(groups))}; runs that differ only in "
                      "seed are one group). Pass runs of another configuration too, e.g. "
                      "`--runs runs/lrr runs/imp`.")
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    rows, apart, densities = [], [], []
    for (a, pa), (b, pb) in itertools.combinations(groups.items(), 2):
        first, second = RunDir(pa[0]), RunDir(pb[0])
        pairs = _same_density(first, second)
        try:
            overlap = [analysis.mask_overlap(first.mask(r), second.mask(q))["global"]
                       for r, q, _ in pairs]
        except ValueError as e:  # other layers or shapes: another model or width
            apart.append(f"{a} vs {b} ({e})")
            continue
        if not pairs:
            apart.append(f"{a} vs {b} (no density in common)")
            continue
        x = [d for _, _, d in pairs]
        ax.plot(x, overlap, marker="o", markersize=3, label=f"{a} vs {b}")
        densities += x
        rows += [(a, b, r, q, d, o) for (r, q, d), o in zip(pairs, overlap)]
    if not rows:
        plt.close(fig)
        raise Skipped("no two groups have masks of the same layers and shapes at one density "
                      "(another model or width): " + "; ".join(apart))
    for pair in apart:
        logging.warning("mask_overlap.png leaves out %s", pair)
    ax.set_title("Mask overlap between groups at equal density" + _first_runs(groups),
                 fontsize=9)
    ax.set_xscale("log")
    ax.minorticks_off()
    plain_log_axis(ax.xaxis, log_ticks(densities, max_ticks=7))
    ax.invert_xaxis()
    ax.set_xlabel("density")
    ax.set_ylabel("mask overlap (Jaccard)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig, ("run", "other run", "round", "its round", "density", "overlap"), rows


def _epochs_total(paths):
    """(rounds, mean epochs behind each round's network) of the runs: `epochs_total`, or for
    runs written before it, the epochs of the round and of every round before."""
    per_run = []
    for path in paths:
        rounds = grouping.load_run(path)[1]
        cumulative = np.cumsum([m.get("epochs", 0) for m in rounds])
        per_run.append([m.get("epochs_total", c) for m, c in zip(rounds, cumulative)])
    n = min(len(v) for v in per_run)
    return np.arange(n), np.array([v[:n] for v in per_run], float).mean(axis=0)


def _accuracy_vs_epochs(groups):
    """Test accuracy (%) against the training epochs spent to reach each round's network (its
    own and every earlier round's; a SNIP mask needs none): methods at equal budgets."""
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    rows = []
    for label, paths in groups.items():
        rounds, epochs = _epochs_total(paths)
        _, density, _ = _series(paths, "density")
        _, mean, std = _series(paths, "test_accuracy")
        n = min(len(epochs), len(mean))
        epochs, density, mean, std = epochs[:n], density[:n], 100 * mean[:n], 100 * std[:n]
        ax.plot(epochs, mean, marker="o", markersize=3, label=f"{label} (n={len(paths)})")
        ax.fill_between(epochs, mean - std, mean + std, alpha=0.2)
        ax.annotate(f"d={density[-1]:.2g}", (epochs[-1], mean[-1]), fontsize=6,
                    textcoords="offset points", xytext=(2, 2))
        rows += [(label, int(r), float(e), d, m, s)
                 for r, e, d, m, s in zip(rounds, epochs, density, mean, std)]
    ax.set_xlabel("training epochs spent (the round's and every earlier round's)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Test accuracy vs training budget, one point per round (d: last density)",
                 fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig, ("run", "round", "epochs spent", "density", "test accuracy % (mean)", "std"), rows


def _by_seed(paths, metric):
    """{seed: [metric per completed round]} of the runs `paths`."""
    out = {}
    for path in paths:
        config, rounds = grouping.load_run(path)
        out[config.get("seed")] = [m.get(metric) for m in rounds]
    return out


def paired_difference(a, b):
    """Per round, the difference a - b of two groups' {seed: [value per round]} over the seeds
    both have: rows (round, mean, std, n seeds, seeds where a > b).

    >>> paired_difference({0: [1.0, 3.0], 1: [2.0, 2.0]}, {0: [1.0, 1.0], 1: [1.0, 3.0]})
    [(0, 0.5, 0.5, 2, 1), (1, 0.5, 1.5, 2, 1)]
    """
    seeds = sorted(set(a) & set(b))
    rounds = min((min(len(a[s]), len(b[s])) for s in seeds), default=0)
    rows = []
    for r in range(rounds):
        d = np.array([a[s][r] - b[s][r] for s in seeds], dtype=float)
        rows.append((r, float(d.mean()), float(d.std()), len(d), int((d > 0).sum())))
    return rows


def _structures(groups):
    """Test accuracy against density in one panel per structure (LRR, IMP and the mask
    transfers), and the paired LRR - IMP difference per round over seeds."""
    configs = {label: grouping.read_config(paths[0]) for label, paths in groups.items()}
    kinds = sorted({c.get("structure", "unstructured") for c in configs.values()},
                   key=lambda k: (k != "unstructured", k))
    if len(kinds) < 2:
        raise Skipped("it compares structures, and every run given has --structure="
                      f"{kinds[0]}; pass runs of other structures too (tfprune sweep "
                      "--sweep=structure)")
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.5), dpi=150,
                             sharey=True, squeeze=False)
    rows = []
    for ax, kind in zip(axes[0], kinds):
        mine = {label: paths for label, paths in groups.items()
                if configs[label].get("structure", "unstructured") == kind}
        plain = {configs[label]["method"]: label for label in mine
                 if not configs[label].get("mask_from") and not configs[label].get("signs_from")}
        densities = []
        for label, paths in mine.items():
            _, density, _ = _series(paths, "density")
            _, mean, std = _series(paths, "test_accuracy")
            ax.plot(density, 100 * mean, marker="o", markersize=2, label=label)
            ax.fill_between(density, 100 * (mean - std), 100 * (mean + std), alpha=0.15)
            densities += density.tolist()
        ax.set_xscale("log")
        ax.minorticks_off()
        plain_log_axis(ax.xaxis, log_ticks(densities, max_ticks=5))
        ax.invert_xaxis()
        ax.set_title(f"--structure={kind}", fontsize=9)
        ax.set_xlabel("density")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6)
        if "lrr" in plain and "imp" in plain:
            _, density, _ = _series(groups[plain["lrr"]], "density")
            for r, mean, std, n, wins in paired_difference(
                    _by_seed(groups[plain["lrr"]], "test_accuracy"),
                    _by_seed(groups[plain["imp"]], "test_accuracy")):
                rows.append((kind, r, float(density[r]) if r < len(density) else float("nan"),
                             100 * mean, 100 * std, f"{wins}/{n}"))
    axes[0][0].set_ylabel("test accuracy (%)")
    fig.suptitle("LRR vs IMP under each structure (mean ± std over seeds)", fontsize=10)
    return fig, ("structure", "round", "density (LRR)", "LRR - IMP accuracy points (mean)",
                 "std", "seeds LRR > IMP"), rows


def _lmc(groups):
    """Error barriers along linear paths (`tfprune lmc`) per round, for the first run of each
    group that has them; and the error along each path of the last round measured."""
    measured = {label: files.read_json(os.path.join(paths[0], "lmc", "lmc.json"))["pairs"]
                for label, paths in groups.items()
                if os.path.exists(os.path.join(paths[0], "lmc", "lmc.json"))}
    if not measured:
        raise Skipped("no run given has linear mode connectivity measured; run "
                      "`tfprune lmc --run=<run>` first")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), dpi=150)
    rows = []
    for label, pairs in measured.items():
        for kind in sorted({p["kind"] for p in pairs}):
            of_kind = sorted((p for p in pairs if p["kind"] == kind), key=lambda p: p["round"])
            axes[0].plot([p["round"] for p in of_kind], [100 * p["barrier"] for p in of_kind],
                         marker="o", markersize=3, label=f"{label}: {kind}")
            last = of_kind[-1]
            axes[1].plot(last["alphas"], [100 * e for e in last["test_error"]],
                         label=f"{label}: {kind} (round {last['round']})")
            rows += [(label, kind, p["round"], 100 * p["barrier"], 100 * p["test_error"][0],
                      100 * p["test_error"][-1]) for p in of_kind]
    axes[0].set_title("error barrier per round", fontsize=9)
    axes[0].set_ylabel("error barrier (points)")
    _integer_rounds(axes[0])
    axes[0].set_xlabel("round")
    axes[1].set_title("test error along the path, last round measured", fontsize=9)
    axes[1].set_xlabel("alpha (0: first network, 1: second)")
    axes[1].set_ylabel("test error (%)")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[1].legend(fontsize=6)
    fig.suptitle("Linear mode connectivity" + _first_runs(groups), fontsize=10)
    return fig, ("run", "pair", "round", "barrier (points)", "error at 0 %", "error at 1 %"), rows


accuracy_vs_density = _saves(_accuracy_vs_density)
accuracy_vs_epochs = _saves(_accuracy_vs_epochs)
sign_flips = _saves(_sign_flips)
layer_density = _saves(_layer_density)
mask_overlap = _saves(_mask_overlap)
structures = _saves(_structures)
lmc = _saves(_lmc)

# name: draw(groups) -> (matplotlib figure, table header, table rows); raises Skipped.
FIGURES = {
    "accuracy_vs_density": _accuracy_vs_density,
    "accuracy_vs_epochs": _accuracy_vs_epochs,
    "sign_flips": _sign_flips,
    "layer_density": _layer_density,
    "mask_overlap": _mask_overlap,
    "structures": _structures,
    "lmc": _lmc,
}


def _table(header, rows):
    def cell(v):
        return f"{v:.4f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def write(paths, out):
    """Draws every figure of FIGURES into `out` and writes `summary.md` with their tables.

    A figure the runs cannot draw (`mask_overlap` of a single group) is left out; summary.md
    and the log say why.

    Returns:
        The paths written.
    """
    groups = group_runs(list(paths))
    runs = ", ".join(f"{k} ({', '.join(v)})" for k, v in groups.items())
    written, sections = [], ["# tfprune report", "", "Runs: " + runs]
    for name, draw in FIGURES.items():
        try:
            fig, header, rows = draw(groups)
        except Skipped as e:
            logging.warning("%s.png not drawn: %s", name, e)
            sections += ["", f"## {name}", "", f"Not drawn: {e}"]
            continue
        png = os.path.join(out, f"{name}.png")
        save(fig, png)
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
