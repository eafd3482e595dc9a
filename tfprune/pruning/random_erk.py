"""Random pruning to Erdos-Renyi-Kernel layer densities (Evci et al., RigL, 2020)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import common


def erk_keep_counts(mask: Mask, keys: list[str], total: int) -> np.ndarray:
    """Per-layer kept counts (``keys`` order) summing to ``total``, by ERK.

    Layer ``l`` gets density ``eps * sum(shape_l) / prod(shape_l)``; layers where
    that exceeds their current density are capped at it (masks stay nested)
    and ``eps`` is rescaled over the rest until the total matches.

    Example:
      >>> m = Mask({"a": np.ones((10, 10)), "b": np.ones((20, 20))})
      >>> erk_keep_counts(m, ["a", "b"], 150).tolist()  # eps = 2.5: densities 0.5, 0.25
      [50, 100]
    """
    size = np.array([mask[k].size for k in keys], dtype=np.float64)
    kept = common.kept_counts(mask, keys)
    raw = np.array([sum(mask[k].shape or (1,)) for k in keys], dtype=np.float64) / size
    capped = np.zeros(len(keys), dtype=bool)
    while True:
        eps = (total - kept[capped].sum()) / (raw * size)[~capped].sum()
        over = ~capped & (eps * raw * size > kept)
        if not over.any():
            break
        capped |= over
    return common.apportion(np.where(capped, kept, eps * raw * size), kept, total)


def prune(weights: Mapping[str, np.ndarray], mask: Mask, fraction: float,
          rng: np.random.Generator) -> Mask:
    """Keep ``kept - round(fraction * kept)`` weights spread by ERK, random within layers.

    Example:
      >>> w = {"a": np.zeros((10, 10)), "b": np.zeros((20, 20))}
      >>> m = prune(w, Mask.ones_like(w), 0.7, np.random.default_rng(0))
      >>> m.layer_densities()
      {'a': 0.5, 'b': 0.25}
    """
    return common.prune_to_counts(weights, mask, fraction, rng, erk_keep_counts)
