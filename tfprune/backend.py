"""The one place that chooses Keras 2 (tf_keras) for TensorFlow and tfmot.

tfmot's pruning wrappers accept only tf_keras models, so every module of
tfprune imports `tf`, `keras` and `tfmot` from here and never Keras 3.
"""
import os

# Must be set before TensorFlow resolves `tf.keras`; tfmot sets it too.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
import tensorflow_model_optimization as tfmot  # noqa: E402

__all__ = ["tf", "keras", "tfmot"]
