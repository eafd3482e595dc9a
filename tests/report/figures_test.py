"""The report builds its figures and summary from real tiny runs (and fake run folders of
metrics only), says why it leaves a figure out, and refuses other folders."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from tfprune.engine import grouping
from tfprune.report import figures

from conftest import ROOT

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_report_draws_every_figure_and_the_summary(tiny_runs, tmp_path):
    written = figures.write([str(tiny_runs / "lrr"), str(tiny_runs / "imp")], str(tmp_path))
    names = sorted(os.path.basename(p) for p in written)
    assert names == ["accuracy_vs_density.png", "accuracy_vs_epochs.png", "layer_density.png",
                     "mask_overlap.png", "sign_flips.png", "summary.md"]  # one structure only
    for path in written[:-1]:
        assert open(path, "rb").read(8) == PNG
    summary = (tmp_path / "summary.md").read_text()
    assert "## sign_flips" in summary and "| lrr | 2 |" in summary
    assert "| lrr | imp | 0 | 0 | 1.0000 | 1.0000 |" in summary  # round 0: both dense
    # IMP's pruned rounds train from the rewind point (epoch 1 of 2): 2, 3, 4 epochs behind
    assert "| imp | 2 | 4.0000 |" in summary and "| lrr | 2 | 6.0000 |" in summary


def test_the_launcher_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "report.py"),
                             f"--runs={tmp_path}", f"--out={tmp_path / 'out'}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"error: {tmp_path} is not a run directory" in result.stderr
    assert not (tmp_path / "out").exists()


def test_load_run_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a run directory"):
        grouping.load_run(str(tmp_path / "nope"))


def copy_run(source, dest, **changes):
    """A copy of a run directory under another path, with config keys changed."""
    shutil.copytree(source, dest)
    config = json.loads((dest / "config.json").read_text())
    config.update(changes, workdir=str(dest))
    (dest / "config.json").write_text(json.dumps(config))
    return str(dest)


def shift_accuracy(run, by):
    """Adds `by` to the test accuracy of every round of a run directory."""
    for path in sorted(pathlib.Path(run).glob("round_*/metrics.json")):
        metrics = json.loads(path.read_text())
        metrics["test_accuracy"] += by
        path.write_text(json.dumps(metrics))


def fake_run(path, densities, **config):
    """A run directory holding only config.json and each round's metrics.json (no masks)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"method": "lrr", "seed": 0, **config}))
    for r, d in enumerate(densities):
        metrics = {"round": r, "density": d, "test_accuracy": 0.9 + 0.001 * r,
                   "sign_flips_vs_rewind": 0.01, "layer_density": {"a": d ** 0.5, "b": d ** 2}}
        if r:
            metrics["sign_flips_vs_prev_round"] = 0.001
        (path / f"round_{r:02d}").mkdir()
        (path / f"round_{r:02d}" / "metrics.json").write_text(json.dumps(metrics))
    return str(path)


def texts(labels):
    return [t.get_text() for t in labels]


def round_ticks(ax):
    """The x tick labels within the axis' limits."""
    low, high = sorted(ax.get_xlim())
    return [t.get_text() for t, x in zip(ax.get_xticklabels(), ax.get_xticks()) if low <= x <= high]


@pytest.mark.slow
def test_groups_runs_by_configuration_except_seed(tiny_runs, tmp_path):
    lrr, imp = str(tiny_runs / "lrr"), str(tiny_runs / "imp")
    seed1 = copy_run(tiny_runs / "lrr", tmp_path / "lrr_seed1", seed=1)
    other_lr = copy_run(tiny_runs / "lrr", tmp_path / "lrr_lr", lr=0.05)
    shift_accuracy(seed1, 0.02)
    groups = figures.group_runs([lrr, seed1, imp, other_lr])
    assert groups == {"lrr lr=0.1": [lrr, seed1], "imp lr=0.1": [imp], "lrr lr=0.05": [other_lr]}
    # The seeds' line is their mean, with their standard deviation.
    _, rows = figures.accuracy_vs_density({"lrr": [lrr, seed1]}, str(tmp_path / "a.png"))
    _, alone = figures.accuracy_vs_density({"lrr": [lrr]}, str(tmp_path / "b.png"))
    assert len(rows) == len(alone) == 3
    for (_, _, _, mean, std), (_, _, _, first, _) in zip(rows, alone):
        assert mean == pytest.approx(first + 1) and std == pytest.approx(1)


