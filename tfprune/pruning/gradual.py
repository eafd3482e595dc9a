"""Gradual magnitude pruning's schedule (Zhu & Gupta, 2017), as tfmot's PolynomialDecay
defines it: pure functions of the optimizer step.

Between `begin` and `end` the density falls from `initial` to `final` as

    density(step) = 1 - (s_f + (s_i - s_f) * (1 - p) ** power),  p = (step - begin) / (end - begin)

with s = 1 - density (tfmot's sparsities) and p clipped to [0, 1]. The mask is recomputed at
`begin` and every `every` steps after it up to `end`, as tfmot does, and also at `end`
itself, so the final density is reached even when `end - begin` is not a multiple of
`every` (tfmot would stop short of it).
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Gradual:
    """A polynomial density schedule: `initial` at step `begin`, `final` from step `end` on,
    masks recomputed every `every` steps in between.

    Example:
      >>> g = Gradual(begin=0, end=100, every=10, initial=1.0, final=0.2)
      >>> [round(g.density(s), 4) for s in (0, 50, 100, 150)]
      [1.0, 0.3, 0.2, 0.2]
      >>> [s for s in range(0, 120, 5) if g.updates_at(s)][:3], g.updates_at(100), g.updates_at(105)
      ([0, 10, 20], True, False)
    """
    begin: int
    end: int
    every: int
    initial: float
    final: float
    power: float = 3.0

    def __post_init__(self):
        if not 0 <= self.begin <= self.end:
            raise ValueError(f"need 0 <= begin <= end, got begin={self.begin}, end={self.end}")
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every}")
        if not 0 < self.final <= self.initial <= 1:
            raise ValueError(f"need 0 < final <= initial <= 1, got initial={self.initial}, "
                             f"final={self.final}")

    def density(self, step: int) -> float:
        """The target density at optimizer step `step`."""
        if self.end == self.begin:
            return self.initial if step < self.begin else self.final
        p = min(1.0, max(0.0, (step - self.begin) / (self.end - self.begin)))
        sparsity_i, sparsity_f = 1.0 - self.initial, 1.0 - self.final
        return 1.0 - (sparsity_f + (sparsity_i - sparsity_f) * (1.0 - p) ** self.power)

    def updates_at(self, step: int) -> bool:
        """Whether the mask is recomputed before step `step`."""
        return self.begin <= step <= self.end and (
            (step - self.begin) % self.every == 0 or step == self.end)

    def kept(self, step: int, num_weights: int) -> int:
        """How many of `num_weights` weights the mask keeps at `step` (rounded to nearest)."""
        return int(round(self.density(step) * num_weights))

    def prune_fraction(self, step: int, num_weights: int, num_kept: int) -> float:
        """The fraction of the `num_kept` survivors to remove at `step` (0: none), so that
        a strategy's `round(fraction * kept)` leaves exactly `kept(step)`."""
        target = min(num_kept, self.kept(step, num_weights))
        return (num_kept - target) / num_kept if num_kept else 0.0
