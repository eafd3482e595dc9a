"""Latency: a median of positive times."""
import pytest

from tfprune.export import latency


def test_latency_is_a_median_of_positive_times():
    times = latency.by_batch(lambda b: (lambda: sum(range(1000 * b))), (1, 32), repeats=5)
    assert set(times) == {"1", "32"} and all(ms > 0 for ms in times.values())
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        latency.median_ms(lambda: None, repeats=0)
