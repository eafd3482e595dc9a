"""Shared helpers for the pruning strategies: argument checks, counts, removal."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask


def check_args(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
               rng: np.random.Generator) -> list[str]:
    """Validate a strategy's arguments and return the mask's keys, sorted.

    Raises:
      ValueError: ``fraction`` not a real number in (0, 1), or weights/mask
        keys or shapes differ.
      TypeError: ``mask`` is not a Mask or ``rng`` not a np.random.Generator.

    Example:
      >>> check_args({"w": np.ones(3)}, Mask({"w": [1, 1, 1]}), 0.2, np.random.default_rng(0))
      ['w']
    """
    if (isinstance(fraction, bool) or not isinstance(fraction, numbers.Real)
            or not 0.0 < float(fraction) < 1.0):
        raise ValueError(f"fraction must be a number strictly between 0 and 1, got {fraction!r}")
    if not isinstance(mask, Mask):
        raise TypeError(f"mask must be a tfprune.core.mask.Mask, got {type(mask).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator, got {type(rng).__name__}")
    mask.check_compatible(weights)
    return sorted(mask)


def num_to_remove(num_kept: int, fraction: float) -> int:
    """``round(fraction * num_kept)``, halves rounded up.

    Example:
      >>> num_to_remove(100, 0.2), num_to_remove(5, 0.5)
      (20, 3)
    """
    return min(int(num_kept), int(math.floor(fraction * num_kept + 0.5)))


def kept_counts(mask: Mask, keys: list[str]) -> np.ndarray:
    """Number of surviving entries of each layer, in ``keys`` order."""
    return np.array([np.count_nonzero(mask[k]) for k in keys], dtype=np.int64)


def magnitude_scores(weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``|w|`` for every layer (lowest scores are pruned first)."""
    return {k: np.abs(np.asarray(w, dtype=np.float64)) for k, w in weights.items()}


def random_scores(mask: Mask, keys: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Uniform random scores drawn from ``rng`` layer by layer in ``keys`` order."""
    return {k: rng.random(mask[k].shape) for k in keys}


def _drop_lowest(keep: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Flat copy of ``keep`` with its ``n`` lowest-scoring survivors set False."""
    keep = keep.ravel().copy()
    if n <= 0:
        return keep
    if n >= np.count_nonzero(keep):
        keep[:] = False
        return keep
    # What a stable sort's first n survivors would be, without sorting (25M weights: a
    # fraction of a second, not 7 s): every survivor below the n-th smallest survivor's
    # score, then the earliest of those equal to it.
    scores = np.where(keep, scores.ravel(), np.inf)
    nth = np.partition(scores, n - 1)[n - 1]
    below = scores < nth
    ties = np.flatnonzero((scores == nth) & keep)[:n - int(np.count_nonzero(below))]
    keep[below] = False
    keep[ties] = False
    return keep


def prune_lowest(mask: Mask, keys: list[str], scores: Mapping[str, np.ndarray],
                 remove: int | Mapping[str, int]) -> Mask:
    """Remove the lowest-scoring survivors; pruned entries stay pruned.

    Args:
      mask: current mask.
      keys: the mask's keys, sorted (fixes tie-breaking order).
      scores: one array per key, shaped like the mask.
      remove: an int removes that many over all layers jointly (ties broken by
        position in the key-ordered flat concatenation); a mapping removes
        ``remove[key]`` in each layer.

    Example:
      >>> m = Mask({"a": [1, 1, 1], "b": [1, 0, 1]})
      >>> s = {"a": np.array([3., 1., 2.]), "b": np.array([0., 9., 5.])}
      >>> prune_lowest(m, ["a", "b"], s, 2).num_kept
      3
    """
    if isinstance(remove, Mapping):
        return Mask({k: _drop_lowest(mask[k], scores[k], remove[k]).reshape(mask[k].shape)
                     for k in keys})
    flat = _drop_lowest(np.concatenate([mask[k].ravel() for k in keys]),
                        np.concatenate([np.asarray(scores[k]).ravel() for k in keys]), remove)
    parts = np.split(flat, np.cumsum([mask[k].size for k in keys])[:-1])
    return Mask({k: p.reshape(mask[k].shape) for k, p in zip(keys, parts)})


def apportion(real: np.ndarray, caps: np.ndarray, total: int) -> np.ndarray:
    """Round non-negative reals to integers ``<= caps`` summing to ``total``.

    Largest-remainder rounding; equal remainders go to the earlier index.

    Example:
      >>> apportion(np.array([1.5, 1.5, 1.0]), np.array([5, 5, 5]), 4)
      array([2, 1, 1])
    """
    caps = np.asarray(caps, dtype=np.int64)
    if total > caps.sum():
        raise ValueError(f"cannot keep {total} entries, only {caps.sum()} available")
    counts = np.minimum(np.floor(real).astype(np.int64), caps)
    while (short := int(total - counts.sum())) > 0:
        order = np.argsort(-(real - counts), kind="stable")
        order = order[counts[order] < caps[order]][:short]
        counts[order] += 1
    return counts


def prune_to_counts(weights, mask, fraction, rng, keep_counts, scores=None):
    """Removes the lowest-scored survivors (`scores`: {key: array}; random when None) so that
    each layer keeps `keep_counts(mask, keys, total)`.

    Shared by the strategies that first decide how many weights each layer keeps (ERK,
    balanced); `total` is the global number kept after this round.
    """
    keys = check_args(weights, mask, fraction, rng)
    total = mask.num_kept - num_to_remove(mask.num_kept, fraction)
    if total == mask.num_kept:
        return mask
    keep = keep_counts(mask, keys, total)
    remove = {k: int(n - c) for k, n, c in zip(keys, kept_counts(mask, keys), keep)}
    return prune_lowest(mask, keys, random_scores(mask, keys, rng) if scores is None
                        else scores, remove)
