"""An immutable, validated pruning mask: weight name -> boolean keep-array."""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import numpy as np
from numpy.typing import ArrayLike

from tfprune.core import files


class Mask(Mapping):
    """Immutable mapping ``name -> np.ndarray`` of keep flags (True = kept).

    Values are stored as read-only ``bool`` arrays whatever 0/1 dtype they were
    given in; use ``mask[name].astype(np.float32)`` where a float mask is needed.
    Names are stable weight names such as ``"s2_b1_conv1/kernel"``.

    Args:
      arrays: mapping from non-empty string names to non-empty array-likes
        whose entries are all 0 or 1 (or bool).

    Raises:
      ValueError: for an empty mapping, a bad name, a non-numeric, empty or
        non-binary array; the message names the offending key.

    Example:
      >>> m = Mask({"d/kernel": [[1, 0], [1, 1]]})
      >>> m.num_kept, m.density
      (3, 0.75)
    """

    def __init__(self, arrays: Mapping[str, ArrayLike]):
        if not isinstance(arrays, Mapping) or not arrays:
            raise ValueError("Mask needs a non-empty mapping name -> array")
        self._arrays: dict[str, np.ndarray] = {}
        for key, value in arrays.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"Mask key {key!r} is not a non-empty string")
            a = np.asarray(value)
            if a.dtype != bool:
                if a.dtype.kind not in "biuf":
                    raise ValueError(f"Mask entry {key!r} has non-numeric dtype {a.dtype}")
                if not np.all((a == 0) | (a == 1)):
                    raise ValueError(f"Mask entry {key!r} is not binary (values other than 0/1)")
            if a.size == 0:
                raise ValueError(f"Mask entry {key!r} is empty (shape {a.shape})")
            a = a.astype(bool, copy=True)
            a.setflags(write=False)
            self._arrays[key] = a

    @classmethod
    def ones_like(cls, weights: Mapping[str, ArrayLike]) -> Mask:
        """All-kept mask with the names and shapes of ``weights``.

        Example:
          >>> Mask.ones_like({"w": np.zeros((2, 3))}).density
          1.0
        """
        return cls({k: np.ones(np.shape(w), dtype=bool) for k, w in weights.items()})

    # Mapping protocol.
    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mask):
            return NotImplemented
        return self.keys() == other.keys() and all(
            np.array_equal(a, other[k]) and a.shape == other[k].shape for k, a in self.items()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Mask({len(self)} arrays, {self.num_kept}/{self.num_weights} kept, "
                f"density={self.density:.4f})")

    # Statistics.
    @property
    def num_weights(self) -> int:
        """Total number of entries over all arrays."""
        return int(sum(a.size for a in self._arrays.values()))

    @property
    def num_kept(self) -> int:
        """Number of kept (True) entries over all arrays."""
        return int(sum(np.count_nonzero(a) for a in self._arrays.values()))

    @property
    def density(self) -> float:
        """Global fraction kept, ``num_kept / num_weights``.

        Example:
          >>> Mask({"a": [1, 1], "b": [0, 0, 0, 1]}).density
          0.5
        """
        return self.num_kept / self.num_weights

    def layer_densities(self) -> dict[str, float]:
        """Fraction kept in each array.

        Example:
          >>> Mask({"a": [1, 1], "b": [0, 0, 0, 1]}).layer_densities()
          {'a': 1.0, 'b': 0.25}
        """
        return {k: float(np.count_nonzero(a) / a.size) for k, a in self._arrays.items()}

    # Relations and application.
    def is_subset_of(self, other: Mapping[str, np.ndarray]) -> bool:
        """True when every entry kept here is kept in ``other`` (nested masks).

        Different keys or shapes give False.

        Example:
          >>> Mask({"a": [1, 0]}).is_subset_of(Mask({"a": [1, 1]}))
          True
        """
        if set(self) != set(other):
            return False
        for k, a in self._arrays.items():
            b = np.asarray(other[k])
            if a.shape != b.shape or np.any(a & ~b.astype(bool)):
                return False
        return True

    def check_compatible(self, weights: Mapping[str, ArrayLike]) -> None:
        """Raise ValueError naming missing/extra keys or mismatched shapes.

        Example:
          >>> Mask({"a": [1, 0]}).check_compatible({"a": np.zeros(2)})  # no error
        """
        missing = sorted(set(self) - set(weights))
        extra = sorted(set(weights) - set(self))
        problems = []
        if missing:
            problems.append(f"missing from weights: {missing}")
        if extra:
            problems.append(f"not in mask: {extra}")
        bad = [f"{k!r} mask {a.shape} vs weights {np.shape(weights[k])}"
               for k, a in self._arrays.items()
               if k in weights and np.shape(weights[k]) != a.shape]
        if bad:
            problems.append("shape mismatch: " + ", ".join(bad))
        if problems:
            raise ValueError("mask and weights are incompatible; " + "; ".join(problems))

    def apply(self, weights: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Return ``{name: weights[name] * mask[name]}`` in the weights' dtype.

        Example:
          >>> Mask({"a": [1, 0]}).apply({"a": np.array([3.0, 4.0])})["a"]
          array([3., 0.])
        """
        self.check_compatible(weights)
        return {k: np.asarray(weights[k]) * a for k, a in self._arrays.items()}

    # Persistence.
    def save(self, path: str | os.PathLike) -> None:
        """Write the mask to an ``.npz`` file atomically.

        The archive is written to a temporary file in the same folder and moved
        over ``path`` with ``os.replace``, so readers never see a partial file.
        Arrays are stored as bool, deflate-compressed, one member per name.

        Example:
          >>> Mask({"conv/kernel": [1, 0]}).save("mask.npz")
        """
        files.save_arrays(path, self._arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Mask:
        """Read a mask written by :meth:`save`.

        Raises:
          FileNotFoundError: the file does not exist (message names it).
          ValueError: the file is not an ``.npz`` of binary arrays (message names it).

        Example:
          >>> Mask({"conv/kernel": [1, 0]}).save("mask.npz")
          >>> Mask.load("mask.npz")["conv/kernel"]
          array([ True, False])
        """
        arrays = files.load_arrays(path)
        try:
            return cls(arrays)
        except ValueError as e:
            raise ValueError(f"cannot read mask file {os.fspath(path)}: {e}") from None
