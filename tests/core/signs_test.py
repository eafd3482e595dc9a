"""Sign surgery: magnitudes kept, signs taken or flipped, only on surviving weights."""
import numpy as np

from tfprune.core import signs


def test_with_signs_keeps_magnitudes_takes_signs_and_zeroes_pruned_weights():
    rng = np.random.default_rng(0)
    weights = {"a": rng.normal(size=(5, 4)).astype(np.float32), "b": rng.normal(size=7)}
    signs_of = {k: rng.normal(size=w.shape) for k, w in weights.items()}
    mask = {k: rng.random(w.shape) < 0.6 for k, w in weights.items()}
    out = signs.with_signs(weights, signs_of, mask)
    for k, w in weights.items():
        assert out[k].dtype == w.dtype
        assert np.array_equal(out[k][~mask[k]], np.zeros((~mask[k]).sum()))
        assert np.allclose(np.abs(out[k][mask[k]]), np.abs(w[mask[k]]))
        assert np.array_equal(np.sign(out[k][mask[k]]), np.sign(signs_of[k][mask[k]]))


def test_shuffled_magnitudes_are_a_permutation_within_each_layer():
    rng = np.random.default_rng(1)
    weights = {"a": rng.normal(size=50)}
    mask = {"a": rng.random(50) < 0.5}
    out = signs.with_signs(weights, weights, mask, np.random.default_rng(2))
    kept = mask["a"]
    assert sorted(np.abs(out["a"][kept])) == sorted(np.abs(weights["a"][kept]))
    assert not np.allclose(np.abs(out["a"][kept]), np.abs(weights["a"][kept]))


def test_perturb_flips_about_the_probability_of_survivors_only():
    rng = np.random.default_rng(3)
    weights = {"a": rng.normal(size=10_000)}
    mask = {"a": rng.random(10_000) < 0.3}
    out, count = signs.perturb(weights, mask, 0.25, np.random.default_rng(4))
    flipped = np.sign(out["a"]) != np.sign(weights["a"])
    assert count == flipped.sum() and not flipped[~mask["a"]].any()
    assert abs(count / mask["a"].sum() - 0.25) < 0.03
