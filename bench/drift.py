"""How far two trainings of the same run drift apart when only the order of float sums changes.

    python bench/drift.py [--methods=imp,lrr] [--repeats=2]

The run is the tests' (LeNet-300-100 on MNIST-1D, 2 pruned rounds of 3 epochs, warm-up 1,
rewind epoch 1), launched through `launch/train.py` in fresh processes. The reference is one
process with TensorFlow's defaults; every other way changes nothing but how floats are summed:

- `repeat`: the same command again (same machine: expected bit-identical);
- `no_onednn`: TF_ENABLE_ONEDNN_OPTS=0 (Eigen's kernels instead of oneDNN's);
- `one_thread`: TF_NUM_INTRAOP_THREADS=1 and OMP_NUM_THREADS=1 (as a 1-CPU Ray task);
- `mirrored`: --strategy=mirrored on 2 logical CPU devices (gradients all-reduced);
- `multiworker`: 2 processes with --strategy=multiworker on 127.0.0.1 (all-reduce over gRPC);
- `mirrored_one_thread`, `multiworker_one_thread`: both changes at once (another CPU's rounding
  of the same all-reduced training: more samples of the drift);
- `double_lr`: not a reduction order but a bug's size for scale: --lr=0.2 (what 2 workers that
  summed their gradients instead of averaging them would train).

For each way, method and round it prints: mask entries that differ from the reference (and
whether each lies within the drift of the pruning threshold: a tie), the largest absolute
difference of a kernel entry kept by both, of the losses (relative) and of the test accuracy
(in examples). The tests' tolerances for comparing two trainings (tests/compare.py) are set
from this table, with a margin; bench/RESULTS.md keeps the numbers.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np
from absl import app, flags
from common import table

from tfprune.core.rundir import RunDir

flags.DEFINE_list("methods", ["imp", "lrr"], "Methods to run.")
flags.DEFINE_list("ways", ["repeat", "no_onednn", "one_thread", "mirrored",
                           "mirrored_one_thread", "multiworker", "multiworker_one_thread",
                           "double_lr"], "Ways of training to compare with the reference.")
flags.DEFINE_integer("repeats", 1, "Runs of each way (drift can differ between runs).")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = ["--model=lenet300_100", "--nodownload", "--rounds=2", "--epochs=3", "--warmup_epochs=1",
       "--rewind_epoch=1"]
TEST_EXAMPLES = 1000  # MNIST-1D's test split


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def launch(workdir, method, env=(), args=()):
    return subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "launch", "train.py"), f"--workdir={workdir}",
         f"--method={method}", *RUN, *args], env={**os.environ, **dict(env)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "1"}
WAYS = {  # way: (environment, flags)
    "reference": ({}, []), "repeat": ({}, []),
    "no_onednn": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, []),
    "one_thread": (ONE_THREAD, []),
    "mirrored": ({}, ["--strategy=mirrored", "--cpu_devices=2"]),
    "mirrored_one_thread": (ONE_THREAD, ["--strategy=mirrored", "--cpu_devices=2"]),
    "multiworker": ({}, ["--strategy=multiworker"]),
    "multiworker_one_thread": (ONE_THREAD, ["--strategy=multiworker"]),
    "double_lr": ({}, ["--lr=0.2"]),
}


def train(way, workdir, method):
    """Trains the run into `workdir` the given way; raises if a process failed."""
    env, args = WAYS[way]
    if "--strategy=multiworker" in args:
        addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
        processes = [launch(workdir, method, args=args, env=env | {
            "TF_CONFIG": json.dumps({"cluster": {"worker": addresses},
                                     "task": {"type": "worker", "index": i}})})
            for i in range(2)]
    else:
        processes = [launch(workdir, method, env, args)]
    for p in processes:
        _, err = p.communicate(timeout=900)
        if p.returncode:
            raise RuntimeError(f"{way} {method} failed:\n{err[-3000:]}")


def threshold_gap(reference, r, key, index):
    """How far the reference's |w| at `index` (end of round r-1) lies from round r's pruning
    threshold (global magnitude: the smallest |w| the reference kept)."""
    before = reference.kernels(r - 1)
    kept = reference.mask(r)
    threshold = min(np.abs(before[k][kept[k]]).min() for k in kept)
    return abs(abs(before[key][index]) - threshold)


def compare(run, reference):
    """One row per round: mask entries differing (largest gap to the threshold), kernel,
    loss and accuracy drift."""
    rows = []
    for r in reference.completed_rounds():
        ours, theirs = run.mask(r), reference.mask(r)
        differ, gap = 0, 0.0
        for key in theirs:
            for index in zip(*np.nonzero(ours[key] != theirs[key])):
                differ += 1
                gap = max(gap, threshold_gap(reference, r, key, index))
        kernel = max(float(np.max(np.abs(run.kernels(r)[k] - reference.kernels(r)[k])[
            ours[k] & theirs[k]], initial=0.0)) for k in theirs)
        a, b = run.metrics(r), reference.metrics(r)
        loss = max(abs(a[k] - b[k]) / abs(b[k]) for k in ("train_loss", "test_loss"))
        examples = round(abs(a["test_accuracy"] - b["test_accuracy"]) * TEST_EXAMPLES)
        rows.append((r, differ, gap, kernel, loss, examples))
    return rows


def main(argv):
    del argv
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for method in FLAGS.methods:
            reference = os.path.join(out, method, "reference")
            train("reference", reference, method)
            for way in FLAGS.ways:
                for repeat in range(FLAGS.repeats):
                    workdir = os.path.join(out, method, f"{way}_{repeat}")
                    train(way, workdir, method)
                    for row in compare(RunDir(workdir), RunDir(reference)):
                        rows.append((way, method, repeat, *row))
                        print(*rows[-1], flush=True)
    table(["way", "method", "repeat", "round", "mask entries differing",
           "largest |w| gap to threshold", "kernel max abs diff", "loss max rel diff",
           "test accuracy diff (examples)"], rows)
    for way in FLAGS.ways:
        mine = [row for row in rows if row[0] == way]
        print(f"{way}: kernel {max(r[6] for r in mine):.3g}, loss {max(r[7] for r in mine):.3g}"
              f", accuracy {max(r[8] for r in mine)} examples, mask entries "
              f"{max(r[4] for r in mine)}")


if __name__ == "__main__":
    app.run(main)
