"""Linear mode connectivity, as pure numpy: the straight path between two networks' weights
and the error barrier along it (Frankle et al., 2020).

Two networks are linearly connected when the error never rises along the path between them
above the straight line joining the two ends' errors: their barrier, the highest such rise, is
about zero. For two ends of equal error this is Frankle et al.'s (the highest error above the
mean of the ends'); against the line, two ends of unequal error (a round and the early rewind
point) show a barrier only where the path rises, not half their difference.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def alphas(n: int) -> np.ndarray:
    """`n` evenly spaced points of the path, both ends included.

    Example:
      >>> alphas(5).tolist()
      [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if n < 2:
        raise ValueError(f"need at least the two ends of the path, got {n} points")
    return np.linspace(0.0, 1.0, n)


def interpolate(first: Sequence[np.ndarray], second: Sequence[np.ndarray],
                alpha: float) -> list[np.ndarray]:
    """(1 - alpha) * first + alpha * second, array by array (in the first's dtype).

    Example:
      >>> interpolate([np.array([0., 2.])], [np.array([4., 2.])], 0.25)[0].tolist()
      [1.0, 2.0]
    """
    if len(first) != len(second):
        raise ValueError(f"{len(first)} arrays against {len(second)}: not the same network")
    out = []
    for a, b in zip(first, second):
        if np.shape(a) != np.shape(b):
            raise ValueError(f"shapes {np.shape(a)} and {np.shape(b)} differ: not the same "
                             "network")
        a = np.asarray(a)
        out.append(((1 - alpha) * a + alpha * np.asarray(b)).astype(a.dtype))
    return out


def barrier(errors: Sequence[float], points: Sequence[float] | None = None) -> float:
    """The error barrier of a path: the highest error above the straight line between the two
    ends' errors, at `points` (alphas; default: evenly spaced), 0 if it never rises above.

    Example:
      >>> barrier([0.1, 0.3, 0.6, 0.2, 0.1]), barrier([0.2, 0.1, 0.2])
      (0.5, 0.0)
      >>> round(barrier([0.4, 0.3, 0.1]), 6)  # 0.3 above the line's 0.25 at alpha 0.5
      0.05
    """
    errors = np.asarray(errors, np.float64)
    points = np.linspace(0.0, 1.0, len(errors)) if points is None else np.asarray(points)
    line = (1 - points) * errors[0] + points * errors[-1]
    return float(max(0.0, (errors - line).max()))
