"""Durations, ETAs and bars as a person reads them."""
import pytest

from tfprune.core import clock


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (41.4, "41s"), (130, "2m10s"),
                                           (3900, "1h05m"), (-3, "0s")])
def test_duration_reads_like_a_person_would_say_it(seconds, text):
    assert clock.duration(seconds) == text


def test_eta_is_the_mean_time_per_unit_times_the_units_left():
    assert clock.eta(10.0, 2, 10) == pytest.approx(40.0)
    assert clock.eta(10.0, 0, 10) is None
    assert clock.eta(10.0, 3, None) is None
    assert clock.eta(10.0, 12, 10) == 0


def test_bar_fills_in_proportion():
    assert clock.bar(0, 10, width=10) == "[..........]"
    assert clock.bar(5, 10, width=10) == "[#####.....]"
    assert clock.bar(12, 10, width=10) == "[##########]"
