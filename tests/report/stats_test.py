"""The claims' statistics (pure numpy) on cases with known answers."""
import math

import numpy as np
import pytest

from tfprune.report import stats


def test_the_t_interval_is_the_textbook_one():
    # per-seed means 1, 2, 3: mean 2, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.303
    mean, low, high = stats.interval([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    assert mean == 2.0
    assert (low, high) == pytest.approx((2 - 4.303 / math.sqrt(3), 2 + 4.303 / math.sqrt(3)))
    # five seeds against a value computed by hand: mean 0.5, sd 0.5 -> half 2.776 * 0.5 / sqrt 5
    d = np.array([0.0, 0.0, 1.0, 1.0, 0.5])[:, None]
    assert stats.interval(d)[1:] == pytest.approx((0.5 - 0.6207, 0.5 + 0.6207), abs=1e-4)
    assert math.isnan(stats.interval([[1.0, 2.0]])[1])  # one seed: no interval
    with pytest.raises(ValueError, match="no NaN"):
        stats.interval([[1.0, np.nan]])


@pytest.mark.parametrize("differences,verdict,agree", [
    ([[1.0, 2.0], [1.5, 0.5], [2.0, 1.0]], "holds", 6),
    ([[-1.0, -2.0], [-1.5, -0.5], [-2.0, -1.0]], "does not hold", 0),
    ([[1.0, -1.0], [-1.0, 1.0], [0.5, -0.5]], "inconclusive", 3),
    ([[-0.1, -0.1], [-0.2, 0.4], [-0.3, -0.1]], "does not hold", 1),  # mean < 0, 1/6 agree
    ([[3.0, 3.0], [0.1, 0.1], [-0.5, 4.0]], "inconclusive", 5),  # interval reaches below 0
    ([[1.0], [2.0]], "inconclusive", 2),  # two seeds: t(1) = 12.7 makes the interval wide
])
def test_greater_claims(differences, verdict, agree):
    result = stats.paired(differences)
    assert (result.verdict, result.agree, result.pairs) == (verdict, agree, np.size(differences))


def test_close_claims_and_bad_arguments():
    assert stats.paired([[0.1, -0.2], [0.05, 0.1]], "close", margin=1.0).verdict == "holds"
    assert stats.paired([[3.0, 2.5], [2.8, 3.1]], "close", margin=1.0).verdict == "does not hold"
    assert stats.paired([[0.1, 2.0], [-1.5, 0.3]], "close", margin=1.0).verdict == "inconclusive"
    assert stats.paired([[0.1, 2.0], [-1.5, 0.3]], "close", margin=1.0).agree == 2
    with pytest.raises(ValueError, match="valid: greater, close"):
        stats.paired([[1.0]], kind="more")
    with pytest.raises(ValueError, match="needs a positive margin"):
        stats.paired([[1.0]], kind="close")


def test_wilson_interval_known_answers():
    # Wilson score intervals, z = 1.96 (Newcombe 1998, table I: 81/263 -> 0.2553 to 0.3662)
    assert stats.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert stats.wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    with pytest.raises(ValueError, match="0 <= agree <= trials"):
        stats.wilson(3, 2)


@pytest.mark.parametrize("agree,trials,verdict", [
    (300, 300, "holds"),          # [0.987, 1]: above 0.9
    (285, 300, "holds"),          # 0.95 [0.919, 0.969]
    (270, 300, "inconclusive"),   # 0.90 [0.861, 0.928] contains 0.9
    (10, 10, "inconclusive"),     # too few seeds: [0.72, 1]
    (150, 300, "does not hold"),  # 0.5 [0.44, 0.56]
])
def test_share_claims(agree, trials, verdict):
    result = stats.share([True] * agree + [False] * (trials - agree), level=0.9)
    assert (result.verdict, result.agree, result.pairs) == (verdict, agree, trials)
    assert result.mean == pytest.approx(agree / trials)
    with pytest.raises(ValueError, match="level in"):
        stats.share([True], level=1.5)
    with pytest.raises(ValueError, match="judged by `share`"):
        stats.paired([[1.0]], kind="share")
