"""Global magnitude pruning: one |w| threshold over all layers jointly."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Remove the ``round(fraction * kept)`` survivors with smallest ``|w|`` globally.

    ``rng`` is unused. Ties go by position in the name-sorted flat concatenation.

    Example:
      >>> w = {"a": np.linspace(1, 100, 100)}
      >>> prune(w, Mask.ones_like(w), 0.2, np.random.default_rng(0)).num_kept
      80
    """
    keys = common.check_args(weights, mask, fraction, rng)
    remove = common.num_to_remove(mask.num_kept, fraction)
    return common.prune_lowest(mask, keys, common.magnitude_scores(weights), remove)
