"""Figures from run directories, drawn with matplotlib in the style of the paper."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tfprune.rundir import RunDir  # noqa: E402

DENSITY_TICKS = (1.0, 0.64, 0.41, 0.26, 0.17, 0.11, 0.07, 0.04, 0.02, 0.01)


def load_run(path):
    """Returns (config dict, list of round metrics) of a run directory; refuses other folders."""
    run_dir = RunDir(path)
    if not run_dir.is_run():
        raise ValueError(f"{path} is not a run directory (no config.json); "
                         "pass folders written by launch/train.py")
    return run_dir.read_config(), [run_dir.metrics(r) for r in run_dir.completed_rounds()]


def accuracy_vs_density(runs, path):
    """Plots test accuracy against density (log axis), one line per run.

    Args:
        runs: {label: list of round metrics}.
        path: the PNG to write.
    """
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    for label, rounds in runs.items():
        densities = [m["density"] for m in rounds]
        accuracies = [100 * m["test_accuracy"] for m in rounds]
        ax.plot(densities, accuracies, marker="o", markersize=3, label=label)
    ax.set_xscale("log")
    lowest = min(m["density"] for rounds in runs.values() for m in rounds)
    ticks = [d for d in DENSITY_TICKS if d >= 0.9 * lowest]
    ax.set_xticks(ticks, [f"{d:g}" for d in ticks])
    ax.minorticks_off()
    ax.invert_xaxis()
    ax.set_xlabel("density (fraction of weights kept)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
