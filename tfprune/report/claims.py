"""The paper's claims as data, and their statistics from finished runs.

A claim is a sentence, the grid variants it needs (config overrides, as a sweep takes them), and
a difference to test: a weighted sum of terms, each one metric of one variant over some rounds,
taken per seed and round and oriented so that a positive value is what the claim says. E.g.
"LRR beats IMP" is test accuracy of `lrr` (+1) and of `imp` (-1) over the pruned rounds; "IMP
with LRR's signs closes most of the gap" is `imp_lrr_signs` (+1), `imp` (-1/2), `lrr` (-1/2).
`stats.paired` turns the seeds x rounds differences into the statistic and the verdict.

A claim of the theory has no runs: `theory` names a simulation whose per-seed outcomes are
compared with the prediction (kind "share": the share of seeds that agree).

Add a claim by adding an entry to CLAIMS: no engine code changes.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from tfprune.core.rundir import RunDir
from tfprune.report import stats


@dataclasses.dataclass(frozen=True)
class Term:
    """`weight` x `metric` of the runs of `variant`, over `rounds`: "pruned" (every pruned
    round all the claim's "pruned" terms completed), "first:K" or "last:K" (of the pruned
    rounds)."""
    variant: str
    weight: float
    metric: str = "test_accuracy"
    rounds: str = "pruned"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim: its sentence, the variants it runs, the difference it tests.

    `scale` multiplies the difference (100: accuracy in points); `kind` and `margin` are
    `stats.paired`'s (or, for kind "share", `stats.share`'s level); `theory` names the entry of
    THEORIES that a claim without runs is judged by.
    """
    name: str
    sentence: str
    variants: dict
    terms: tuple
    kind: str = "greater"
    margin: float | None = None
    scale: float = 100.0
    unit: str = " points"
    theory: str | None = None


_LRR, _IMP = {"method": "lrr"}, {"method": "imp"}
CLAIMS = (
    Claim("lrr_beats_imp", "LRR reaches a higher test accuracy than IMP at the same density.",
          {"lrr": _LRR, "imp": _IMP}, (Term("lrr", 1), Term("imp", -1))),
    Claim("lrr_finds_better_masks", "IMP trained on LRR's masks beats IMP on its own masks.",
          {"lrr": _LRR, "imp": _IMP, "imp_lrr_mask": {"method": "imp", "mask_from": "@lrr"}},
          (Term("imp_lrr_mask", 1), Term("imp", -1))),
    Claim("lrr_optimizes_any_mask", "LRR trained on IMP's masks stays within 1 point of LRR.",
          {"lrr": _LRR, "imp": _IMP, "lrr_imp_mask": {"method": "lrr", "mask_from": "@imp"}},
          (Term("lrr_imp_mask", 1), Term("lrr", -1)), kind="close", margin=1.0),
    Claim("lrr_beats_imp_on_random_masks",
          "On random masks (uniform, ERK, balanced) LRR beats IMP.",
          {f"{m}_{p}": {"method": m, "pruning": f"random_{p}"}
           for m in ("lrr", "imp") for p in ("uniform", "erk", "balanced")},
          tuple(Term(f"{m}_{p}", w / 3) for m, w in (("lrr", 1), ("imp", -1))
                for p in ("uniform", "erk", "balanced"))),
    Claim("lrr_flips_signs_early",
          "LRR flips more signs in its first two pruned rounds than in its last two.",
          {"lrr": _LRR},
          (Term("lrr", 1, "sign_flips_vs_prev_round", "first:2"),
           Term("lrr", -1, "sign_flips_vs_prev_round", "last:2")), unit=" % of weights"),
    Claim("imp_keeps_its_rewind_signs",
          "IMP's survivors flip fewer signs against the rewind point than LRR's.",
          {"lrr": _LRR, "imp": _IMP},
          (Term("lrr", 1, "sign_flips_vs_rewind"), Term("imp", -1, "sign_flips_vs_rewind")),
          unit=" % of weights"),
    Claim("lrr_signs_close_the_gap",
          "IMP with LRR's signs closes more than half of the gap between IMP and LRR.",
          {"lrr": _LRR, "imp": _IMP,
           "imp_lrr_signs": {"method": "imp", "signs": "source", "signs_from": "@lrr"}},
          (Term("imp_lrr_signs", 1), Term("imp", -0.5), Term("lrr", -0.5))),
    Claim("initial_signs_cost_lrr",
          "LRR with the rewind point's signs loses more than half of its lead over IMP.",
          {"lrr": _LRR, "imp": _IMP, "lrr_initial_signs": {"method": "lrr", "signs": "rewind"}},
          (Term("lrr", 0.5), Term("imp", 0.5), Term("lrr_initial_signs", -1))),
    Claim("lrr_recovers_from_perturbation",
          "After sign perturbation LRR loses less accuracy than IMP.",
          {"lrr": _LRR, "imp": _IMP, "lrr_perturbed": {"method": "lrr", "perturb_signs": 0.3},
           "imp_perturbed": {"method": "imp", "perturb_signs": 0.3}},
          (Term("lrr_perturbed", 1), Term("lrr", -1), Term("imp_perturbed", -1),
           Term("imp", 1))),
    Claim("width_helps_lrr_more",
          "LRR gains more accuracy than IMP from a wider model (its own width vs a narrow one).",
          {"lrr": _LRR, "imp": _IMP, "lrr_narrow": {"method": "lrr", "width": 0.5},
           "imp_narrow": {"method": "imp", "width": 0.5}},
          (Term("lrr", 1), Term("lrr_narrow", -1), Term("imp", -1), Term("imp_narrow", 1))),
    Claim("single_neuron_theory",
          "In the single hidden neuron, IMP succeeds exactly when a(0) > 0 and w1(0) > 0, and "
          "LRR exactly when a(0) > 0.",
          {}, (), kind="share", margin=0.9, scale=1.0, unit="", theory="single_neuron"),
)


