"""The field's methods side by side on the default data: LRR, IMP, GMP, RigL, SET and SNIP at
densities 0.8^7, 0.8^10 and 0.8^13 (0.21, 0.11, 0.055), each at its own training budget and at
LRR's, over seeds; test accuracy (mean, spread), sign flips, and mask overlap with LRR's mask
at the same density (same seed).

    python bench/field.py --seeds=0,1,2 --epochs=6 --out=/tmp/tfprune_field [--keras=3 --backend=jax]

The grid (one `tfprune sweep`, resumable: rerun to go on, finished runs are reused):
    lrr, imp           13 rounds of --epochs (IMP's pruned rounds from the rewind point, epoch 1)
    snip               IMP from initialization with SNIP's masks, 13 rounds: a round trains its
                       mask once, --epochs (its own budget)
    snip_dR            SNIP at density 0.8^R trained for LRR's (R + 1) x --epochs (equal budget;
                       one pruned round of fraction 1 - 0.8^R after a dense round of that length)
    gmp|set|rigl_dR_own    one run of 3 x --epochs ending at 0.8^R (their usual budget: dense,
                       prune or move, fine-tune)
    gmp|set|rigl_dR_equal  one run of (R + 1) x --epochs ending at 0.8^R (LRR's budget)
Mask updates every --update_every steps (MNIST-1D has 32 steps an epoch).
"""
import itertools
import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import table  # noqa: E402

from tfprune.core import analysis  # noqa: E402
from tfprune.core.rundir import RunDir  # noqa: E402
from tfprune.grid import sweep  # noqa: E402

flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
flags.DEFINE_integer("epochs", 6, "Epochs of a round (LRR, IMP) and of a segment (GMP, RigL, SET).")
flags.DEFINE_integer("update_every", 20, "Steps between GMP, SET and RigL mask updates.")
flags.DEFINE_string("out", "/tmp/tfprune_field", "The sweep folder.")
flags.DEFINE_string("keras", "2", "Keras of the runs.")
flags.DEFINE_string("backend", None, "Keras 3's backend.")
FLAGS = flags.FLAGS
ROUNDS = (7, 10, 13)


def variants(epochs, update_every):
    grid = {"lrr": {"method": "lrr", "rounds": 13}, "imp": {"method": "imp", "rounds": 13},
            "snip": {"method": "imp", "pruning": "snip", "rewind_epoch": 0, "rounds": 13}}
    for r in ROUNDS:
        d = 0.8 ** r
        grid[f"snip_d{r}"] = {"method": "imp", "pruning": "snip", "rewind_epoch": 0, "rounds": 1,
                              "prune_fraction": 1 - d, "epochs": (r + 1) * epochs}
        for m, (budget, rounds) in itertools.product(("gmp", "set", "rigl"),
                                                     (("own", 2), ("equal", r))):
            grid[f"{m}_d{r}_{budget}"] = {"method": m, "rounds": rounds, "final_density": d,
                                          "update_every": update_every}
    return grid


def rows_of(out, grid, seeds):
    """(method, budget, target density, density, epochs, acc mean, acc std, flips, overlap)."""
    def run(name, seed):
        return RunDir(os.path.join(out, sweep.run_dir_name(name, seed)))

    def last(name, seed, r=None):
        d = run(name, seed)
        r = d.completed_rounds()[-1] if r is None else r
        return d, r, d.metrics(r)

    rows = []
    for r in ROUNDS:
        picks = [("LRR", "own = equal", "lrr", r), ("IMP", "own = equal", "imp", r),
                 ("SNIP", "own", "snip", r), ("SNIP", "equal", f"snip_d{r}", None)]
        picks += [(m.upper() if m != "rigl" else "RigL", budget, f"{m}_d{r}_{budget}", None)
                  for m in ("gmp", "set", "rigl") for budget in ("own", "equal")]
        for label, budget, name, round_ in picks:
            found = [last(name, s, round_) for s in seeds
                     if run(name, s).is_run() and run(name, s).completed_rounds()]
            if len(found) < len(seeds):
                continue
            acc = np.array([m["test_accuracy"] for _, _, m in found]) * 100
            flips = np.mean([m["sign_flips_vs_rewind"] for _, _, m in found])
            overlap = np.mean([analysis.mask_overlap(d.mask(q), run("lrr", s).mask(r))["global"]
                               for (d, q, _), s in zip(found, seeds)])
            rows.append((label, budget, round(0.8 ** r, 3), round(found[0][2]["density"], 4),
                         found[0][2].get("epochs_total"), round(float(acc.mean()), 2),
                         round(float(acc.std()), 2), round(float(flips), 3),
                         round(float(overlap), 3)))
    return rows


def main(argv):
    seeds = [int(s) for s in FLAGS.seeds]
    grid = variants(FLAGS.epochs, FLAGS.update_every)
    base = {"epochs": FLAGS.epochs, "keras": FLAGS.keras, "download": False}
    if FLAGS.backend:
        base["backend"] = FLAGS.backend
    sweep.run(base, grid, seeds, [], FLAGS.out)
    table(("method", "budget", "density target", "density", "epochs spent",
           "test acc % mean", "std", "sign flips vs rewind", "mask overlap with LRR"),
          rows_of(FLAGS.out, grid, seeds))


if __name__ == "__main__":
    app.run(main)
