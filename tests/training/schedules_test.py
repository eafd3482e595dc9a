"""Tests of the round learning-rate schedules."""
import numpy as np
import pytest

from tfprune.training.schedules import RoundSchedule


def lr(schedule, step):
    return float(schedule(step))


def test_step_schedule_matches_the_paper_protocol():
    # 150 epochs, 10 warm-up, drops at 70 and 130: the paper's round.
    s = RoundSchedule(0.1, steps_per_epoch=2, epochs=150, warmup_epochs=10)
    assert lr(s, 0) == pytest.approx(0.1 / 20)
    assert lr(s, 19) == pytest.approx(0.1)
    assert lr(s, 2 * 70 - 1) == pytest.approx(0.1)
    assert lr(s, 2 * 70) == pytest.approx(0.01)
    assert lr(s, 2 * 130) == pytest.approx(0.001)
    assert lr(s, 2 * 150 - 1) == pytest.approx(0.001)


def test_drops_scale_with_the_round_length():
    s = RoundSchedule(0.1, steps_per_epoch=1, epochs=15, warmup_epochs=0)
    rates = [lr(s, e) for e in range(15)]
    assert rates[:7] == pytest.approx([0.1] * 7)
    assert rates[7:13] == pytest.approx([0.01] * 6)
    assert rates[13:] == pytest.approx([0.001] * 2)


def test_warmup_is_linear_and_monotone():
    s = RoundSchedule(0.2, steps_per_epoch=5, epochs=10, warmup_epochs=2)
    rates = np.array([lr(s, i) for i in range(10)])
    np.testing.assert_allclose(rates, 0.2 * np.arange(1, 11) / 10, rtol=1e-6)


def test_cosine_decays_to_the_finetune_rate():
    s = RoundSchedule(0.1, steps_per_epoch=10, epochs=10, warmup_epochs=1, kind="cosine")
    assert lr(s, 10) == pytest.approx(0.1)
    assert lr(s, 55) == pytest.approx((0.1 + 0.001) / 2, rel=1e-5)
    rates = [lr(s, i) for i in range(10, 100)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    assert lr(s, 100) == pytest.approx(0.001)


@pytest.mark.parametrize("kind", RoundSchedule.KINDS)
def test_past_the_end_is_the_fixed_finetune_rate(kind):
    s = RoundSchedule(0.1, steps_per_epoch=3, epochs=4, warmup_epochs=1, kind=kind,
                      finetune_lr=0.005)
    assert [lr(s, step) for step in (12, 13, 1000)] == pytest.approx([0.005] * 3)


def test_config_round_trip():
    s = RoundSchedule(0.1, steps_per_epoch=3, epochs=4, warmup_epochs=1, kind="cosine")
    again = RoundSchedule.from_config(s.get_config())
    assert [lr(again, i) for i in range(14)] == [lr(s, i) for i in range(14)]


@pytest.mark.parametrize("kwargs", [dict(kind="linear"), dict(warmup_epochs=5),
                                    dict(steps_per_epoch=0), dict(epochs=0)])
def test_bad_arguments_raise(kwargs):
    args = dict(lr=0.1, steps_per_epoch=2, epochs=4, warmup_epochs=1) | kwargs
    with pytest.raises(ValueError):
        RoundSchedule(**args)


def test_the_configs_schedules_are_the_kinds_a_round_schedule_takes():
    import dataclasses

    from tfprune.engine import config as config_lib
    field = {f.name: f for f in dataclasses.fields(config_lib.Config)}["schedule"]
    assert tuple(config_lib.choices(field)) == RoundSchedule.KINDS
