"""SET's and RigL's drop-and-grow (pure): counts held, exactly 2k entries moved per layer, the
smallest |w| dropped, the best scores grown, the cosine drop fraction."""
import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.pruning import common, dynamic, random_erk


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    weights = {"a": rng.normal(size=(20, 30)), "b": rng.normal(size=(3, 3, 8, 16))}
    mask = random_erk.prune(weights, Mask.ones_like(weights), 0.8, rng)
    return weights, mask, rng


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.9])
def test_each_layer_keeps_its_count_and_moves_exactly_the_fraction(fraction):
    weights, mask, rng = _setup()
    weights = {k: w * mask[k] for k, w in weights.items()}
    scores = dynamic.random_scores(mask, rng)
    new = dynamic.drop_and_grow(weights, mask, fraction, scores)
    for k in mask:
        kept = int(mask[k].sum())
        k_moved = min(common.num_to_remove(kept, fraction), mask[k].size - kept)
        assert int(new[k].sum()) == kept
        dropped, grown = mask[k] & ~new[k], new[k] & ~mask[k]
        assert int(dropped.sum()) == int(grown.sum()) == k_moved
        # the dropped are the survivors of smallest |w|; the grown the best-scored of the
        # entries pruned before (none just dropped)
        w = np.abs(weights[k])
        assert w[dropped].max() <= w[mask[k] & new[k]].min()
        assert scores[k][grown].min() >= scores[k][~mask[k] & ~new[k]].max()


def test_rigl_grows_where_the_gradient_is_largest():
    weights = {"w": np.array([1.0, 0.1, 2.0, 0.0, 0.0, 0.0])}
    mask = Mask({"w": [1, 1, 1, 0, 0, 0]})
    gradients = {"w": np.array([9.0, 9.0, 9.0, 0.5, -3.0, 1.0])}
    new = dynamic.drop_and_grow(weights, mask, 0.34, dynamic.gradient_scores(gradients))
    assert new["w"].tolist() == [True, False, True, False, True, False]


def test_a_zero_fraction_moves_nothing_and_bad_fractions_are_refused():
    weights, mask, rng = _setup()
    assert dynamic.drop_and_grow(weights, mask, 0.0, dynamic.random_scores(mask, rng)) == mask
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        dynamic.drop_and_grow(weights, mask, 1.0, dynamic.random_scores(mask, rng))


def test_the_drop_fraction_decays_by_a_cosine_and_updates_keep_their_window():
    fractions = [dynamic.drop_fraction(s, 100, 1100, 0.3) for s in range(100, 1200, 100)]
    assert fractions[0] == pytest.approx(0.3) and fractions[5] == pytest.approx(0.15)
    assert fractions[10:] == [0.0] and np.all(np.diff(fractions) <= 0)
    steps = [s for s in range(0, 1200) if dynamic.updates_at(s, 100, 1100, 100)]
    assert steps == list(range(200, 1100, 100))
