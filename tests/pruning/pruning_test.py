"""Tests for the pruning strategies in tfprune.pruning (pure numpy)."""
import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.pruning import common, random_balanced, random_erk, registry

ALL = registry.names()
RANDOM = [n for n in ALL if n.startswith("random_")]
PER_LAYER = {"layerwise_magnitude", "random_uniform"}  # round per layer


def _rng(seed=0):
    return np.random.default_rng(seed)


def _weights(seed=0):
    """Three layers, 10000 weights; every layer size is divisible by 5**4."""
    rng = np.random.default_rng(seed)
    return {"s1_conv/kernel": rng.normal(size=(5, 5, 4, 25)),  # 2500
            "dense/kernel": rng.normal(size=(100, 50)),  # 5000
            "s2_b1_conv1/kernel": rng.normal(size=(50, 50))}  # 2500


def _prune(name, weights, mask, fraction=0.2, seed=0):
    return registry.get(name)(weights, mask, fraction, _rng(seed))


# Registry.

def test_registry_names_and_default():
    assert registry.DEFAULT == "global_magnitude" == ALL[0]
    assert set(ALL) == {"global_magnitude", "layerwise_magnitude", "erk_magnitude",
                        "random_uniform", "random_global", "random_erk", "random_balanced",
                        "snip", "synflow"}
    assert all(callable(registry.get(n)) for n in ALL)


@pytest.mark.parametrize("bad", ["magnitude", "", "GLOBAL_MAGNITUDE", None])
def test_unknown_strategy(bad):
    with pytest.raises(ValueError, match="valid: global_magnitude, layerwise_magnitude") as info:
        registry.get(bad)
    assert "\n" not in str(info.value)


# Closed-form answers.

def test_global_magnitude_single_layer_keeps_80_largest():
    w = {"a": np.linspace(1, 100, 100)}
    m = _prune("global_magnitude", w, Mask.ones_like(w))
    np.testing.assert_array_equal(m["a"], w["a"] > 20)


def test_two_layers_global_vs_layerwise():
    w = {"a": np.arange(1.0, 11.0), "b": np.arange(11.0, 21.0)}
    g = _prune("global_magnitude", w, Mask.ones_like(w), 0.5)
    assert not g["a"].any() and g["b"].all()
    lw = _prune("layerwise_magnitude", w, Mask.ones_like(w), 0.5)
    np.testing.assert_array_equal(lw["a"], w["a"] > 5)
    np.testing.assert_array_equal(lw["b"], w["b"] > 15)


@pytest.mark.parametrize("name", ["global_magnitude", "layerwise_magnitude", "erk_magnitude"])
def test_magnitude_uses_absolute_value(name):
    w = {"a": np.array([-10.0, 1.0, -2.0, 3.0, -0.5, 7.0])}
    m = _prune(name, w, Mask.ones_like(w), 0.5)
    np.testing.assert_array_equal(m["a"], [True, False, False, True, False, True])


@pytest.mark.parametrize("name", ["global_magnitude", "layerwise_magnitude", "erk_magnitude"])
def test_magnitude_only_survivors_are_candidates(name):
    w = {"a": np.array([0.0, 0.0, 0.0, 0.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])}
    mask = Mask({"a": w["a"] > 0})
    m = _prune(name, w, mask, 0.5)  # 3 of the 6 survivors go
    np.testing.assert_array_equal(m["a"], w["a"] > 7)


def test_global_magnitude_ties_deterministic_and_key_order_free():
    w1 = {"b": np.ones(4), "a": np.ones(4)}
    w2 = {"a": np.ones(4), "b": np.ones(4)}
    m1 = _prune("global_magnitude", w1, Mask.ones_like(w1), 0.25)
    m2 = _prune("global_magnitude", w2, Mask.ones_like(w2), 0.25)
    assert m1 == m2
    np.testing.assert_array_equal(m1["a"], [False, False, True, True])  # first in sorted order
    assert m1["b"].all()


def test_removal_is_a_stable_sorts_first_survivors_without_sorting():
    rng = np.random.default_rng(0)
    for _ in range(300):  # few distinct scores: many ties, broken by position
        keep = rng.random(40) < 0.7
        scores = rng.integers(0, 4, size=40).astype(float)
        n = int(rng.integers(0, 45))
        expected = keep.copy()
        alive = np.flatnonzero(keep)
        expected[alive[np.argsort(scores[alive], kind="stable")[:n]]] = False
        np.testing.assert_array_equal(common.prune_lowest(
            Mask({"w": keep}), ["w"], {"w": scores}, n)["w"], expected)


def test_erk_magnitude_keeps_erks_counts_and_each_layers_largest_weights():
    w, m = _weights(), Mask.ones_like(_weights())
    for r in range(1, 6):
        erk = _prune("erk_magnitude", w, m)
        assert erk.layer_densities() == _prune("random_erk", w, m).layer_densities()
        for k in w:  # the survivors of each layer are its largest |w| among the last ones
            kept, gone = np.abs(w[k][erk[k]]), np.abs(w[k][m[k] & ~erk[k]])
            assert not gone.size or kept.min() >= gone.max()
        assert erk.num_kept < m.num_kept
        m = erk
    assert m.density == pytest.approx(0.8 ** 5, abs=1e-3)


