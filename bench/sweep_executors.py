"""Wall time of one grid on the three ways to run it: serially, on local Ray, as shards.

    python bench/sweep_executors.py [--rounds=3] [--workers=2]

The grid: 2 variants (lrr, imp) x 2 seeds of the default configuration (MNIST-1D, convnet),
`--rounds` rounds. Each way runs it from scratch through `launch/sweep.py` in a fresh process
(so TensorFlow's and Ray's start-up count): serially; on a local Ray with `--workers` runs at
a time (each reserves the machine's CPUs / `--workers`); and as `--workers` shards started side
by side. Prints a table of
wall times with the ratio to the serial time, and the largest difference of any round's test
accuracy and loss from the serial runs (0: the same numbers).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags
from common import table

from tfprune.core.rundir import RunDir

flags.DEFINE_integer("rounds", 3, "Pruning rounds of every run.")
flags.DEFINE_integer("workers", 2, "Ray runs at a time, and shards.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRID = {"lrr": {"method": "lrr"}, "imp": {"method": "imp"}}
SEEDS = (0, 1)


def sweep(out, *flags):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "launch", "sweep.py"),
                             f"--grid={json.dumps(GRID)}", f"--seeds={','.join(map(str, SEEDS))}",
                             f"--rounds={FLAGS.rounds}", f"--out={out}", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timed(*processes):
    start = time.perf_counter()
    for process in processes:
        _, err = process.communicate()
        if process.returncode:
            sys.exit(f"a sweep failed: {err[-2000:]}")
    return time.perf_counter() - start


def largest_difference(out, reference):
    worst = 0.0
    for variant in GRID:
        for seed in SEEDS:
            mine = RunDir(os.path.join(out, variant, f"seed_{seed}"))
            theirs = RunDir(os.path.join(reference, variant, f"seed_{seed}"))
            for r in theirs.completed_rounds():
                for key in ("test_accuracy", "test_loss"):
                    worst = max(worst, abs(mine.metrics(r)[key] - theirs.metrics(r)[key]))
    return worst


def main(argv):
    del argv
    root = tempfile.mkdtemp(prefix="bench_sweep_")
    serial = os.path.join(root, "serial")
    seconds = {"serial": timed(sweep(serial))}
    ray = os.path.join(root, "ray")
    cpus = (os.cpu_count() or 1) / FLAGS.workers  # local Ray offers every CPU
    seconds["ray"] = timed(sweep(ray, "--executor=ray", f"--cpus_per_run={cpus:g}"))
    sharded = os.path.join(root, "shards")
    seconds["shards"] = timed(*[sweep(sharded, f"--shard={i}/{FLAGS.workers}")
                                for i in range(FLAGS.workers)])
    rows = [(name, wall, wall / seconds["serial"],
             largest_difference(out, serial) if out != serial else 0.0)
            for name, wall, out in (("serial", seconds["serial"], serial),
                                    (f"ray, {FLAGS.workers} x {cpus:g} CPU", seconds["ray"], ray),
                                    (f"{FLAGS.workers} shards side by side", seconds["shards"],
                                     sharded))]
    print(f"\n{len(GRID) * len(SEEDS)} runs x {FLAGS.rounds + 1} rounds (default model and "
          f"dataset), {os.cpu_count()} CPUs\n")
    table(("executor", "wall s", "vs serial", "max |diff| of test accuracy/loss"), rows)


if __name__ == "__main__":
    app.run(main)
