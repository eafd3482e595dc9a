"""GMP's polynomial schedule (pure): tfmot's PolynomialDecay, step for step, and its ends."""
import numpy as np
import pytest

from tfprune.masking.kerases import tfmot
from tfprune.pruning.gradual import Gradual


@pytest.mark.parametrize("begin,end,every,initial,final", [
    (0, 100, 10, 1.0, 0.2), (30, 330, 100, 0.5, 0.05), (7, 7 + 64, 16, 1.0, 0.1)])
def test_density_and_update_steps_are_tfmots(begin, end, every, initial, final):
    ours = Gradual(begin, end, every, initial, final)
    theirs = tfmot().sparsity.keras.PolynomialDecay(
        initial_sparsity=1 - initial, final_sparsity=1 - final, begin_step=begin,
        end_step=end, power=3, frequency=every)
    for step in range(0, end + 2 * every):
        should, sparsity = theirs(step)
        assert bool(should) == ours.updates_at(step), step
        if ours.updates_at(step):
            assert ours.density(step) == pytest.approx(1 - float(sparsity), abs=1e-6)


def test_the_final_density_is_reached_even_off_the_frequency():
    g = Gradual(begin=10, end=95, every=20, initial=1.0, final=0.1)
    steps = [s for s in range(200) if g.updates_at(s)]
    assert steps == [10, 30, 50, 70, 90, 95]  # tfmot would stop at 90, short of 0.1
    assert g.kept(95, 1000) == 100 and g.kept(10, 1000) == 1000
    densities = [g.density(s) for s in steps]
    assert densities == sorted(densities, reverse=True)


def test_prune_fraction_leaves_exactly_the_target():
    g = Gradual(begin=0, end=10, every=1, initial=1.0, final=0.2)
    kept = 997
    for step in range(11):
        fraction = g.prune_fraction(step, 997, kept)
        removed = int(np.floor(fraction * kept + 0.5))  # a strategy's num_to_remove
        kept -= removed
        assert kept == g.kept(step, 997)
    assert g.prune_fraction(20, 997, kept) == 0


@pytest.mark.parametrize("kwargs,message", [
    (dict(begin=5, end=4), "need 0 <= begin <= end"),
    (dict(every=0), "every must be >= 1"),
    (dict(initial=0.1, final=0.2), "need 0 < final <= initial <= 1")])
def test_bad_schedules_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Gradual(**(dict(begin=0, end=10, every=1, initial=1.0, final=0.5) | kwargs))