@pytest.mark.slow
def test_the_density_axis_labels_the_rounds_densities_in_plain_numbers(tiny_runs):
    groups = figures.group_runs([str(tiny_runs / "lrr"), str(tiny_runs / "imp")])
    fig, _, _ = figures.FIGURES["accuracy_vs_density"](groups)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert texts(ax.get_xticklabels()) == ["1", "0.8", "0.64"]  # rounds 0, 1, 2
    assert not any(texts(ax.get_xticklabels(minor=True)))
    assert "accuracy" in ax.get_title() and "density" in ax.get_title()
    plt.close(fig)


def test_many_rounds_get_thinned_density_labels_that_do_not_overlap(tmp_path):
    densities = [0.8 ** r for r in range(31)]
    groups = {"lrr": [fake_run(tmp_path / "lrr", densities)]}
    fig, _, _ = figures.FIGURES["accuracy_vs_density"](groups)
    fig.canvas.draw()
    labels = [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert 4 <= len(labels) <= 8
    assert labels[0].get_text() == "1" and labels[-1].get_text() == "0.0012"  # 0.8 ** 30
    boxes = [t.get_window_extent() for t in labels]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))
    assert not any(texts(fig.axes[0].get_xticklabels(minor=True)))
    plt.close(fig)


@pytest.mark.slow
def test_layer_density_has_plain_log_labels_and_integer_rounds(tiny_runs):
    groups = figures.group_runs([str(tiny_runs / "lrr"), str(tiny_runs / "imp")])
    fig, _, _ = figures.FIGURES["layer_density"](groups)
    fig.canvas.draw()
    for ax in fig.axes:
        major = texts(ax.get_yticklabels())
        assert len(major) >= 2 and all(float(t) > 0 for t in major)  # "0.9", not "9×10⁻¹"
        assert not any(texts(ax.get_yticklabels(minor=True)))
        assert round_ticks(ax) == ["0", "1", "2"]
    assert "layer" in fig.get_suptitle()
    plt.close(fig)


@pytest.mark.slow
def test_every_figure_has_a_title_and_round_axes_have_integer_ticks(tiny_runs):
    groups = figures.group_runs([str(tiny_runs / "lrr"), str(tiny_runs / "imp")])
    words = {"accuracy_vs_density": "accuracy", "accuracy_vs_epochs": "budget",
             "sign_flips": "Sign flips",
             "layer_density": "layer", "mask_overlap": "overlap"}
    for name, draw in figures.FIGURES.items():
        if name in ("structures", "lmc"):  # need two structures, or lmc.json (own tests)
            continue
        fig, _, _ = draw(groups)
        fig.canvas.draw()
        titles = " ".join([fig.get_suptitle()] + [ax.get_title() for ax in fig.axes])
        assert words[name] in titles, name
        for ax in fig.axes:
            if ax.get_xlabel() == "round":
                assert round_ticks(ax) == ["0", "1", "2"], name
        plt.close(fig)


@pytest.mark.slow
def test_the_summary_and_the_log_say_why_mask_overlap_is_not_drawn(tiny_runs, tmp_path, caplog):
    seed1 = copy_run(tiny_runs / "lrr", tmp_path / "lrr_seed1", seed=1)
    written = figures.write([str(tiny_runs / "lrr"), seed1], str(tmp_path / "out"))
    assert "mask_overlap.png" not in " ".join(written)
    summary = (tmp_path / "out" / "summary.md").read_text()
    reason = summary.split("## mask_overlap\n\n", 1)[1]
    assert reason.startswith("Not drawn: it compares the masks of two groups of runs")
    assert "form one group (lrr" in reason
    assert any("mask_overlap.png not drawn: it compares the masks" in r.getMessage()
               for r in caplog.records)


