"""Magnitude pruning to Erdos-Renyi-Kernel layer densities (jaxpruner's and RigL's ERK
budget): each layer keeps the ERK share of the survivors, its smallest |w| go."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common
from tfprune.pruning.random_erk import erk_keep_counts


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Keep ``kept - round(fraction * kept)`` weights spread by ERK, the largest ``|w|`` of
    each layer. ``rng`` is unused.

    Example:
      >>> w = {"a": np.arange(100.0).reshape(10, 10), "b": np.arange(400.0).reshape(20, 20)}
      >>> m = prune(w, Mask.ones_like(w), 0.7, np.random.default_rng(0))
      >>> m.layer_densities(), bool(m["a"].ravel()[-50:].all())
      ({'a': 0.5, 'b': 0.25}, True)
    """
    return common.prune_to_counts(weights, mask, fraction, rng, erk_keep_counts,
                                  common.magnitude_scores(weights))
