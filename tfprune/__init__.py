"""tfprune: iterative pruning (IMP, LRR, fine-tuning) for Keras models, either Keras.

The public API, for pruning your own model (tf_keras or Keras 3, on any backend):

    model = tfprune.wrap(model)            # a fixed mask on every prunable weight
    tfprune.prune(model, fraction=0.2)     # global magnitude, 20% of the survivors
    model.fit(..., callbacks=[tfprune.RestartSchedule(), tfprune.KeepMasks()])
    sparse = tfprune.strip(model)          # plain Keras layers for export

Importing tfprune loads nothing heavy: each name imports its module (and TensorFlow) on first
use, so numpy-only tools stay light. Importing tfprune does not change which Keras `tf.keras` is.
"""
import importlib

_EXPORTS = {
    "tfprune.training.callbacks": ("FixSigns", "KeepMasks", "PerturbSigns", "RestartSchedule",
                          "RewindBatchNorm", "RewindWeights", "SaveRewindPoint", "SetSigns",
                          "SignFlips"),
    "tfprune.engine.config": ("Config",),
    "tfprune.datasets.base": ("Data",),
    "tfprune.engine.loop": ("run",),
    "tfprune.core.mask": ("Mask",),
    "tfprune.masking.masked_model": ("get_kernels", "get_masks", "load_model", "prune",
                                     "set_masks", "strip", "summary", "weight_table", "wrap"),
    "tfprune.training.schedules": ("RoundSchedule",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'tfprune' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
