"""Pruning at initialization by saliency, as pure numpy over scores the engine computes
(`training.gradients`) at the rewind point: SNIP (Lee et al., 2019) and SynFlow (Tanaka et
al., 2020).

    snip     |dL/dw * w| on a batch, one shot: the lowest scores over all layers go
    synflow  |dR/dtheta * theta| of the synaptic flow R (no data), iterated: each iteration
             rescores the network under the mask so far and prunes a little more, on the
             published exponential schedule (100 iterations reach density 0.01, so no
             iteration removes more than 4.5% of the survivors)

Both keep masks nested: a round prunes the survivors of the round before.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common

NAMES = ("snip", "synflow")
ITERATION_KEEP = 0.01 ** (1 / 100)  # SynFlow's schedule: 100 iterations to density 0.01


def snip_scores(gradients: Mapping[str, np.ndarray],
                weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """SNIP's connection sensitivity |g * w| of every entry.

    Example:
      >>> snip_scores({"a": np.array([2., -1.])}, {"a": np.array([-3., 0.5])})["a"].tolist()
      [6.0, 0.5]
    """
    return {k: np.abs(np.asarray(gradients[k], np.float64) * np.asarray(weights[k], np.float64))
            for k in weights}


def synflow_scores(flow: float, gradients: Mapping[str, np.ndarray],
                   weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """SynFlow's |dR/dtheta * theta|, and a one-line error for a layer it cannot score.

    In a network of linear layers and ReLUs without biases, each layer's scores sum to the
    flow R itself (Tanaka et al.'s conservation). A layer whose scores sum to less than 1e-6
    R (a softmax or normalization after it makes R constant) or are not finite (the
    product of |theta| overflows float32) cannot be scored.
    """
    scores = snip_scores(gradients, weights)
    for k, s in sorted(scores.items()):
        if not (np.isfinite(flow) and np.all(np.isfinite(s))):
            raise ValueError(f"--pruning=synflow cannot score {k}: its synaptic flow is not "
                             "finite (the product of |weights| overflows float32 in a model "
                             "this deep)")
        if np.asarray(weights[k]).any() and not s.sum() >= 1e-6 * flow:
            raise ValueError(f"--pruning=synflow cannot score {k}: its synaptic flow is zero "
                             "(the output does not grow with it: a softmax or normalization "
                             "after it?); use another --pruning")
    return scores


def prune_snip(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
               rng: np.random.Generator) -> Mask:
    """Removes the `round(fraction * kept)` survivors of lowest score; `weights` are the SNIP
    scores (`snip_scores`). `rng` is unused.

    Example:
      >>> s = {"a": np.array([3., 1., 2.]), "b": np.array([5., 0.5, 4.])}
      >>> prune_snip(s, Mask.ones_like(s), 0.34, np.random.default_rng(0))["b"].tolist()
      [True, False, True]
    """
    keys = common.check_args(weights, mask, fraction, rng)
    return common.prune_lowest(mask, keys, {k: np.asarray(weights[k], np.float64) for k in keys},
                               common.num_to_remove(mask.num_kept, fraction))


def iterations(kept: int, target: int) -> int:
    """SynFlow iterations from `kept` survivors down to `target`: none removes more than
    1 - ITERATION_KEEP of the survivors.

    Example:
      >>> iterations(1000, 800), iterations(1000, 10), iterations(5, 5)
      (5, 100, 0)
    """
    if target >= kept:
        return 0
    return max(1, math.ceil(math.log(target / kept) / math.log(ITERATION_KEEP) - 1e-9))


def prune_synflow(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
                  rng: np.random.Generator,
                  score: Callable[[Mask], Mapping[str, np.ndarray]] | None = None) -> Mask:
    """Removes `round(fraction * kept)` survivors in SynFlow's iterations: each scores the
    network under the current mask (`score(mask)`, e.g. `synflow_scores` of the rewind
    point's model) and keeps `kept * (target / kept) ** (i / n)` after iteration i.
    Without `score`, `weights` are fixed scores (then it equals one-shot pruning of them).
    `rng` is unused.

    Example:
      >>> s = {"a": np.arange(1.0, 11.0)}
      >>> int(prune_synflow(s, Mask.ones_like(s), 0.5, np.random.default_rng(0))["a"].sum())
      5
    """
    keys = common.check_args(weights, mask, fraction, rng)
    kept = mask.num_kept
    target = kept - common.num_to_remove(kept, fraction)
    n = iterations(kept, target)
    for i in range(1, n + 1):
        count = target if i == n else int(round(kept * (target / kept) ** (i / n)))
        scores = score(mask) if score else weights
        mask = common.prune_lowest(mask, keys, {k: np.asarray(scores[k], np.float64)
                                                for k in keys}, mask.num_kept - count)
    return mask
