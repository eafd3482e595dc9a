"""Signs, masks and distances: pure functions over {name: array} weight or mask dicts.

Each returns {"global": value, "layers": {name: value}}; "global" pools every
entry of every layer (it is not the mean of the layer values).
"""
import numpy as np


def _survivors(before, mask):
    """{name: bool array} of the entries to compare (all entries without a mask)."""
    if mask is None:
        return {k: np.ones(np.shape(v), bool) for k, v in before.items()}
    return {k: np.asarray(mask[k], bool) for k in before}


def _check(first, second):
    if set(first) != set(second):
        raise ValueError(f"different names: only in first {sorted(set(first) - set(second))}, "
                         f"only in second {sorted(set(second) - set(first))}")
    for k in first:
        if np.shape(first[k]) != np.shape(second[k]):
            raise ValueError(f"{k!r}: shapes {np.shape(first[k])} and {np.shape(second[k])} differ")


def _ratio(numerators, denominators):
    """Per-layer and pooled ratios; 0/0 is 0 (nothing to compare)."""
    layers = {k: float(numerators[k] / denominators[k]) if denominators[k] else 0.0
              for k in numerators}
    total = sum(denominators.values())
    return {"global": float(sum(numerators.values()) / total) if total else 0.0, "layers": layers}


def sign_flips(before, after, mask=None):
    """Fraction of (surviving) weights whose sign differs between `before` and `after`.

    Args:
        before, after: {name: array} of the same names and shapes.
        mask: optional {name: 0/1 array}; only kept entries count (pruned ones
            are zero and have no sign).

    Example:
        >>> sign_flips({"w": np.array([1., -2., 3., 4.])}, {"w": np.array([-1., -1., 2., 5.])})
        {'global': 0.25, 'layers': {'w': 0.25}}
    """
    _check(before, after)
    keep = _survivors(before, mask)
    flips = {k: np.count_nonzero(keep[k] & (np.sign(before[k]) != np.sign(after[k])))
             for k in before}
    return _ratio(flips, {k: np.count_nonzero(v) for k, v in keep.items()})


def mask_overlap(first, second):
    """Jaccard overlap |A and B| / |A or B| of the kept entries of two masks.

    Example:
        >>> mask_overlap({"m": np.array([1, 1, 0, 0])}, {"m": np.array([1, 0, 1, 0])})
        {'global': 0.3333333333333333, 'layers': {'m': 0.3333333333333333}}
    """
    _check(first, second)
    a = {k: np.asarray(v, bool) for k, v in first.items()}
    b = {k: np.asarray(second[k], bool) for k in first}
    return _ratio({k: np.count_nonzero(a[k] & b[k]) for k in a},
                  {k: np.count_nonzero(a[k] | b[k]) for k in a})


def mask_hamming(first, second):
    """Fraction of entries where two masks differ (normalized Hamming distance).

    Example:
        >>> mask_hamming({"m": np.array([1, 1, 0, 0])}, {"m": np.array([1, 0, 1, 0])})
        {'global': 0.5, 'layers': {'m': 0.5}}
    """
    _check(first, second)
    differ = {k: np.count_nonzero(np.asarray(v, bool) != np.asarray(second[k], bool))
              for k, v in first.items()}
    return _ratio(differ, {k: np.size(v) for k, v in first.items()})


def distances(before, after, mask=None):
    """L2 distance and cosine similarity between two weight sets (surviving entries only).

    Returns:
        {"l2": {"global", "layers"}, "cosine": {"global", "layers"}}.

    Example:
        >>> d = distances({"w": np.array([3., 0.])}, {"w": np.array([0., 4.])})
        >>> d["l2"]["global"], d["cosine"]["global"]
        (5.0, 0.0)
    """
    _check(before, after)
    keep = _survivors(before, mask)
    a = {k: np.where(keep[k], before[k], 0.0).astype(np.float64).ravel() for k in before}
    b = {k: np.where(keep[k], after[k], 0.0).astype(np.float64).ravel() for k in before}

    def cosine(x, y):
        norms = np.linalg.norm(x) * np.linalg.norm(y)
        return float(x @ y / norms) if norms else 0.0

    pooled_a, pooled_b = np.concatenate(list(a.values())), np.concatenate(list(b.values()))
    return {
        "l2": {"global": float(np.linalg.norm(pooled_a - pooled_b)),
               "layers": {k: float(np.linalg.norm(a[k] - b[k])) for k in a}},
        "cosine": {"global": cosine(pooled_a, pooled_b),
                   "layers": {k: cosine(a[k], b[k]) for k in a}},
    }


def round_analysis(kernels, mask, rewind_kernels, previous=None):
    """Sign flips, weight distances and mask changes of a round, as flat metrics.

    Sign flips count the weights that have a sign at both ends: kept by `mask` and non-zero
    at the rewind point (against it), kept by both masks (against the previous round). Masks
    that only shrink make these the kept weights; a mask that moves connections (SET, RigL)
    adds weights grown from zero, which have no earlier sign.

    Args:
        kernels, mask: the round's trained kernels and its mask.
        rewind_kernels: the kernels of the rewind point.
        previous: (kernels, mask) at the end of the previous round, or None.

    Returns:
        {name: global value} plus {"layer_" + name: {layer: value}} for each analysis.
    """
    distance = distances(rewind_kernels, kernels, mask)
    at_rewind = {k: np.asarray(mask[k], bool) & (np.asarray(rewind_kernels[k]) != 0)
                 for k in rewind_kernels}
    results = {
        "sign_flips_vs_rewind": sign_flips(rewind_kernels, kernels, at_rewind),
        "distance_from_rewind": distance["l2"],
        "cosine_to_rewind": distance["cosine"],
    }
    if previous is not None:
        previous_kernels, previous_mask = previous
        both = {k: np.asarray(mask[k], bool) & np.asarray(previous_mask[k], bool) for k in mask}
        results["sign_flips_vs_prev_round"] = sign_flips(previous_kernels, kernels, both)
        results["mask_overlap_prev_round"] = mask_overlap(previous_mask, mask)
        results["mask_hamming_prev_round"] = mask_hamming(previous_mask, mask)
    flat = {}
    for name, value in results.items():
        flat[name] = value["global"]
        flat["layer_" + name] = value["layers"]
    return flat
