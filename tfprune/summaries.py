"""TensorBoard summaries of a run, written into the run directory (the logdir)."""
import numpy as np

from tfprune.backend import keras, tf


class EpochSummaries(keras.callbacks.Callback):
    """Writes the epoch's logs and learning rate at a step counted across rounds."""

    def __init__(self, writer, first_step):
        super().__init__()
        self.writer = writer
        self.first_step = first_step

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default(step=self.first_step + epoch):
            for key, value in (logs or {}).items():
                tf.summary.scalar(f"epoch/{key}", value)
            tf.summary.scalar("epoch/learning_rate",
                              float(np.asarray(self.model.optimizer.learning_rate)))
        self.writer.flush()


def write_round(writer, metrics):
    """Writes a round's scalar metrics (and per-layer densities) at step = round."""
    with writer.as_default(step=metrics["round"]):
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "round":
                tf.summary.scalar(f"round/{key}", value)
        for name, density in metrics.get("layer_densities", {}).items():
            tf.summary.scalar(f"layer_density/{name}", density)
    writer.flush()
