"""SNIP's and SynFlow's pruning (pure): the scores, the iteration count, nested masks, a
rescoring scorer, and the layers SynFlow cannot score."""
import numpy as np
import pytest

from tfprune.core.mask import Mask
from tfprune.pruning import saliency


def test_synflow_iterates_on_rescored_masks_to_the_target():
    rng = np.random.default_rng(0)
    base = {"a": rng.random((10, 10)), "b": rng.random(50)}
    calls = []

    def score(mask):  # a scorer that depends on the mask: layer "b" loses value as "a" thins
        calls.append(mask.num_kept)
        return {"a": base["a"], "b": base["b"] * mask["a"].mean()}

    mask = Mask.ones_like(base)
    new = saliency.prune_synflow(base, mask, 0.5, rng, score=score)
    assert new.num_kept == 75 and new.is_subset_of(mask)
    assert len(calls) == saliency.iterations(150, 75) == 16
    assert calls == sorted(calls, reverse=True) and calls[0] == 150
    # one shot on the first scores would keep other weights: the iterations rescored
    assert new != saliency.prune_snip(score(mask), mask, 0.5, rng)


def test_snip_scores_and_one_shot_pruning_keep_the_largest():
    scores = saliency.snip_scores({"w": np.array([1., -2., 0.5, 4.])},
                                  {"w": np.array([3., 1., -8., 0.1])})
    assert scores["w"].tolist() == [3.0, 2.0, 4.0, 0.4]
    mask = saliency.prune_snip(scores, Mask.ones_like(scores), 0.5, np.random.default_rng(0))
    assert mask["w"].tolist() == [True, False, True, False]


def test_synflow_names_a_layer_it_cannot_score():
    weights = {"conv": np.ones(3), "out": np.ones(2)}
    with pytest.raises(ValueError, match="^--pruning=synflow cannot score out: its synaptic "
                                         "flow is zero"):
        saliency.synflow_scores(5.0, {"conv": np.ones(3), "out": np.full(2, 1e-9)}, weights)
    with pytest.raises(ValueError, match="cannot score conv: its synaptic flow is not finite"):
        saliency.synflow_scores(5.0, {"conv": np.array([np.inf, 1, 1]), "out": np.ones(2)},
                                weights)
    assert saliency.synflow_scores(3.0, {"conv": np.ones(3), "out": np.ones(2) * 1.5},
                                   weights)["out"].tolist() == [1.5, 1.5]
