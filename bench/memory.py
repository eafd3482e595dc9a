"""Resident memory and traced functions after each round: must stay flat across rounds.

    python bench/memory.py [--rounds=10] [--epochs=2]
"""
import tempfile

from absl import app, flags
from common import rss_mib, table

from tfprune.engine import loop
from tfprune.masking.kerases import keras as _keras

keras = _keras("2")
from tfprune.engine.config import Config

flags.DEFINE_integer("rounds", 10, "Pruning rounds.")
flags.DEFINE_integer("epochs", 2, "Epochs per round.")
flags.DEFINE_string("method", "lrr", "Method.")
FLAGS = flags.FLAGS


class AfterRound(keras.callbacks.Callback):
    """Records resident memory and how often fit()'s step function was traced."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_train_end(self, logs=None):
        traced = self.model.train_function.experimental_get_tracing_count()
        self.rows.append((len(self.rows), rss_mib(), traced))


def main(argv):
    del argv
    after = AfterRound()
    config = Config(method=FLAGS.method, rounds=FLAGS.rounds, epochs=FLAGS.epochs,
                    workdir=tempfile.mkdtemp(prefix="tfprune_bench_"))
    loop.run(config, callbacks=[after])
    first = after.rows[1][1]
    table(("round", "resident MiB", "train_function traces"), after.rows)
    print(f"\ngrowth from round 1 to round {FLAGS.rounds}: {after.rows[-1][1] - first:+.1f} MiB "
          f"({(after.rows[-1][1] - first) / max(FLAGS.rounds - 1, 1):+.2f} MiB per round)")


if __name__ == "__main__":
    app.run(main)
