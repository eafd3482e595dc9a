"""Structured masks: which weights are kept or pruned together, as pure numpy.

Every prunable kernel is seen as a matrix (inputs, outputs): all axes but the last are its
inputs, in order (a conv kernel (kh, kw, in, out) has kh*kw*in inputs, its input channels
consecutive), the last axis its outputs. This is the transpose of LiteRT's FULLY_CONNECTED
layout (outputs, inputs).

    unstructured  every weight on its own (the default)
    block:RxC     blocks of R outputs x C consecutive inputs, kept or pruned whole; block:1x4
                  is the layout of LiteRT's sparse FULLY_CONNECTED kernel (4 consecutive input
                  weights of one output unit)
    nm:N:M        at most N of every M consecutive inputs of each output kept (2:4 is what GPU
                  sparse tensor cores run): a round first prunes as its strategy says, then
                  drops the smallest survivors of any group of M holding more than N
    channel       whole channels (filters, units) with every weight coupled to them: the next
                  layer's input weights, depthwise filters, the channels a residual add ties
                  them to (tfprune.pruning.channels; the model's graph gives the coupling)

A block structure scores each block by the sum of its |w| and hands the block scores to the
round's strategy (global or per-layer magnitude, or random), so every rule of the pruning
registry works on blocks. A kernel the structure cannot divide (`unfit` names it and why)
is left dense, or pruned unstructured by the same strategy if the user chose so.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping

import numpy as np

from tfprune.core.mask import Mask
from tfprune.pruning import channels as channel_maths

KINDS = ("unstructured", "block:RxC", "nm:N:M", "channel")
UNFIT_RULES = ("dense", "unstructured")  # what becomes of a kernel the structure cannot divide


@dataclasses.dataclass(frozen=True)
class Structure:
    """A parsed --structure: `kind` ("unstructured", "block" or "nm") and its two numbers
    (block: rows R (outputs) and cols C (inputs); nm: n and m)."""
    kind: str
    a: int = 1
    b: int = 1

    def __str__(self):
        return {"unstructured": "unstructured", "block": f"block:{self.a}x{self.b}",
                "nm": f"nm:{self.a}:{self.b}", "channel": "channel"}[self.kind]


def parse(spec: str) -> Structure:
    """The `Structure` of a --structure value; a one-line ValueError otherwise.

    >>> str(parse("block:1x4")), str(parse("nm:2:4")), str(parse("unstructured"))
    ('block:1x4', 'nm:2:4', 'unstructured')
    """
    if spec in ("unstructured", "channel"):
        return Structure(spec)
    block = re.fullmatch(r"block:(\d+)x(\d+)", spec or "")
    if block and int(block[1]) >= 1 and int(block[2]) >= 1:
        return Structure("block", int(block[1]), int(block[2]))
    nm = re.fullmatch(r"nm:(\d+):(\d+)", spec or "")
    if nm and 1 <= int(nm[1]) < int(nm[2]):
        return Structure("nm", int(nm[1]), int(nm[2]))
    raise ValueError(f"--structure={spec}: expected one of {', '.join(KINDS)}, with R, C >= 1 "
                     "and 1 <= N < M (e.g. block:1x4, nm:2:4, channel)")


def matrix_shape(shape) -> tuple[int, int]:
    """(inputs, outputs) of a kernel of `shape`."""
    shape = tuple(shape)
    return int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1, int(shape[-1])


def unfit(structure: Structure, shapes: Mapping[str, tuple],
          channels: channel_maths.ChannelMap | None = None) -> dict[str, str]:
    """{kernel name: why `structure` cannot divide it} of the kernels it cannot apply to
    (`channels`: the model's channel map, for the channel structure)."""
    if structure.kind == "channel":
        return channel_maths.unfit(channels, shapes)
    out = {}
    for key, shape in shapes.items():
        inputs, outputs = matrix_shape(shape)
        if structure.kind == "block" and (inputs % structure.b or outputs % structure.a):
            out[key] = (f"{inputs} inputs x {outputs} outputs do not divide into "
                        f"{structure.a}x{structure.b} blocks")
        elif structure.kind == "nm" and inputs % structure.b:
            out[key] = f"{inputs} inputs are not a multiple of {structure.b}"
    return out


def _blocks(array, structure):
    """`array` as (input blocks, C, output blocks, R)."""
    inputs, outputs = matrix_shape(np.shape(array))
    return np.reshape(array, (inputs // structure.b, structure.b,
                              outputs // structure.a, structure.a))


def block_scores(weights: np.ndarray, structure: Structure) -> np.ndarray:
    """The sum of |w| over each block: (input blocks, output blocks)."""
    return np.abs(_blocks(weights, structure)).sum(axis=(1, 3))


def expand(blocks: np.ndarray, structure: Structure, shape) -> np.ndarray:
    """A kernel-shaped mask from a (input blocks, output blocks) block mask."""
    full = np.repeat(np.repeat(blocks, structure.b, axis=0), structure.a, axis=1)
    return full.reshape(shape)


def is_structured(mask: np.ndarray, structure: Structure) -> bool:
    """Whether a kernel's 0/1 `mask` follows `structure` exactly (blocks all 0 or all 1; at
    most N of each M consecutive inputs; channel masks: channels.is_structured)."""
    if structure.kind == "block":
        kept = _blocks(mask, structure).sum(axis=(1, 3))
        return bool(np.all((kept == 0) | (kept == structure.a * structure.b)))
    if structure.kind == "nm":
        return bool(np.all(_nm_groups(mask, structure).sum(axis=1) <= structure.a))
    return True


def _nm_groups(array, structure):
    """`array` as (groups of M consecutive inputs, M, outputs)."""
    inputs, outputs = matrix_shape(np.shape(array))
    return np.reshape(array, (inputs // structure.b, structure.b, outputs))


def _at_most_n(weights, keep, structure, rng):
    """`keep` with the smallest survivors (by |w|, or at random with `rng`) of each group of M
    consecutive inputs holding more than N dropped."""
    kept = _nm_groups(keep, structure).astype(bool)
    scores = (np.abs(_nm_groups(weights, structure)) if rng is None
              else rng.random(kept.shape))
    scores = np.where(kept, scores, -np.inf)
    rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1, kind="stable")
    return (kept & (rank < structure.a)).reshape(np.shape(keep))


def prune(strategy: Callable, structure: Structure, weights: Mapping[str, np.ndarray],
          mask: Mask, fraction: float, rng: np.random.Generator,
          randomly: bool = False, channels: channel_maths.ChannelMap | None = None,
          unfit_rule: str = "dense") -> Mask:
    """The next mask under `structure`: `strategy` (a pruning registry function) removes
    `fraction` of the surviving blocks (block), of the removable weights by whole channels
    (channel, with the model's `channels`), or of the surviving weights and then N:M is
    enforced (nm, by |w| or, if `randomly`, at random). Kernels of `unfit` keep their mask
    (`unfit_rule` "dense") or lose `fraction` of their weights by `strategy` ("unstructured").

    >>> w = {"fc": np.arange(1.0, 33.0).reshape(8, 4)}
    >>> from tfprune.pruning import global_magnitude
    >>> m = prune(global_magnitude.prune, parse("block:1x4"), w, Mask.ones_like(w), 0.5,
    ...           np.random.default_rng(0))
    >>> m["fc"][:, 0].astype(int).tolist()  # the 4 inputs of the smaller half of each column
    [0, 0, 0, 0, 1, 1, 1, 1]
    """
    if structure.kind == "unstructured":
        return strategy(weights, mask, fraction, rng)
    skip = unfit(structure, {k: np.shape(v) for k, v in weights.items()}, channels)
    fit = [k for k in weights if k not in skip]
    out = {k: np.asarray(mask[k]) for k in weights}
    if structure.kind == "channel":
        out |= dict(channel_maths.prune(strategy, channels, weights, mask, fraction, rng))
    elif structure.kind == "block" and fit:
        scores = {k: block_scores(weights[k], structure) for k in fit}
        kept = Mask({k: _blocks(mask[k], structure).max(axis=(1, 3)) for k in fit})
        chosen = strategy(scores, kept, fraction, rng)
        out |= {k: expand(chosen[k], structure, np.shape(weights[k])) for k in fit}
    elif fit:
        pruned = strategy({k: weights[k] for k in fit}, Mask({k: mask[k] for k in fit}),
                          fraction, rng)
        out |= {k: _at_most_n(weights[k], pruned[k], structure, rng if randomly else None)
                for k in fit}
    if unfit_rule == "unstructured" and skip:
        out |= dict(strategy({k: weights[k] for k in skip}, Mask({k: mask[k] for k in skip}),
                             fraction, rng))
    return Mask({k: out[k] for k in weights})