@pytest.mark.parametrize("name, budget, expected", [
    ("global_magnitude", "global", "global_magnitude"),
    ("global_magnitude", "uniform", "layerwise_magnitude"),
    ("layerwise_magnitude", "erk", "erk_magnitude"),
    ("random_erk", "global", "random_global"),
    ("random_global", "uniform", "random_uniform"),
    ("random_uniform", "erk", "random_erk"),
])
def test_a_budget_picks_its_rules_strategy(name, budget, expected):
    assert registry.with_budget(name, budget) == expected


@pytest.mark.parametrize("name, budget, message", [
    ("global_magnitude", "erk_density", "^--budget=erk_density is not a budget; valid: global, "
                                        "uniform, erk$"),
    ("random_balanced", "erk", "^--budget is for magnitude and random pruning, not "
                               "--pruning=random_balanced; give --pruning=random_balanced alone$"),
])
def test_a_budget_that_means_nothing_is_one_line(name, budget, message):
    with pytest.raises(ValueError, match=message):
        registry.with_budget(name, budget)


def test_random_uniform_equal_layer_densities():
    w = {"a": np.zeros(100), "b": np.zeros((10, 20)), "c": np.zeros((4, 100))}
    m = Mask.ones_like(w)
    for _ in range(2):
        m = _prune("random_uniform", w, m, 0.5)
        dens = list(m.layer_densities().values())
        assert np.allclose(dens, dens[0])
    assert m.layer_densities() == {"a": 0.25, "b": 0.25, "c": 0.25}


def test_random_erk_hand_computed():
    # raw = sum(dims)/prod(dims): a 20/100 = 0.2, b 40/400 = 0.1; keep 150 -> eps*60 = 150.
    w = {"a": np.zeros((10, 10)), "b": np.zeros((20, 20))}
    m = _prune("random_erk", w, Mask.ones_like(w), 0.7)
    assert m.layer_densities() == {"a": 0.5, "b": 0.25}


def test_random_erk_caps_dense_layer_at_one():
    # a: raw 4/4 = 1, b: 20/100 = 0.2; keep 54: eps*(4 + 20) = 54 -> a would be 2.25 -> capped.
    w = {"a": np.zeros((2, 2)), "b": np.zeros((10, 10))}
    m = _prune("random_erk", w, Mask.ones_like(w), 50 / 104)
    assert m.num_kept == 54
    assert m.layer_densities() == {"a": 1.0, "b": 0.5}


def test_random_erk_caps_at_current_density_to_stay_nested():
    # a has only 10 survivors; ERK would give it 68 of 205 -> capped at 10, b gets 195.
    mask = Mask({"a": np.arange(100).reshape(10, 10) < 10, "b": np.ones((20, 20))})
    assert random_erk.erk_keep_counts(mask, ["a", "b"], 205).tolist() == [10, 195]
    w = {"a": np.zeros((10, 10)), "b": np.zeros((20, 20))}
    m = _prune("random_erk", w, mask, 0.5)
    assert m.is_subset_of(mask)
    assert [int(m[k].sum()) for k in ("a", "b")] == [10, 195]


def test_random_erk_small_layers_keep_higher_density():
    w = {"small": np.zeros((10, 10)), "mid": np.zeros((20, 30)), "big": np.zeros((40, 80))}
    m = Mask.ones_like(w)
    for _ in range(10):
        m = _prune("random_erk", w, m, 0.2)
        d = m.layer_densities()
        assert d["small"] >= d["mid"] > d["big"]  # small stays capped at 1.0 for a while
    assert 1.0 > d["small"] > d["mid"] > d["big"]


def test_random_balanced_equal_counts():
    w = {"a": np.zeros(50), "b": np.zeros((10, 30)), "c": np.zeros((20, 30))}
    m = _prune("random_balanced", w, Mask.ones_like(w), 700 / 950)  # keep 250 of 950
    assert [int(m[k].sum()) for k in sorted(m)] == [50, 100, 100]  # a capped at its 50
    m = _prune("random_balanced", w, m, 0.4)  # keep 150
    assert [int(m[k].sum()) for k in sorted(m)] == [50, 50, 50]


def test_random_balanced_counts_cap_and_rounding():
    mask = Mask({"a": np.ones(10), "b": np.ones(100), "c": np.ones(100)})
    assert random_balanced.balanced_keep_counts(mask, ["a", "b", "c"], 90).tolist() == [10, 40, 40]
    assert random_balanced.balanced_keep_counts(mask, ["a", "b", "c"], 91).tolist() == [10, 41, 40]


