"""tfprune: iterative pruning (IMP, LRR, fine-tuning) for Keras models.

The public API, for pruning your own tf_keras model:

    model = tfprune.wrap(model)            # fixed masks in tfmot wrappers
    tfprune.prune(model, fraction=0.2)     # global magnitude, 20% of the survivors
    model.fit(..., callbacks=[tfprune.RestartSchedule(), tfprune.KeepMasks()])
    sparse = tfprune.strip(model)          # plain Keras layers for export
"""
from tfprune import backend  # noqa: F401  (selects tf_keras before anything else)
from tfprune.backend import keras  # noqa: F401
from tfprune.callbacks import (KeepMasks, RestartSchedule, RewindWeights,  # noqa: F401
                               SaveRewindPoint)
from tfprune.config import Config  # noqa: F401
from tfprune.experiment import run  # noqa: F401
from tfprune.mask import Mask  # noqa: F401
from tfprune.masking import get_masks, prune, set_masks, strip, wrap  # noqa: F401
from tfprune.schedules import RoundSchedule  # noqa: F401
