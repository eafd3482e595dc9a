"""tfprune: iterative pruning (IMP, LRR, fine-tuning) for Keras models."""
from tfprune import backend  # noqa: F401  (selects tf_keras before anything else)
