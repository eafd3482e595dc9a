"""Where the wall time of a default run goes: training steps vs everything around them.

    python bench/end_to_end.py [--rounds=5] [--method=lrr]

Runs the default configuration (MNIST-1D, convnet) into a temporary folder with a step timer,
and splits the wall time of experiment.run (process start and imports excluded) into training
steps, compile, the rest of fit() (callbacks, epoch ends, the restart), evaluation, pruning,
analysis, checkpoints and files, summaries, data and setup (data generation, model build).
Target: everything but training steps <= 10% of the wall time.
"""
import tempfile
import time

from absl import app, flags

from common import StepTimer, median, table
from tfprune import experiment
from tfprune.config import Config

flags.DEFINE_integer("rounds", 5, "Pruning rounds.")
flags.DEFINE_string("method", "lrr", "Method.")
flags.DEFINE_integer("epochs", 12, "Epochs per round.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    timer, stopwatch = StepTimer(), experiment.Stopwatch()
    config = Config(method=FLAGS.method, rounds=FLAGS.rounds, epochs=FLAGS.epochs,
                    workdir=tempfile.mkdtemp(prefix="tfprune_bench_"))
    start = time.perf_counter()
    experiment.run(config, callbacks=[timer], stopwatch=stopwatch)
    wall = time.perf_counter() - start
    phases = dict(stopwatch.seconds)
    compile_seconds = timer.seconds[0] - median(timer.seconds)  # the first step also traces
    steps = sum(timer.seconds) - compile_seconds
    rows = [("training steps", steps), ("compile (first step's tracing)", compile_seconds)]
    rows.append(("fit() around the steps (callbacks, epoch ends, restarts)",
                 phases.pop("fit") - steps - compile_seconds))
    for phase in ("evaluate", "prune", "analysis", "save", "summaries", "data", "setup"):
        rows.append((phase, phases.pop(phase, 0.0)))
    rows.append(("other", wall - sum(s for _, s in rows)))
    table(("phase", "seconds", "share of wall time"), [(n, s, s / wall) for n, s in rows])
    print(f"\nwall {wall:.1f} s for {FLAGS.rounds} rounds x {FLAGS.epochs} epochs, "
          f"{len(timer.seconds)} steps; everything but training steps: {1 - steps / wall:.1%}")


if __name__ == "__main__":
    app.run(main)
