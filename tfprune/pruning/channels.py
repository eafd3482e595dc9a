"""The channel structure: whole channels pruned with every weight coupled to them, as numpy.

A `ChannelMap` (built from a model by tfprune.masking.channel_graph) gives each prunable
kernel, seen as (spatial..., inputs, outputs), the channel class of each input row and of each
output column; -1 marks a channel that cannot be removed (a model input or output, or one
that passes through a layer whose channels are not independent). A class is what must go
together: one layer's output channel, the input weights of every kernel reading it, its
depthwise filter, and through residual adds the channels it is added to.

Pruning a class zeroes every weight whose row or column belongs to it, so the masked model
computes exactly what the smaller model without those channels computes: a pruned channel's
BatchNorm, bias and pass-through layers feed no kept weight. A class is scored by the mean
|w| of its surviving weights (sum of |w| over the group / its size: channels of different
layers hold different numbers of weights), and the round's strategy (a pruning registry
function) ranks the classes of each layer's output; as many classes are pruned as bring the
removable weights closest to (1 - fraction) of what survived, and no layer loses its last
channel.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from tfprune.core.mask import Mask

FIXED = -1  # the class of a channel that cannot be removed


@dataclasses.dataclass(frozen=True)
class Coupling:
    """A kernel's channels: the class of each input row (`rows`, its axis -2, or the flat input
    of a Dense after Flatten) and of each output column (`cols`, its last axis)."""
    rows: np.ndarray
    cols: np.ndarray


@dataclasses.dataclass(frozen=True)
class ChannelMap:
    """Classes 0..num_classes-1 of a model's removable channels.

    kernels: {kernel path: Coupling} of the prunable kernels it can reach.
    spaces: {layer name: the classes of the output channels it produces}; every class is in
        exactly one space (a residual add's classes belong to the first layer producing them).
    layers: {layer name: (classes of its input channels, classes of its output channels)}, to
        rebuild the smaller model.
    fixed: {what: why its channels stay whole}, for the log.
    """
    kernels: dict
    spaces: dict
    layers: dict
    fixed: dict
    num_classes: int


def _matrix(array, coupling):
    """`array` as (spatial, inputs, outputs)."""
    return np.reshape(array, (-1, len(coupling.rows), len(coupling.cols)))


def unfit(channels: ChannelMap, shapes: Mapping[str, tuple]) -> dict[str, str]:
    """{kernel path: why} of the kernels no channel class reaches."""
    out = {}
    for key in shapes:
        coupling = channels.kernels.get(key)
        if coupling is None:
            out[key] = "not in the model's top-level graph of known layers"
        elif np.all(coupling.rows == FIXED) and np.all(coupling.cols == FIXED):
            out[key] = "none of its input or output channels can be removed"
    return out


def _bincount(classes, values, n):
    ok = classes != FIXED
    return np.bincount(classes[ok], weights=values[ok], minlength=n)


def scores(channels: ChannelMap, weights: Mapping[str, np.ndarray],
           mask: Mapping[str, np.ndarray]) -> np.ndarray:
    """The mean |w| of each class's surviving weights (0 for a class with none left)."""
    n = channels.num_classes
    total, count = np.zeros(n), np.zeros(n)
    for key, c in channels.kernels.items():
        kept = _matrix(np.asarray(mask[key], bool), c)
        magnitude = np.abs(_matrix(weights[key], c)) * kept
        total += _bincount(c.rows, magnitude.sum(axis=(0, 2)), n)
        total += _bincount(c.cols, magnitude.sum(axis=(0, 1)), n)
        count += _bincount(c.rows, kept.sum(axis=(0, 2)), n)
        count += _bincount(c.cols, kept.sum(axis=(0, 1)), n)
    return np.divide(total, count, out=np.zeros(n), where=count > 0)


def kept_classes(channels: ChannelMap, mask: Mapping[str, np.ndarray]) -> np.ndarray:
    """Whether each class keeps any weight under `mask` (bool, num_classes)."""
    count = np.zeros(channels.num_classes)
    for key, c in channels.kernels.items():
        kept = _matrix(np.asarray(mask[key], bool), c)
        count += _bincount(c.rows, kept.sum(axis=(0, 2)), channels.num_classes)
        count += _bincount(c.cols, kept.sum(axis=(0, 1)), channels.num_classes)
    return count > 0


def keep_of(classes, keep):
    """Whether each channel of `classes` stays when the classes `keep` (bool) do."""
    return np.where(classes == FIXED, True, keep[np.maximum(classes, 0)])


def removable_kept(channels: ChannelMap, shapes: Mapping[str, tuple], keep: np.ndarray) -> int:
    """How many weights that some class reaches survive when the classes `keep` (bool) stay."""
    total = 0
    for key, c in channels.kernels.items():
        spatial = int(np.prod(shapes[key])) // (len(c.rows) * len(c.cols))
        fixed = np.sum(c.rows == FIXED) * np.sum(c.cols == FIXED)
        total += spatial * (int(keep_of(c.rows, keep).sum()) * int(keep_of(c.cols, keep).sum())
                            - int(fixed))
    return total


def expand(channels: ChannelMap, keep: np.ndarray, shapes: Mapping[str, tuple]) -> dict:
    """{kernel path: bool mask} that keeps exactly the weights of the classes `keep` (bool)."""
    out = {}
    for key, c in channels.kernels.items():
        grid = np.outer(keep_of(c.rows, keep), keep_of(c.cols, keep))
        out[key] = np.broadcast_to(grid, _matrix(np.empty(shapes[key], np.bool_), c).shape
                                   ).reshape(shapes[key]).copy()
    return out


def is_structured(channels: ChannelMap, mask: Mapping[str, np.ndarray]) -> bool:
    """Whether every kernel the map reaches is masked by whole classes: its mask equals the one
    its surviving classes give."""
    full = expand(channels, kept_classes(channels, mask), {k: np.shape(mask[k])
                                                           for k in channels.kernels})
    return all(np.array_equal(np.asarray(mask[k]) != 0, full[k] != 0) for k in full)


def _choose(strategy, channels, score, kept, n, rng):
    """The classes kept after `strategy` removes `n` of the `kept` ones (bool), no space left
    empty (its best-scored class stays)."""
    spaces = {name: ids for name, ids in channels.spaces.items() if len(ids)}
    fraction = n / int(kept.sum())
    chosen = strategy({k: score[ids] for k, ids in spaces.items()},
                      Mask({k: kept[ids] for k, ids in spaces.items()}), fraction,
                      copy.deepcopy(rng))
    keep = kept.copy()
    for name, ids in spaces.items():
        keep[ids] = chosen[name].astype(bool)
        if kept[ids].any() and not keep[ids].any():
            alive = ids[kept[ids]]
            keep[alive[np.argmax(score[alive])]] = True
    return keep


def prune(strategy: Callable, channels: ChannelMap, weights: Mapping[str, np.ndarray],
          mask: Mask, fraction: float, rng: np.random.Generator) -> Mask:
    """The next channel mask: `strategy` ranks the surviving classes by score, and as many are
    removed as leave closest to (1 - fraction) of the surviving removable weights (a search
    over how many). Kernels the map does not reach keep their mask."""
    shapes = {k: np.shape(weights[k]) for k in weights}
    kept = kept_classes(channels, mask)
    alive = int(kept.sum())
    out = {k: np.asarray(mask[k]) for k in weights}
    if alive < 2:
        return Mask(out)
    score = scores(channels, weights, mask)
    target = removable_kept(channels, shapes, kept) * (1.0 - fraction)
    lo, hi = 1, alive - 1  # the fewest removals that meet the target ...
    while lo < hi:
        mid = (lo + hi) // 2
        if removable_kept(channels, shapes, _choose(strategy, channels, score, kept, mid,
                                                    rng)) <= target:
            hi = mid
        else:
            lo = mid + 1
    # ... or one fewer if that comes closer: the density follows (1 - fraction)^r, not below
    candidates = [_choose(strategy, channels, score, kept, n, rng) for n in {max(lo - 1, 1), lo}]
    best = min(candidates, key=lambda keep: abs(removable_kept(channels, shapes, keep) - target))
    full = expand(channels, best, shapes)
    out |= {k: full[k] & out[k].astype(bool) for k in full}
    return Mask(out)
