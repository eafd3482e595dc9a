"""Global random pruning: survivors removed uniformly at random over all layers jointly."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Remove ``round(fraction * kept)`` survivors chosen at random from all layers.

    Example:
      >>> w = {"a": np.zeros(10), "b": np.zeros(20)}
      >>> prune(w, Mask.ones_like(w), 0.5, np.random.default_rng(0)).num_kept
      15
    """
    keys = common.check_args(weights, mask, fraction, rng)
    remove = common.num_to_remove(mask.num_kept, fraction)
    return common.prune_lowest(mask, keys, common.random_scores(mask, keys, rng), remove)
