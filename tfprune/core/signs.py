"""Sign surgery on {name: array} weights: the paper's sign experiments, as pure functions."""
import numpy as np


def with_signs(weights, signs_of, mask, rng=None):
    """Surviving magnitudes of `weights` with the signs of `signs_of`; pruned entries zero.

    Args:
        weights: {name: array} whose magnitudes are kept.
        signs_of: {name: array} whose signs are taken (a zero counts as +).
        mask: {name: 0/1 array}; only kept entries survive.
        rng: if given, the surviving magnitudes are first shuffled within each
            layer (the paper's shuffled-magnitude variant).

    Example:
        >>> w = {"k": np.array([1.0, -2.0, 3.0])}
        >>> with_signs(w, {"k": np.array([-5.0, 0.0, 1.0])}, {"k": np.array([1, 1, 0])})
        {'k': array([-1.,  2.,  0.])}
    """
    out = {}
    for name, w in weights.items():
        keep = np.asarray(mask[name], bool)
        magnitude = np.abs(w)
        if rng is not None:
            magnitude = magnitude.copy()
            magnitude[keep] = rng.permutation(magnitude[keep])
        sign = np.where(np.asarray(signs_of[name]) < 0, -1.0, 1.0)
        out[name] = np.where(keep, magnitude * sign, 0.0).astype(w.dtype)
    return out


def perturb(weights, mask, probability, rng):
    """Flips each surviving weight's sign with `probability`; returns (weights, flipped count).

    Example:
        >>> w, n = perturb({"k": np.ones(4)}, {"k": np.ones(4)}, 1.0, np.random.default_rng(0))
        >>> w["k"], n
        (array([-1., -1., -1., -1.]), 4)
    """
    out, flipped = {}, 0
    for name, w in weights.items():
        flip = np.asarray(mask[name], bool) & (rng.random(np.shape(w)) < probability)
        out[name] = np.where(flip, -w, w)
        flipped += int(np.count_nonzero(flip))
    return out, flipped
