"""Explicit name -> function registry of the pruning strategies."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import (
    erk_magnitude,
    global_magnitude,
    layerwise_magnitude,
    random_balanced,
    random_erk,
    random_global,
    random_uniform,
    saliency,
)

Strategy = Callable[[Mapping[str, np.ndarray], Mask, float, np.random.Generator], Mask]

DEFAULT = "global_magnitude"

_STRATEGIES: dict[str, Strategy] = {
    "global_magnitude": global_magnitude.prune,
    "layerwise_magnitude": layerwise_magnitude.prune,
    "erk_magnitude": erk_magnitude.prune,
    "random_uniform": random_uniform.prune,
    "random_global": random_global.prune,
    "random_erk": random_erk.prune,
    "random_balanced": random_balanced.prune,
    # At initialization: the engine scores the rewind point's model and hands the scores
    # (SNIP) or a scorer (SynFlow) over; see `saliency`.
    "snip": saliency.prune_snip,
    "synflow": saliency.prune_synflow,
}


# --budget: how a rule spreads the removed weights over layers (one threshold over all layers,
# the same fraction of each layer, or Erdos-Renyi-Kernel layer densities).
BUDGETS = ("global", "uniform", "erk")
_BY_BUDGET = (  # one rule each
    {"global": "global_magnitude", "uniform": "layerwise_magnitude", "erk": "erk_magnitude"},
    {"global": "random_global", "uniform": "random_uniform", "erk": "random_erk"},
)


def with_budget(name: str, budget: str) -> str:
    """The strategy of `name`'s rule (magnitude or random) under `budget`.

    Example:
      >>> with_budget("global_magnitude", "erk"), with_budget("random_erk", "uniform")
      ('erk_magnitude', 'random_uniform')
    """
    if budget not in BUDGETS:
        raise ValueError(f"--budget={budget} is not a budget; valid: {', '.join(BUDGETS)}")
    for rule in _BY_BUDGET:
        if name in rule.values():
            return rule[budget]
    raise ValueError(f"--budget is for magnitude and random pruning, not --pruning={name}; "
                     f"give --pruning={name} alone")


def names() -> list[str]:
    """Registered strategy names, default first.

    Example:
      >>> names()[0]
      'global_magnitude'
    """
    return list(_STRATEGIES)


def get(name: str) -> Strategy:
    """The strategy function registered under ``name``.

    Raises:
      ValueError: unknown name; the message lists the valid ones.

    Example:
      >>> w = {"a": np.linspace(1, 100, 100)}
      >>> get("global_magnitude")(w, Mask.ones_like(w), 0.2, np.random.default_rng(0)).density
      0.8
    """
    try:
        return _STRATEGIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown pruning strategy {name!r}; valid: {', '.join(_STRATEGIES)}") from None
