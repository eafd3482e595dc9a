"""Runs a grid of variants x seeds x widths into one folder (resumable) and aggregates it.

    tfprune sweep --sweep=masks --seeds=0,1,2 --out=runs/masks
    tfprune sweep --sweep=methods --widths=0.5,1,2 --seeds=0,1 --out=runs/width
    tfprune sweep --sweep=masks --seeds=0,1,2 --out=runs/masks --executor=ray
    tfprune sweep --sweep=masks --seeds=0,1,2 --out=/shared/masks --shard=3/8
    tfprune report --runs runs/masks --out report/masks

Every config flag of `tfprune train` but --workdir, --name and --seed (set per run) sets the
base configuration of all runs (e.g. --rounds=5).
Named sweeps (--sweep): methods, masks, random, signs, perturb, fixed_signs, structure; or
--grid with a JSON object {"variant": {config overrides}}, where "@variant" in
mask_from/signs_from names another variant's run with the same seed and width.
"""
import json

from tfprune.commands import program
from tfprune.core import logs

program.select_backend()  # before keras is imported

logs.quiet_native_logs()  # before TensorFlow loads

from absl import flags  # noqa: E402

from tfprune.commands import grid_flags  # noqa: E402
from tfprune.engine import config_flags  # noqa: E402
from tfprune.grid import sweep  # noqa: E402

config_flags.define_flags()
flags.adopt_module_key_flags(config_flags)
flags.DEFINE_enum("sweep", None, sorted(sweep.NAMED), "A named grid of variants.")
flags.DEFINE_string("grid", None, "A JSON object {variant name: {config overrides}}.")
flags.DEFINE_list("seeds", ["0"], "Seeds: every variant runs once per seed.")
flags.DEFINE_list("widths", [], "Model widths to sweep (default: the model's own).")
flags.DEFINE_string("out", "runs/sweep", "The sweep folder (one run directory per run).")
config_flags.use_grouped_help(extra=("sweep", "grid", "seeds", "widths", "out")
                              + grid_flags.NAMES)
FLAGS = flags.FLAGS


def main(argv):
    config_flags.refuse_arguments(argv)
    logs.setup(FLAGS.verbosity)
    with logs.exit_on_bad_input():  # also SweepIncomplete: its table is logged first
        if (FLAGS.sweep is None) == (FLAGS.grid is None):
            raise ValueError("give exactly one of --sweep and --grid")
        try:
            variants = sweep.NAMED[FLAGS.sweep] if FLAGS.sweep else json.loads(FLAGS.grid)
        except json.JSONDecodeError as e:
            raise ValueError(f"--grid is not valid JSON: {e}") from None
        if not isinstance(variants, dict) or not variants:
            raise ValueError("--grid must be a non-empty JSON object {name: {overrides}}")
        try:
            seeds = [int(s) for s in FLAGS.seeds]
            widths = [float(w) for w in FLAGS.widths]
        except ValueError:
            raise ValueError(f"--seeds takes integers and --widths numbers, got "
                             f"--seeds={','.join(FLAGS.seeds)} --widths={','.join(FLAGS.widths)}"
                             ) from None
        config_flags.config_from_flags()  # bad flags fail here, before any run
        base = {k: v for k, v in config_flags.given_values().items()
                if k not in ("workdir", "name", "seed")}
        rows = sweep.run(base, variants, seeds, widths, FLAGS.out, **grid_flags.run_options())
    last = {}
    for row in rows:
        last[(row["variant"], row["width"])] = row
    for (variant, width), row in last.items():
        print(f"{variant} {width} round {row['round']}: density {row['density_mean']:.4f} "
              f"test accuracy {row['test_accuracy_mean']:.4f} +- {row['test_accuracy_std']:.4f} "
              f"({row['seeds']} seeds)")


def run(argv=None):
    """`tfprune sweep` (also `python launch/sweep.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
