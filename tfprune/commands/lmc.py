"""Linear mode connectivity of a finished run: the test error along the straight path between
two of its networks, BatchNorm recomputed at every point, and the error barrier of each pair.

    tfprune lmc --run=runs/imp                          # consecutive rounds, rewind point
    tfprune lmc --run=runs/lrr --other=runs/imp         # LRR's vs IMP's round r too
    tfprune lmc --run=runs/imp --pairs=instability --rounds=3,6   # trains two copies each

Pairs (--pairs): consecutive (round r-1 and r), rewind (the rewind point and round r), other
(round r of --run and of --other, a run of the same model), instability (round r's mask
trained twice from the rewind point on two other data orders: Frankle et al.'s test; it
trains, so it runs only when asked). Writes <run>/lmc/lmc.json and TensorBoard scalars
lmc/<pair>_barrier per round in <run>/lmc/; `tfprune report` draws them. A Keras 3 run
needs its backend: --backend=jax for a JAX run.
"""

from tfprune.commands import program
from tfprune.core import logs

program.select_backend()  # before keras is imported

logs.quiet_native_logs()  # before TensorFlow loads

from absl import flags  # noqa: E402

flags.DEFINE_string("run", None, "A finished run directory (tfprune train).")
flags.DEFINE_string("other", None, "Another run of the same model, for --pairs=other.")
flags.DEFINE_list("pairs", ["consecutive", "rewind", "other"], "Pairs to measure: consecutive, "
                  "rewind, other (needs --other), instability (trains).")
flags.DEFINE_list("rounds", [], "Rounds to measure (default: every completed round).")
flags.DEFINE_integer("alphas", 11, "Points on each path, both ends included.", lower_bound=2)
flags.DEFINE_integer("bn_batches", 20, "Training batches that recompute BatchNorm's statistics "
                     "at each point (0: keep the interpolated ones).", lower_bound=0)
flags.DEFINE_string("backend", None, "Keras 3's backend, as the run's (jax for a JAX run).")
flags.mark_flag_as_required("run")
FLAGS = flags.FLAGS


def main(argv):
    logs.setup(FLAGS.verbosity)
    with logs.exit_on_bad_input():
        if len(argv) > 1:
            raise ValueError(f"unexpected arguments {argv[1:]}; give flags only")
        from tfprune.engine import mode_connectivity as connectivity  # loads TensorFlow
        unknown = sorted(set(FLAGS.pairs) - set(connectivity.PAIRS))
        if unknown:
            raise ValueError(f"--pairs: unknown {', '.join(unknown)}; valid: "
                             f"{', '.join(connectivity.PAIRS)}")
        if "other" in FLAGS.pairs and FLAGS.other is None and FLAGS["pairs"].present:
            raise ValueError("--pairs=other needs --other=<a run of the same model>")
        try:
            rounds = [int(r) for r in FLAGS.rounds] or None
        except ValueError:
            raise ValueError(f"--rounds={','.join(FLAGS.rounds)} must be integers") from None
        results = connectivity.measure_run(FLAGS.run, rounds, FLAGS.pairs, FLAGS.other,
                                           FLAGS.alphas, FLAGS.bn_batches)
    for x in results:
        print(f"round {x['round']:2d} {x['kind']:12s} error barrier {x['barrier']:.4f} "
              f"(ends {x['test_error'][0]:.4f}, {x['test_error'][-1]:.4f})")


def run(argv=None):
    """`tfprune lmc` (also `python launch/lmc.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
