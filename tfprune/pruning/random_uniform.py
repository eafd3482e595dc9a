"""Uniform random pruning: each layer loses the same fraction of its survivors at random."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Remove ``round(fraction * kept_l)`` random survivors in every layer ``l``.

    Example:
      >>> w = {"a": np.zeros(10), "b": np.zeros(20)}
      >>> prune(w, Mask.ones_like(w), 0.5, np.random.default_rng(0)).layer_densities()
      {'a': 0.5, 'b': 0.5}
    """
    keys = common.check_args(weights, mask, fraction, rng)
    kept = common.kept_counts(mask, keys)
    remove = {k: common.num_to_remove(n, fraction) for k, n in zip(keys, kept)}
    return common.prune_lowest(mask, keys, common.random_scores(mask, keys, rng), remove)
