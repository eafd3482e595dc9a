"""tfprune: iterative pruning (IMP, LRR, fine-tuning) for Keras models, either Keras.

The public API, for pruning your own model (tf_keras or Keras 3, on any backend):

    model = tfprune.wrap(model)            # a fixed mask on every prunable weight
    tfprune.prune(model, fraction=0.2)     # global magnitude, 20% of the survivors
    model.fit(..., callbacks=[tfprune.RestartSchedule(), tfprune.KeepMasks()])
    sparse = tfprune.strip(model)          # plain Keras layers for export

Importing tfprune does not change which Keras `tf.keras` is.
"""
from tfprune.callbacks import (FixSigns, KeepMasks, PerturbSigns, RestartSchedule,  # noqa: F401
                               RewindBatchNorm, RewindWeights, SaveRewindPoint, SetSigns,
                               SignFlips)
from tfprune.config import Config  # noqa: F401
from tfprune.datasets.base import Data  # noqa: F401
from tfprune.experiment import run  # noqa: F401
from tfprune.mask import Mask  # noqa: F401
from tfprune.masking import (get_kernels, get_masks, load_model, prune, set_masks,  # noqa: F401
                             strip, summary, weight_table, wrap)
from tfprune.schedules import RoundSchedule  # noqa: F401
