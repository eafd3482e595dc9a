"""The straight path between two networks and its error barrier (pure)."""
import numpy as np
import pytest

from tfprune.core import connectivity


def test_the_path_starts_and_ends_at_the_two_networks_and_keeps_dtypes():
    a = [np.array([1.0, -2.0], np.float32), np.arange(4.0).reshape(2, 2)]
    b = [np.array([3.0, 2.0], np.float32), -np.arange(4.0).reshape(2, 2)]
    for got, want in ((connectivity.interpolate(a, b, 0.0), a),
                      (connectivity.interpolate(a, b, 1.0), b)):
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
    middle = connectivity.interpolate(a, b, 0.5)
    assert middle[0].dtype == np.float32 and middle[0].tolist() == [2.0, 0.0]
    assert not middle[1].any()
    with pytest.raises(ValueError, match="not the same network"):
        connectivity.interpolate(a, b[:1], 0.5)
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\) differ"):
        connectivity.interpolate(a[:1], [np.zeros(3)], 0.5)


def test_the_barrier_is_the_highest_rise_above_the_line_between_the_ends():
    assert connectivity.barrier([0.1, 0.1, 0.1]) == 0.0
    assert connectivity.barrier([0.1, 0.5, 0.1]) == pytest.approx(0.4)  # equal ends: Frankle's
    assert connectivity.barrier([0.1, 0.5, 0.3]) == pytest.approx(0.3)  # 0.5 - line's 0.2
    assert connectivity.barrier([0.4, 0.2, 0.1, 0.05]) == 0.0  # monotone: no barrier
    assert connectivity.barrier([0.4, 0.5, 0.0], [0.0, 0.25, 1.0]) == pytest.approx(0.2)
    assert connectivity.alphas(3).tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="at least the two ends"):
        connectivity.alphas(1)
