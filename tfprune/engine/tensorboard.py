"""TensorBoard summaries of a run, written into the run directory (the logdir).

Tags: `epoch/*` (per epoch, step counted across rounds), `round/*` (step =
round), `layer_<metric>/<layer>`, `weights/<layer>` histograms of the surviving
weights and `mask/<layer>` images. A custom-scalars layout puts every run's
accuracy, density and sign flips per round side by side.
"""
import math
import os
import socket
import time

import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary

from tfprune.masking.kerases import tf
from tfprune.training.callbacks import Callback
from tfprune.training.optimizers import current_lr

MASK_IMAGE_SIZE = 256  # masks are block-averaged down to at most this many pixels a side
MASK_IMAGE_LAYERS = 3  # first, middle and last prunable layer


class EpochSummaries(Callback):
    """Writes the epoch's logs and learning rate at a step counted across rounds."""

    def __init__(self, writer, first_step):
        super().__init__()
        self.writer = writer
        self.first_step = first_step

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default(step=self.first_step + epoch):
            for key, value in (logs or {}).items():
                tf.summary.scalar(f"epoch/{key}", value)
            tf.summary.scalar("epoch/learning_rate", current_lr(self.model.optimizer))


def open_writer(run_dir, done, step):
    """The run's TensorBoard writer, set up so that TensorBoard shows every epoch and round
    once: what an interrupted or diverged attempt wrote at or past `step` (the epoch, counted
    across rounds, this process goes on from) is dropped, and the summaries of completed
    rounds `done` that a kill cut off are written again."""
    mark_restart(run_dir.root, step)
    missing = sorted(set(done) - logged_rounds(run_dir.root)) if done else []
    writer = tf.summary.create_file_writer(run_dir.root, flush_millis=10_000)  # live view
    write_layout(writer)
    for k in missing:
        write_round(writer, run_dir.metrics(k), run_dir.kernels(k), run_dir.mask(k))
    return writer


def mark_restart(logdir, step):
    """Tells TensorBoard that this process writes from `step` on.

    Writes a SessionLog START event (in its own small event file, sorted before the new
    writer's), so that TensorBoard drops the points at steps >= `step` that a killed or
    diverged attempt left behind; the first START of a run directory only marks its start.
    """
    os.makedirs(logdir, exist_ok=True)
    name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.0restart.v2"
    with tf.io.TFRecordWriter(os.path.join(logdir, name)) as f:
        for event in (event_pb2.Event(file_version="brain.Event:2"),
                      event_pb2.Event(step=step, session_log=event_pb2.SessionLog(
                          status=event_pb2.SessionLog.START))):
            event.wall_time = time.time()
            f.write(event.SerializeToString())


def logged_rounds(logdir):
    """The rounds whose round/test_accuracy is in `logdir`'s event files (a kill between a
    round's metrics.json and its summaries leaves it out)."""
    rounds = set()
    for path in tf.io.gfile.glob(os.path.join(logdir, "events.out.tfevents.*")):
        try:
            for event in tf.compat.v1.train.summary_iterator(path):
                if any(v.tag == "round/test_accuracy" for v in event.summary.value):
                    rounds.add(event.step)
        except tf.errors.DataLossError:  # the end of a file that a kill cut short
            pass
    return rounds


def layout():
    """The custom-scalars layout: one chart per metric, one line per run."""

    def chart(title, *tags):
        return layout_pb2.Chart(title=title,
                                multiline=layout_pb2.MultilineChartContent(tag=list(tags)))

    return layout_pb2.Layout(category=[
        layout_pb2.Category(title="pruning rounds (one line per run)", chart=[
            chart("test accuracy vs round", r"^round/test_accuracy$"),
            chart("density vs round", r"^round/density$"),
            chart("sign flips vs rewind point, per round", r"^round/sign_flips_vs_rewind$"),
            chart("sign flips vs previous round", r"^round/sign_flips_vs_prev_round$"),
        ]),
        layout_pb2.Category(title="epochs (one line per run)", chart=[
            chart("sign flips since the previous epoch", r"^epoch/sign_flips$"),
            chart("loss", r"^epoch/(val_)?loss$"),
            chart("learning rate", r"^epoch/learning_rate$"),
        ]),
    ])


def write_layout(writer):
    with writer.as_default(step=0):
        tf.summary.experimental.write_raw_pb(
            custom_scalar_summary.pb(layout()).SerializeToString(), step=0)
    writer.flush()


def mask_image(mask):
    """A [1, h, w, 1] image of a mask (rows: inputs x kernel, columns: outputs),
    block-averaged so neither side exceeds MASK_IMAGE_SIZE; white = kept."""
    matrix = np.asarray(mask, np.float32).reshape(-1, np.shape(mask)[-1])
    for axis in (0, 1):
        factor = math.ceil(matrix.shape[axis] / MASK_IMAGE_SIZE)
        if factor > 1:
            pad = [(0, 0), (0, 0)]
            pad[axis] = (0, -matrix.shape[axis] % factor)
            matrix = np.pad(matrix, pad, constant_values=np.nan)
            shape = list(matrix.shape)
            shape[axis: axis + 1] = [shape[axis] // factor, factor]
            matrix = np.nanmean(matrix.reshape(shape), axis=axis + 1)
    return matrix[None, :, :, None]


def write_round(writer, metrics, kernels=None, mask=None):
    """Writes a round's scalars, per-layer values, weight histograms and mask images."""
    with writer.as_default(step=metrics["round"]):
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "round":
                tf.summary.scalar(f"round/{key}", value)
            elif isinstance(value, dict):
                for layer, layer_value in value.items():
                    tf.summary.scalar(f"{key}/{layer}", layer_value)
        if kernels is not None and mask is not None:
            for name in mask:
                tf.summary.histogram(f"weights/{name}", kernels[name][mask[name]])
            names = list(mask)
            picked = sorted({0, len(names) // 2, len(names) - 1})[:MASK_IMAGE_LAYERS]
            for i in picked:
                tf.summary.image(f"mask/{names[i]}", mask_image(mask[names[i]]))
    writer.flush()
