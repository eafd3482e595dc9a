"""Dynamic sparse training's mask update (SET: Mocanu et al., 2018; RigL: Evci et al., 2020),
as pure numpy: every update drops the smallest-|w| survivors of each layer and grows as many
new connections in that layer, so every layer keeps its count.

SET grows at random, RigL where the loss gradient is largest. The fraction dropped decays
with a cosine, from `initial` at the first update to 0 at the end of the updates. A
connection dropped by an update is not grown back by the same update, so each layer's mask
changes by exactly `2 * dropped` entries.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common

GROWTH = ("set", "rigl")  # random growth, gradient growth


def drop_fraction(step: int, begin: int, end: int, initial: float) -> float:
    """RigL's cosine decay: `initial` at `begin`, 0 at `end` and after.

    Example:
      >>> [round(drop_fraction(s, 0, 100, 0.3), 4) for s in (0, 50, 100, 200)]
      [0.3, 0.15, 0.0, 0.0]
    """
    if step >= end:
        return 0.0
    p = max(0.0, (step - begin) / (end - begin))
    return initial / 2.0 * (1.0 + math.cos(math.pi * p))


def updates_at(step: int, begin: int, end: int, every: int) -> bool:
    """Whether the mask is updated before step `step`: every `every` steps after `begin`,
    before `end`."""
    return begin < step < end and (step - begin) % every == 0


def drop_and_grow(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
                  grow_scores: Mapping[str, np.ndarray]) -> Mask:
    """Each layer drops `round(fraction * kept)` of its survivors with smallest |w| and grows as
    many of its pruned entries (not the ones just dropped) with the largest `grow_scores`.

    Ties go to the earlier position. A layer with fewer pruned entries than it would drop
    swaps only as many.

    Example:
      >>> w = {"a": np.array([0.5, -0.1, 0.0, 0.0, 2.0])}
      >>> m = Mask({"a": [1, 1, 0, 0, 1]})
      >>> drop_and_grow(w, m, 0.34, {"a": np.array([0, 0, 1, 3, 0])})["a"].astype(int).tolist()
      [1, 0, 0, 1, 1]
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    mask.check_compatible(weights)
    keys = sorted(mask)
    new = {}
    for k in keys:
        keep = mask[k].ravel()
        n = min(common.num_to_remove(int(keep.sum()), fraction), keep.size - int(keep.sum()))
        if n == 0:
            new[k] = mask[k]
            continue
        dropped = _lowest_gone(keep, np.abs(np.ravel(weights[k])), n, k)
        # the n largest scores among the entries pruned before this update, earliest first
        candidates = ~keep
        scores = np.asarray(grow_scores[k], np.float64).ravel()
        grown = candidates & ~_lowest_gone(candidates, -scores, n, k)
        dropped = dropped | grown
        new[k] = dropped.reshape(mask[k].shape)
    return Mask(new)


def _lowest_gone(keep, scores, n, key):
    """`keep` (flat, bool) with its `n` lowest-scored entries set False (ties: earliest)."""
    return np.asarray(common.prune_lowest(Mask({key: keep}), [key], {key: scores}, n)[key],
                      bool).ravel()


def random_scores(mask: Mask, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """SET's growth: uniform random scores, layer by layer in name order."""
    return {k: rng.random(mask[k].shape) for k in sorted(mask)}


def gradient_scores(gradients: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """RigL's growth: |dL/dw| of every entry (the dense gradient, pruned entries too)."""
    return {k: np.abs(np.asarray(g, np.float64)) for k, g in gradients.items()}
