"""Paired statistics of a claim over seeds and densities, and its verdict, as pure numpy.

A claim compares two settings run with the same seeds at the same densities: `differences`
is an array (seeds x points) of the first setting's value minus the second's, oriented so
that a positive difference is what the claim says. Seeds are the independent repetitions
(the points of one seed share its initialization and data order), so the 95% interval is
Student's t over the per-seed means of the differences.

The verdict rules are stated once, in RULES, and printed in every report.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

RULES = {
    "greater": "holds when the 95% interval of the mean difference lies above 0 and at least "
               "2/3 of the seed-density pairs agree (difference > 0); does not hold when the "
               "interval lies below 0, or the mean is at most 0 with at most 1/3 agreeing; "
               "inconclusive otherwise.",
    "close": "holds when the 95% interval of the mean difference lies inside (-margin, "
             "margin); does not hold when it lies wholly outside; inconclusive otherwise "
             "(agreeing pairs: |difference| < margin).",
    "share": "holds when the Wilson 95% interval of the share of seeds whose outcome is the "
             "prediction lies above the level; does not hold when it lies below; inconclusive "
             "otherwise.",
}
KINDS = tuple(RULES)
VERDICTS = ("holds", "does not hold", "inconclusive")
# Student's t, two-sided 95% (the 0.975 quantile) for 1..30 degrees of freedom; 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom.

    Example:
      >>> t975(2), t975(1000)
      (4.303, 1.96)
    """
    if df < 1:
        raise ValueError(f"need at least 1 degree of freedom, got {df}")
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclasses.dataclass(frozen=True)
class Paired:
    """The statistic of one claim: mean difference, its 95% interval, agreeing pairs, verdict."""
    mean: float
    low: float
    high: float
    agree: int
    pairs: int
    seeds: int
    verdict: str


def interval(differences) -> tuple[float, float, float]:
    """(mean, low, high): the mean of every difference and the 95% t interval of the mean of
    the per-seed means (NaN bounds with a single seed).

    Example:
      >>> [round(v, 3) for v in interval([[1.0], [2.0], [3.0]])]
      [2.0, -0.484, 4.484]
    """
    d = np.atleast_2d(np.asarray(differences, np.float64))
    if d.size == 0 or np.isnan(d).any():
        raise ValueError("need a complete seeds x points array of differences (no NaN)")
    per_seed = d.mean(axis=1)
    mean = float(d.mean())
    n = len(per_seed)
    if n < 2:
        return mean, math.nan, math.nan
    half = t975(n - 1) * float(per_seed.std(ddof=1)) / math.sqrt(n)
    center = float(per_seed.mean())
    return mean, center - half, center + half


def paired(differences, kind="greater", margin=None) -> Paired:
    """The `Paired` statistic and verdict of a claim's differences (seeds x points).

    Example:
      >>> paired([[1.0, 2.0], [1.5, 0.5], [2.0, 1.0]]).verdict
      'holds'
      >>> paired([[0.1, -0.2], [0.05, 0.1]], kind="close", margin=1.0).verdict
      'holds'
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "share":
        raise ValueError("a 'share' claim is judged by `share`, not `paired`")
    if kind == "close" and not (margin is not None and margin > 0):
        raise ValueError("a 'close' claim needs a positive margin")
    d = np.atleast_2d(np.asarray(differences, np.float64))
    mean, low, high = interval(d)
    if kind == "greater":
        agree = int(np.count_nonzero(d > 0))
        share = agree / d.size
        if low > 0 and share >= 2 / 3:
            verdict = "holds"
        elif high < 0 or (mean <= 0 and share <= 1 / 3):
            verdict = "does not hold"
        else:
            verdict = "inconclusive"
    else:
        agree = int(np.count_nonzero(np.abs(d) < margin))
        if -margin < low and high < margin:
            verdict = "holds"
        elif low >= margin or high <= -margin:
            verdict = "does not hold"
        else:
            verdict = "inconclusive"
    return Paired(mean, low, high, agree, int(d.size), int(d.shape[0]), verdict)


def wilson(agree: int, trials: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion `agree` / `trials`.

    Example:
      >>> [round(v, 3) for v in wilson(45, 50)]
      [0.786, 0.957]
    """
    if trials < 1 or not 0 <= agree <= trials:
        raise ValueError(f"need 0 <= agree <= trials and trials >= 1, got {agree}/{trials}")
    z = 1.96
    p = agree / trials
    center = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (
        1 + z * z / trials)
    return max(0.0, center - half), min(1.0, center + half)


def share(matches, level) -> Paired:
    """The `Paired` statistic of a share of trials agreeing with a prediction (`matches`: one
    boolean per trial, each an independent seed): the share, its Wilson 95% interval, and the
    verdict against `level` (the "share" rule).

    Example:
      >>> share([True] * 99 + [False], level=0.9).verdict
      'holds'
    """
    if not 0 < level < 1:
        raise ValueError(f"a 'share' claim needs a level in (0, 1), got {level!r}")
    m = np.asarray(matches, bool).ravel()
    agree = int(np.count_nonzero(m))
    low, high = wilson(agree, m.size)
    verdict = "holds" if low > level else "does not hold" if high < level else "inconclusive"
    return Paired(agree / m.size, low, high, agree, int(m.size), int(m.size), verdict)
