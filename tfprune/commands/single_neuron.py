"""Runs the paper's single-hidden-neuron experiment (IMP vs LRR) over many seeds; numpy only.

    tfprune single-neuron --dim=1,2,10 --seeds=1000 --out=sn.json --plot_dir=plots

--out gets a JSON object {"<D>": results of `tfprune.theory.single_neuron.run`} with one entry
per dimension in --dim (also for a single one). --plot_dir gets quadrants_d<D>.png per dimension
and, for two or more, success_vs_dim.png.
"""
import os
import sys

from absl import flags

from tfprune.commands import program
from tfprune.core import files
from tfprune.engine import config_flags
from tfprune.theory import single_neuron

flags.DEFINE_list("dim", ["10"], "Input dimension(s) D, comma-separated: --dim=1,2,10.")
flags.DEFINE_integer("seeds", 1000, "Independent problems (data set and initialization) per D.")
flags.DEFINE_integer("seed", 0, "Seed of the generator that draws every problem.")
flags.DEFINE_enum("init", "balanced", single_neuron.INITS,
                  "balanced: |a0| = |w0|, a keeps its sign; uniform: a0 = U(-1, 1) |w0|.")
flags.DEFINE_integer("n", 100, "Training samples per problem.")
flags.DEFINE_float("lr", 0.01, "Gradient descent step size.")
flags.DEFINE_integer("steps", 60000, "Gradient descent steps of each training.")
flags.DEFINE_float("threshold", 1e-3,
                   "Success: loss below this fraction of the zero predictor's loss.")
flags.DEFINE_string("out", None, "The JSON file to write.")
flags.DEFINE_string("plot_dir", None, "Folder for the figures; none drawn if unset.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def parse_dims(values):
    """The distinct integers of --dim, in order; a one-line ValueError otherwise."""
    try:
        dims = list(dict.fromkeys(int(value) for value in values))
    except ValueError:
        raise ValueError(f"--dim takes integers separated by commas, got {','.join(values)!r}")
    if not dims:
        raise ValueError("--dim needs at least one dimension")
    return dims


def main(argv):
    config_flags.refuse_arguments(argv)
    kwargs = dict(seeds=FLAGS.seeds, seed=FLAGS.seed, init=FLAGS.init, n=FLAGS.n, lr=FLAGS.lr,
                  steps=FLAGS.steps, threshold=FLAGS.threshold)
    try:  # every dimension checked before any work, so a bad value writes nothing
        dims = parse_dims(FLAGS.dim)
        for dim in dims:
            single_neuron.check_args(dim, **kwargs)
    except ValueError as e:
        sys.exit(f"error: {e}")
    results = {}
    for dim in dims:
        r = results[str(dim)] = single_neuron.run(dim, **kwargs)
        lrr_rule = "a0>0" if dim > 1 else "a0>0&w1_0>0"
        print(f"D={dim} {FLAGS.init} seeds={FLAGS.seeds}: "
              f"IMP {r['imp']['success_rate']:.3f} (a0>0&w1_0>0: {r['imp']['theory_rate']:.3f}, "
              f"same outcome for {r['imp_matches_theory']:.3f} of seeds), "
              f"LRR {r['lrr']['success_rate']:.3f} ({lrr_rule}: {r['lrr']['theory_rate']:.3f}, "
              f"same for {r['lrr_matches_theory']:.3f}), "
              f"mask correct {r['imp']['mask_correct_rate']:.3f}, {r['seconds']:.1f} s")
    files.write_json(FLAGS.out, results)
    if FLAGS.plot_dir:
        for dim, r in results.items():
            single_neuron.plot_quadrants(r, os.path.join(FLAGS.plot_dir, f"quadrants_d{dim}.png"))
        if len(results) > 1:
            single_neuron.plot_success_vs_dim(
                results, os.path.join(FLAGS.plot_dir, "success_vs_dim.png"))


def run(argv=None):
    """`tfprune single-neuron` (also `python launch/single_neuron.py`); `argv` defaults to
    sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
