"""Structured masks over rounds: exactly structured, nested, at the round's density; kernels the
structure cannot divide left dense and named."""
import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.pruning import registry, structures

SHAPES = {"conv": (3, 4, 8), "fc1": (40, 12), "odd": (75, 10)}  # odd: 75 inputs


def weights(seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}


@pytest.mark.parametrize("spec", ["block:0x4", "block:1x", "nm:5:4", "nm:2:x", "nm:4:4",
                                  "channels", ""])
def test_a_malformed_structure_is_one_line_naming_the_flag(spec):
    with pytest.raises(ValueError, match=f"^--structure={spec}: expected one of unstructured, "
                                         "block:RxC, nm:N:M"):
        structures.parse(spec)


def test_unfit_kernels_are_named_with_the_reason():
    shapes = {k: v.shape for k, v in weights().items()}
    assert structures.unfit(structures.parse("block:1x4"), shapes) == {
        "odd": "75 inputs x 10 outputs do not divide into 1x4 blocks"}
    assert structures.unfit(structures.parse("block:4x1"), shapes) == {
        "odd": "75 inputs x 10 outputs do not divide into 4x1 blocks"}
    assert structures.unfit(structures.parse("nm:2:4"), shapes) == {
        "odd": "75 inputs are not a multiple of 4"}


@pytest.mark.parametrize("strategy", registry.names())
@pytest.mark.parametrize("spec", ["block:1x4", "block:2x2", "nm:2:4"])
def test_every_round_is_exactly_structured_nested_and_leaves_unfit_kernels_dense(spec, strategy):
    structure, w = structures.parse(spec), weights()
    mask = Mask.ones_like(w)
    for r in range(1, 5):
        rng = np.random.default_rng([0, r])
        new = structures.prune(registry.get(strategy), structure, w, mask, 0.2, rng,
                               randomly=strategy.startswith("random"))
        assert new.is_subset_of(mask)
        assert all(structures.is_structured(new[k], structure) for k in ("conv", "fc1"))
        assert new["odd"].all()  # left dense
        fit = sum(new[k].sum() for k in ("conv", "fc1")) / sum(new[k].size for k in
                                                             ("conv", "fc1"))
        if structure.kind == "block":  # a fifth of the surviving blocks per round
            assert fit == pytest.approx(0.8 ** r, abs=0.02)
        else:  # pruned as the strategy says, then at most 2 of 4: at most half
            assert fit <= 0.5 * 0.8 ** (r - 1) + 1e-9
        mask, w = new, {k: v * new[k] for k, v in w.items()}


def test_blocks_are_scored_by_their_summed_magnitude():
    structure = structures.parse("block:1x4")
    w = {"fc": np.zeros((8, 2), np.float32)}
    w["fc"][0:4, 0] = [5, -5, 0, 0]      # block (0, 0): 10
    w["fc"][4:8, 0] = [3, 3, 3, 3]       # block (1, 0): 12
    w["fc"][0:4, 1] = [-1, 1, 1, 1]      # block (0, 1): 4
    w["fc"][4:8, 1] = [20, 0, 0, 0]      # block (1, 1): 20
    mask = structures.prune(registry.get("global_magnitude"), structure, w,
                            Mask.ones_like(w), 0.5, np.random.default_rng(0))
    assert structures.block_scores(w["fc"], structure).tolist() == [[10, 4], [12, 20]]
    assert mask["fc"][:, 0].tolist() == [0] * 4 + [1] * 4
    assert mask["fc"][:, 1].tolist() == [0] * 4 + [1] * 4


def test_nm_keeps_the_largest_n_of_each_m_consecutive_inputs():
    structure = structures.parse("nm:2:4")
    w = {"fc": np.array([[1.0], [-4.0], [3.0], [2.0], [0.5], [0.1], [0.2], [9.0]])}
    mask = structures.prune(registry.get("global_magnitude"), structure, w,
                            Mask.ones_like(w), 0.1, np.random.default_rng(0))
    assert mask["fc"][:, 0].astype(int).tolist() == [0, 1, 1, 0, 1, 0, 0, 1]


@pytest.mark.slow
def test_a_block_mask_over_large_kernels_keeps_four_fifths():
    # kernel shapes of ResNet-50's stages (8 M weights): the mask is numpy on block scores
    rng = np.random.default_rng(0)
    shapes = [(1, 1, 64, 256), (3, 3, 256, 256), (1, 1, 256, 1024), (3, 3, 512, 512),
              (1, 1, 1024, 2048), (2048, 1000)]
    w = {f"k{i}": rng.normal(size=s).astype(np.float32) for i, s in enumerate(shapes)}
    mask = structures.prune(registry.get("global_magnitude"), structures.parse("block:1x4"),
                            w, Mask.ones_like(w), 0.2, rng)
    assert mask.density == pytest.approx(0.8, abs=0.01)