def test_apportion_and_num_to_remove():
    assert common.apportion(np.array([2.5, 2.5, 5.0]), np.array([9, 9, 9]), 10).tolist() == [3, 2, 5]
    assert common.apportion(np.array([3.0, 3.0]), np.array([1, 9]), 4).tolist() == [1, 3]
    assert common.num_to_remove(100, 0.2) == 20 and common.num_to_remove(7, 0.5) == 4
    assert common.num_to_remove(2, 0.2) == 0


# Invariants for every strategy.

@pytest.mark.parametrize("name", ALL)
def test_nested_and_density_over_ten_rounds(name):
    w = _weights()
    mask = Mask.ones_like(w)
    total = mask.num_weights
    tol_round = 0.5 * (len(w) if name in PER_LAYER else 1)
    for r in range(1, 11):
        new = _prune(name, w, mask, 0.2, seed=r)
        assert new.is_subset_of(mask)
        assert abs(new.num_kept - 0.8 * mask.num_kept) <= tol_round  # each round: one rounding
        if r <= 4:  # 10000 * 0.8**r is an integer and every step is exact
            assert new.num_kept == round(total * 0.8**r)
        # Rounding errors shrink by 0.8 per round: cumulative error < tol_round / 0.2.
        assert abs(new.num_kept - total * 0.8**r) < tol_round / 0.2
        assert np.isclose(new.density, 0.8**r, atol=5 * tol_round / total)
        mask = new


@pytest.mark.parametrize("name", ALL)
def test_pruned_entries_never_come_back(name):
    w = _weights()
    m = _prune(name, w, Mask.ones_like(w), 0.5)
    huge = {k: np.where(m[k], v, 1e9) for k, v in w.items()}  # pruned entries now the largest
    m2 = _prune(name, huge, m, 0.5)
    assert m2.is_subset_of(m)
    assert m2.num_kept == m.num_kept - round(0.5 * m.num_kept)


@pytest.mark.parametrize("name", ALL)
def test_does_not_mutate_inputs(name):
    w = _weights()
    w_copy = {k: v.copy() for k, v in w.items()}
    mask = _prune("random_global", w, Mask.ones_like(w), 0.3)
    before = Mask(mask)
    _prune(name, w, mask, 0.2)
    assert mask == before
    assert all(np.array_equal(w[k], w_copy[k]) for k in w)


@pytest.mark.parametrize("name", ALL)
def test_key_order_of_inputs_irrelevant(name):
    w = _weights()
    w_rev = dict(reversed(list(w.items())))
    assert _prune(name, w, Mask.ones_like(w), 0.2) == _prune(name, w_rev, Mask.ones_like(w_rev), 0.2)


@pytest.mark.parametrize("name", RANDOM)
def test_random_reproducible_per_seed(name):
    w = _weights()
    m = Mask.ones_like(w)
    assert _prune(name, w, m, 0.2, seed=7) == _prune(name, w, m, 0.2, seed=7)
    assert _prune(name, w, m, 0.2, seed=7) != _prune(name, w, m, 0.2, seed=8)


@pytest.mark.parametrize("name", RANDOM)
def test_random_ignores_weight_values(name):
    w = _weights()
    w2 = {k: -3 * v + 1 for k, v in w.items()}
    assert _prune(name, w, Mask.ones_like(w), 0.2) == _prune(name, w2, Mask.ones_like(w2), 0.2)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), True, "0.2", None])
def test_bad_fraction(name, fraction):
    w = {"a": np.ones(10)}
    with pytest.raises(ValueError, match="fraction"):
        registry.get(name)(w, Mask.ones_like(w), fraction, _rng())


@pytest.mark.parametrize("name", ALL)
def test_mask_weights_mismatch(name):
    w = {"a": np.ones(10), "b": np.ones(4)}
    with pytest.raises(ValueError, match="'b'"):
        registry.get(name)({"a": np.ones(10)}, Mask.ones_like(w), 0.2, _rng())
    with pytest.raises(ValueError, match="'c'"):
        registry.get(name)({**w, "c": np.ones(1)}, Mask.ones_like(w), 0.2, _rng())
    with pytest.raises(ValueError, match="shape"):
        registry.get(name)({"a": np.ones(10), "b": np.ones((2, 2))}, Mask.ones_like(w), 0.2, _rng())


@pytest.mark.parametrize("name", ALL)
def test_bad_mask_or_rng_type(name):
    w = {"a": np.ones(10)}
    with pytest.raises(TypeError):
        registry.get(name)(w, {"a": np.ones(10)}, 0.2, _rng())
    with pytest.raises(TypeError):
        registry.get(name)(w, Mask.ones_like(w), 0.2, 0)


@pytest.mark.parametrize("name", ALL)
def test_tiny_survivor_count_removes_nothing(name):
    mask = Mask({"a": [1, 1, 0, 0], "b": [0, 0, 0, 0]})
    w = {"a": np.ones(4), "b": np.ones(4)}
    m = _prune(name, w, mask, 0.2)  # round(0.2 * 2) = 0
    assert m == mask
