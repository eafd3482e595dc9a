"""Where the wall time of a default run goes: training steps vs everything around them.

    python bench/end_to_end.py [--rounds=5] [--method=lrr] [--checkpoint_every=1,4,0]

Runs the default configuration (MNIST-1D, convnet) into a temporary folder with a step timer,
and splits the wall time of loop.run (process start and imports excluded) into training
steps, compile, the rest of fit() (callbacks, epoch ends, the restart), evaluation, pruning,
analysis, checkpoints and files, summaries, data and setup (data generation, model build).
Target: everything but training steps <= 10% of the wall time. With several
--checkpoint_every values it runs once per value and ends with a table comparing them.
"""
import tempfile
import time

from absl import app, flags
from common import StepTimer, median, table

from tfprune.core import clock
from tfprune.engine import loop
from tfprune.engine.config import Config

flags.DEFINE_integer("rounds", 5, "Pruning rounds.")
flags.DEFINE_string("method", "lrr", "Method.")
flags.DEFINE_integer("epochs", 12, "Epochs per round.")
flags.DEFINE_list("checkpoint_every", ["1"], "Values of --checkpoint_every to run, one run each.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    summary = []
    for every in FLAGS.checkpoint_every:
        print(f"\n--checkpoint_every={every}")
        wall, steps = measure(int(every))
        other = wall - steps
        summary.append((every, wall, steps, other, other / wall,
                        other / summary[0][3] if summary else 1.0))
    if len(summary) > 1:  # steps vary by a few seconds run to run: compare the rest
        print()
        table(("checkpoint_every", "wall s", "training steps s", "not steps s",
               "share not steps", "not steps vs first"), summary)


def measure(checkpoint_every):
    """Runs the configuration once; prints its phase table; returns (wall, step) seconds."""
    timer, stopwatch = StepTimer(), clock.Stopwatch()
    config = Config(method=FLAGS.method, rounds=FLAGS.rounds, epochs=FLAGS.epochs,
                    checkpoint_every=checkpoint_every,
                    workdir=tempfile.mkdtemp(prefix="tfprune_bench_"))
    start = time.perf_counter()
    loop.run(config, callbacks=[timer], stopwatch=stopwatch)
    wall = time.perf_counter() - start
    phases = dict(stopwatch.seconds)
    compile_seconds = timer.seconds[0] - median(timer.seconds)  # the first step also traces
    steps = sum(timer.seconds) - compile_seconds
    rows = [("training steps", steps), ("compile (first step's tracing)", compile_seconds)]
    rows.append(("fit() around the steps (callbacks, epoch ends)",
                 phases.pop("fit") - steps - compile_seconds))
    for phase in ("start", "evaluate", "mask", "analysis", "save", "summaries", "data", "setup"):
        rows.append((phase, phases.pop(phase, 0.0)))
    rows.append(("other", wall - sum(s for _, s in rows)))
    table(("phase", "seconds", "share of wall time"), [(n, s, s / wall) for n, s in rows])
    print(f"\nwall {wall:.1f} s for {FLAGS.rounds} rounds x {FLAGS.epochs} epochs, "
          f"{len(timer.seconds)} steps; everything but training steps: {1 - steps / wall:.1%}")
    return wall, steps


if __name__ == "__main__":
    app.run(main)
