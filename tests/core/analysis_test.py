"""Closed-form tests of the sign, mask and distance analyses."""
import numpy as np
import pytest

from tfprune.core import analysis


def test_sign_flips_count_only_survivors_and_pool_globally():
    before = {"a": np.array([1.0, -1.0, 1.0, -1.0]), "b": np.array([2.0, 2.0])}
    after = {"a": np.array([-1.0, -1.0, -3.0, 0.0]), "b": np.array([-2.0, 2.0])}
    mask = {"a": np.array([1, 1, 1, 0]), "b": np.array([1, 1])}
    result = analysis.sign_flips(before, after, mask)
    assert result["layers"] == {"a": pytest.approx(2 / 3), "b": 0.5}
    assert result["global"] == pytest.approx(3 / 5)


def test_sign_flips_of_a_negated_copy_is_one_and_of_itself_zero():
    rng = np.random.default_rng(0)
    w = {"k": rng.normal(size=(3, 4, 5))}
    assert analysis.sign_flips(w, {"k": -w["k"]})["global"] == 1.0
    assert analysis.sign_flips(w, w)["global"] == 0.0


def test_sign_flips_of_an_empty_layer_is_zero():
    w = {"k": np.ones(3)}
    assert analysis.sign_flips(w, w, {"k": np.zeros(3)}) == {"global": 0.0, "layers": {"k": 0.0}}


def test_mask_overlap_and_hamming():
    a = {"x": np.array([1, 1, 1, 1, 0, 0]), "y": np.array([1, 0])}
    b = {"x": np.array([1, 1, 0, 0, 1, 0]), "y": np.array([1, 0])}
    overlap = analysis.mask_overlap(a, b)
    assert overlap["layers"] == {"x": pytest.approx(2 / 5), "y": 1.0}
    assert overlap["global"] == pytest.approx(3 / 6)
    hamming = analysis.mask_hamming(a, b)
    assert hamming["layers"] == {"x": pytest.approx(3 / 6), "y": 0.0}
    assert hamming["global"] == pytest.approx(3 / 8)


def test_nested_masks_overlap_by_their_density_ratio():
    previous = {"x": np.ones(100)}
    current = {"x": np.r_[np.ones(80), np.zeros(20)]}
    assert analysis.mask_overlap(previous, current)["global"] == pytest.approx(0.8)


def test_distances_closed_form_with_a_mask():
    before = {"a": np.array([3.0, 0.0, 7.0]), "b": np.array([1.0])}
    after = {"a": np.array([0.0, 4.0, -7.0]), "b": np.array([1.0])}
    mask = {"a": np.array([1, 1, 0]), "b": np.array([1])}
    d = analysis.distances(before, after, mask)
    assert d["l2"]["layers"] == {"a": 5.0, "b": 0.0}
    assert d["l2"]["global"] == 5.0
    assert d["cosine"]["layers"]["a"] == 0.0 and d["cosine"]["layers"]["b"] == 1.0
    assert d["cosine"]["global"] == pytest.approx(1 / np.sqrt(10 * 17))


@pytest.mark.parametrize("fn", [analysis.sign_flips, analysis.mask_overlap,
                                analysis.mask_hamming, analysis.distances])
def test_mismatched_names_or_shapes_raise(fn):
    with pytest.raises(ValueError, match="different names"):
        fn({"a": np.ones(2)}, {"b": np.ones(2)})
    with pytest.raises(ValueError, match="shapes"):
        fn({"a": np.ones(2)}, {"a": np.ones(3)})
