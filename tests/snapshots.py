"""Fingerprints of a folder, and of what TensorBoard shows of it, to compare two runs."""
import hashlib
import os

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util import tensor_util


def snapshot(folder):
    """{relative path: sha256} of every file under `folder`."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def curve(logdir, tag):
    """[(step, value)] of a scalar as TensorBoard's server loads it (restart purges included)."""
    accumulator = plugin_event_accumulator.EventAccumulator(
        str(logdir), size_guidance={plugin_event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
            for e in accumulator.Tensors(tag)]
