"""Balanced random pruning: every layer keeps the same number of weights (Gadhikar et al., 2023)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common


def balanced_keep_counts(mask: Mask, keys: list[str], total: int) -> np.ndarray:
    """Per-layer kept counts (``keys`` order) summing to ``total``, equal where possible.

    Layers holding fewer survivors than the equal share keep all of them and
    the excess is shared among the others; shares differ by at most one.

    Example:
      >>> m = Mask({"a": np.ones(10), "b": np.ones(100), "c": np.ones(100)})
      >>> balanced_keep_counts(m, ["a", "b", "c"], 90).tolist()
      [10, 40, 40]
    """
    kept = common.kept_counts(mask, keys)
    capped = np.zeros(len(keys), dtype=bool)
    while True:
        share = (total - kept[capped].sum()) / np.count_nonzero(~capped)
        over = ~capped & (kept < share)
        if not over.any():
            break
        capped |= over
    return common.apportion(np.where(capped, kept, share), kept, total)


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Keep ``kept - round(fraction * kept)`` weights, balanced over layers, random within.

    Example:
      >>> w = {"a": np.zeros(100), "b": np.zeros(300)}
      >>> m = prune(w, Mask.ones_like(w), 0.5, np.random.default_rng(0))
      >>> [int(v.sum()) for v in m.values()]
      [100, 100]
    """
    return common.prune_to_counts(weights, mask, fraction, rng, balanced_keep_counts)
