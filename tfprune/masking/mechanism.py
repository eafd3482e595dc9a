"""The mask mechanism: how the masks of a model of one Keras are held, kept and removed.

Two implement it, one per Keras, each a module with these functions:
    `tfmot_wrappers`      tf_keras ("2"): tfmot's prune-low-magnitude wrappers (a copy of the
                          model with its layers wrapped);
    `keras3_constraints`  Keras 3 ("3"): a mask variable and a constraint per weight, in place.
`masked_model` picks one by the model's Keras and sees only this interface.
"""
import importlib
from typing import Protocol

from tfprune.masking import kerases

_MODULES = {kerases.KERAS2: "tfprune.masking.tfmot_wrappers",
            kerases.KERAS3: "tfprune.masking.keras3_constraints"}


class Mechanism(Protocol):
    """What each mechanism module provides."""

    def wrap(self, model, weights):
        """`model` with a mask (all ones) on each prunable weight of `weights` (from
        `prunable.walk`): the model itself or a copy sharing its weights."""

    def mask_variables(self, model):
        """{id(weight variable): mask variable} of every masked weight of `model`."""

    def changed(self, model):
        """Called after the masks changed (e.g. to retrace a step that holds them)."""

    def apply_masks(self, model, pairs):
        """weight <- weight * mask for each (weight, mask) variable pair of `pairs`."""

    def strip(self, model):
        """`model` without masks (itself or a copy), the pruned weights zero."""

    def load_model(self, path, **kwargs):
        """A model saved with its masks, loaded with them."""


def for_keras(flavour):
    """The mechanism (module) of Keras `flavour` ("2" or "3"); imported on first use."""
    if flavour not in _MODULES:
        raise ValueError(f"unknown Keras {flavour!r}; valid: {', '.join(kerases.FLAVOURS)}")
    return importlib.import_module(_MODULES[flavour])


def for_model(model):
    """The mechanism of `model`'s Keras."""
    return for_keras(kerases.of(model))
