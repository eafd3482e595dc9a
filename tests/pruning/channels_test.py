"""Channel masks over rounds: whole classes, nested, at the round's density, no layer emptied;
scores are the mean |w| of a class's surviving weights."""
import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.pruning import channels, registry, structures
from tfprune.pruning.channels import FIXED, ChannelMap, Coupling


def mlp_map(widths=(20, 16, 12, 4)):
    """The channel map of an MLP: the inputs and the outputs are fixed, each hidden unit a
    class (the rows of the next kernel and the column of its own)."""
    kernels, spaces, layers, start, previous = {}, {}, {}, 0, np.full(widths[0], FIXED)
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        last = i == len(widths) - 2
        cols = np.full(fan_out, FIXED) if last else np.arange(start, start + fan_out)
        kernels[f"fc{i}"] = Coupling(previous, cols)
        layers[f"fc{i}"] = (previous, cols)
        if not last:
            spaces[f"fc{i}"] = cols
            start += fan_out
        previous = cols
    return ChannelMap(kernels, spaces, layers, {}, start)


def mlp_weights(widths=(20, 16, 12, 4), seed=0):
    rng = np.random.default_rng(seed)
    return {f"fc{i}": rng.normal(size=(a, b)).astype(np.float32)
            for i, (a, b) in enumerate(zip(widths, widths[1:]))}


def test_a_class_scores_the_mean_magnitude_of_its_surviving_weights():
    cmap = mlp_map((2, 2, 1))
    w = {"fc0": np.array([[1., 2.], [3., 4.]], np.float32), "fc1": np.array([[5.], [6.]])}
    # unit 0: column (1, 3) of fc0 and row (5) of fc1; unit 1: (2, 4) and (6)
    np.testing.assert_allclose(channels.scores(cmap, w, Mask.ones_like(w)), [3, 4])
    mask = Mask({"fc0": [[1, 1], [0, 1]], "fc1": [[1], [1]]})
    np.testing.assert_allclose(channels.scores(cmap, w, mask), [3, 4])  # (1 + 5) / 2


def test_a_mask_is_whole_classes_and_a_broken_one_is_told():
    cmap, w = mlp_map(), mlp_weights()
    keep = np.random.default_rng(0).random(cmap.num_classes) > 0.5
    full = channels.expand(cmap, keep, {k: v.shape for k, v in w.items()})
    assert channels.is_structured(cmap, full)
    np.testing.assert_array_equal(channels.kept_classes(cmap, full), keep)
    assert not full["fc1"][~keep[:16]].any() and not full["fc0"][:, ~keep[:16]].any()
    broken = dict(full)
    broken["fc1"] = full["fc1"].copy()
    broken["fc1"][np.argmax(keep[:16]), 0] = False  # one weight of a kept unit
    assert not channels.is_structured(cmap, broken)


@pytest.mark.parametrize("strategy", registry.names())
def test_every_round_prunes_whole_classes_nested_to_the_rounds_density(strategy):
    cmap, w = mlp_map(), mlp_weights()
    mask, structure = Mask.ones_like(w), structures.parse("channel")
    for r in range(1, 7):
        new = structures.prune(registry.get(strategy), structure, w, mask, 0.2,
                               np.random.default_rng([0, r]), channels=cmap)
        assert channels.is_structured(cmap, new) and new.is_subset_of(mask)
        # whole units of 16-32 weights each (3-6% of 560), each round the closest to 0.8 of
        # the last: within about one unit of 0.8^r
        assert new.density == pytest.approx(0.8 ** r, abs=0.05)
        for name, ids in cmap.spaces.items():
            assert channels.kept_classes(cmap, new)[ids].any(), f"{name} lost every unit"
        mask, w = new, {k: v * new[k] for k, v in w.items()}


def test_no_layer_loses_its_last_unit_and_the_best_one_stays():
    cmap, w = mlp_map((4, 3, 2, 1)), mlp_weights((4, 3, 2, 1))
    w["fc1"][1] *= 100  # unit 1 of fc0's output is the largest by far
    mask = Mask.ones_like(w)
    for r in range(1, 12):
        mask = channels.prune(registry.get("global_magnitude"), cmap, w, mask, 0.5,
                              np.random.default_rng(r))
        w = {k: v * mask[k] for k, v in w.items()}
    kept = channels.kept_classes(cmap, mask)
    assert kept[:3].tolist() == [False, True, False] and kept[3:].sum() == 1


def test_unstructured_fallback_prunes_what_the_map_does_not_reach():
    cmap, w = mlp_map(), mlp_weights()
    w["embedding"] = np.random.default_rng(1).normal(size=(10, 8))  # no class reaches it
    structure = structures.parse("channel")
    assert structures.unfit(structure, {k: v.shape for k, v in w.items()}, cmap) == {
        "embedding": "not in the model's top-level graph of known layers"}
    rng = np.random.default_rng(0)
    dense = structures.prune(registry.get("global_magnitude"), structure, w,
                             Mask.ones_like(w), 0.2, rng, channels=cmap)
    assert dense["embedding"].all()
    fallback = structures.prune(registry.get("global_magnitude"), structure, w,
                                Mask.ones_like(w), 0.2, rng, channels=cmap,
                                unfit_rule="unstructured")
    assert fallback["embedding"].mean() == pytest.approx(0.8)
    for key in ("fc0", "fc1", "fc2"):
        np.testing.assert_array_equal(fallback[key], dense[key])


@pytest.mark.parametrize("spec", ["block:1x4", "nm:2:4"])
def test_unfit_kernels_are_pruned_unstructured_when_asked(spec):
    structure = structures.parse(spec)
    w = {"fit": np.random.default_rng(0).normal(size=(8, 4)),
         "odd": np.random.default_rng(1).normal(size=(75, 10))}
    mask = structures.prune(registry.get("global_magnitude"), structure, w, Mask.ones_like(w),
                            0.2, np.random.default_rng(0), unfit_rule="unstructured")
    assert mask["odd"].mean() == pytest.approx(0.8)
    assert structures.is_structured(mask["fit"], structure)
