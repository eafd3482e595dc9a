"""Linear mode connectivity, as pure numpy: the straight path between two networks' weights
and the error barrier along it (Frankle et al., 2020).

Two networks are linearly connected when the error never rises along the path between them:
their barrier, the highest error on the path above the mean of the two ends' errors, is
about zero.
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


def barrier(errors: Sequence[float]) -> float:
    """The error barrier of a path measured at evenly spaced points: the highest error above
    the mean of the two ends' (0 when the path never rises above it).

    Example:
      >>> barrier([0.1, 0.3, 0.6, 0.2, 0.1]), barrier([0.2, 0.1, 0.2])
      (0.5, 0.0)
    """
    errors = np.asarray(errors, np.float64)
    return float(max(0.0, errors.max() - (errors[0] + errors[-1]) / 2))