def test_structures_pairs_lrr_and_imp_by_seed_within_each_structure(tmp_path):
    paths = []
    for structure in ("channel", "unstructured"):  # drawn unstructured first
        for method, offset in (("lrr", 0.02), ("imp", 0.0)):
            for seed in (0, 1, 2):
                run = fake_run(tmp_path / f"{method}_{structure}_{seed}", [1.0, 0.8, 0.64],
                               method=method, seed=seed, structure=structure,
                               name=f"{method}_{structure}")
                shift_accuracy(run, offset + (0.01 * seed if method == "lrr" else 0))
                paths.append(run)
    groups = figures.group_runs(paths)
    fig, header, rows = figures.FIGURES["structures"](groups)
    assert [ax.get_title() for ax in fig.axes] == ["--structure=unstructured",
                                                   "--structure=channel"]
    plt.close(fig)
    assert header[3] == "LRR - IMP accuracy points (mean)"
    assert len(rows) == 6  # 2 structures x 3 rounds
    for kind, r, density, mean, std, wins in rows:  # LRR ahead by 2, 3 and 4 points
        assert mean == pytest.approx(3.0) and std == pytest.approx(np.std([2, 3, 4]))
        assert wins == "3/3" and density == pytest.approx(0.8 ** r)
    with pytest.raises(figures.Skipped, match="every run given has --structure=channel"):
        figures.FIGURES["structures"](figures.group_runs(paths[:6]))


def test_mask_overlap_leaves_out_runs_whose_masks_differ_in_layers(tmp_path):
    groups = {"a": [fake_run(tmp_path / "a", [1.0, 0.8])], "b": [fake_run(tmp_path / "b", [1.0])]}
    for name in groups:
        for r in (0, 1) if name == "a" else (0,):
            np.savez(tmp_path / name / f"round_{r:02d}" / "mask.npz", **{name: np.ones(3, bool)})
    with pytest.raises(figures.Skipped, match="no two groups have masks of the same layers"):
        figures.FIGURES["mask_overlap"](groups)


def test_masks_are_compared_at_equal_density_and_accuracy_at_equal_epochs(tmp_path):
    lrr = fake_run(tmp_path / "lrr", [1.0, 0.8, 0.64], name="lrr")
    rigl = fake_run(tmp_path / "rigl", [0.64, 0.64, 0.64], method="rigl", name="rigl")
    snip = fake_run(tmp_path / "snip", [1.0, 0.8], method="imp", pruning="snip", name="snip")
    keep = {1.0: [1, 1, 1, 1, 1], 0.8: [1, 1, 1, 1, 0], 0.64: [1, 1, 1, 0, 0]}
    for run, densities, epochs, total in ((lrr, [1.0, 0.8, 0.64], [2, 2, 2], [2, 4, 6]),
                                          (rigl, [0.64] * 3, [2, 2, 2], [2, 4, 6]),
                                          (snip, [1.0, 0.8], [2, 2], [2, 2])):
        for r, d in enumerate(densities):
            mask = keep[d] if run != rigl else [0, 1, 1, 1, 0]
            np.savez(os.path.join(run, f"round_{r:02d}", "mask.npz"), w=np.array(mask, bool))
            path = os.path.join(run, f"round_{r:02d}", "metrics.json")
            metrics = json.load(open(path)) | {"epochs": epochs[r]}
            if run != lrr:  # lrr as a run written before epochs_total: summed from epochs
                metrics["epochs_total"] = total[r]
            json.dump(metrics, open(path, "w"))
    groups = figures.group_runs([lrr, rigl, snip])
    fig, header, rows = figures.FIGURES["mask_overlap"](groups)
    plt.close(fig)
    rows_of = {}
    for a, b, r, q, d, o in rows:
        rows_of.setdefault((a, b), []).append((r, q, round(d, 2), round(o, 4)))
    assert rows_of[("lrr", "rigl")] == [(2, 2, 0.64, 0.5)]  # only at 0.64: |{1,2}| / |{0..3}|
    assert rows_of[("lrr", "snip")] == [(0, 0, 1.0, 1.0), (1, 1, 0.8, 1.0)]
    assert ("rigl", "snip") not in rows_of  # no density in common
    fig, header, rows = figures.FIGURES["accuracy_vs_epochs"](groups)
    plt.close(fig)
    assert header[2] == "epochs spent"
    assert {(run, r): e for run, r, e, *_ in rows} == {
        ("lrr", 0): 2, ("lrr", 1): 4, ("lrr", 2): 6, ("rigl", 0): 2, ("rigl", 1): 4,
        ("rigl", 2): 6, ("snip", 0): 2, ("snip", 1): 2}