def _single_neuron_matches(results):
    """Per seed: both IMP's and LRR's outcomes are the theory's prediction."""
    a0, w1 = np.asarray(results["a0"]), np.asarray(results["w1_0"])
    return ((np.asarray(results["imp_success"]) == ((a0 > 0) & (w1 > 0)))
            & (np.asarray(results["lrr_success"]) == (a0 > 0)))


# A theory claim's judge: per-seed booleans (outcome == prediction) from the simulation's
# results (theory.single_neuron.run's dict).
THEORIES = {"single_neuron": _single_neuron_matches}


def names():
    return [c.name for c in CLAIMS]


def get(name):
    """The claim called `name`; a one-line error listing the valid names otherwise."""
    for claim in CLAIMS:
        if claim.name == name:
            return claim
    raise ValueError(f"unknown claim {name!r}; valid: {', '.join(names())}")


def grid(claims, changes=None):
    """The sweep variants that `claims` need, each once, sources before their users;
    `changes` ({variant: {field: value}}, a scale's) change the variants it names."""
    variants = {}
    for claim in claims:
        for name, overrides in claim.variants.items():
            if variants.setdefault(name, overrides) != overrides:
                raise ValueError(f"claims disagree on variant {name!r}: {variants[name]} and "
                                 f"{overrides}")
    variants = {name: values | (changes or {}).get(name, {})
                for name, values in variants.items()}
    return dict(sorted(variants.items(), key=lambda kv: any(
        str(v).startswith("@") for v in kv[1].values())))


def _values(run_of, term, seed):
    """The term's metric per pruned round of one seed's run (None where missing)."""
    run = RunDir(run_of(term.variant, seed))
    if not run.is_run():
        raise ValueError(f"{run.root}: no run of variant {term.variant!r}, seed {seed}")
    return [run.metrics(r).get(term.metric) for r in run.completed_rounds() if r > 0]


def differences(claim, run_of, seeds):
    """The claim's differences, seeds x rounds; `run_of(variant, seed)` is the folder of a run
    (in a sweep folder: `os.path.join(out, grid.sweep.run_dir_name(variant, seed))`)."""
    rows = []
    for seed in seeds:
        series = [(term, _values(run_of, term, seed)) for term in claim.terms]
        common = min(len(v) for t, v in series if t.rounds == "pruned") if any(
            t.rounds == "pruned" for t, _ in series) else None
        parts = []
        for term, values in series:
            kind, _, k = term.rounds.partition(":")
            if kind != "pruned" and 2 * int(k) > len(values):
                raise ValueError(f"claim {claim.name} compares the first {k} and the last {k} "
                                 f"pruned rounds: it needs {2 * int(k)} or more, the runs of "
                                 f"{term.variant!r} have {len(values)}")
            picked = {"pruned": values[:common], "first": values[:int(k or 0)],
                      "last": values[-int(k or 1):]}[kind]
            parts.append(term.weight * np.asarray(picked, np.float64))
        if len({len(p) for p in parts}) != 1 or not len(parts[0]):
            raise ValueError(f"claim {claim.name}: seed {seed}'s runs have no rounds in common")
        rows.append(claim.scale * np.sum(parts, axis=0))
    width = min(len(r) for r in rows)
    return np.array([r[:width] for r in rows])


def judge(claim, diffs):
    """The claim's `stats.Paired` from its `differences`."""
    return stats.paired(diffs, claim.kind, claim.margin)


def evaluate(claim, run_of, seeds):
    """The claim's `stats.Paired` from its runs (`run_of`: as `differences`)."""
    return judge(claim, differences(claim, run_of, seeds))


def judge_theory(claim, results):
    """A theory claim's `stats.Paired` from its simulation's `results`."""
    return stats.share(THEORIES[claim.theory](results), claim.margin)
