"""Exports a round of a finished run as deployable models, with sizes, accuracy and latency.

    tfprune export --run=runs/lrr --out=export/lrr            # the last round
    tfprune export --run=runs/lrr --round=4 --out=export/r4 --formats=tflite,tflite_int8
    tfprune export --run=runs/lrr --density=0.2 --out=export/d20
    tfprune export --run=runs/lrr --best --out=export/best    # most accurate round
    tfprune export --run=runs/lrr --all --out=export/all      # every round + figure

Writes <out>/round_XX/<artifacts>, <out>/export.json and, with --all, <out>/tradeoff.png
(layout in tfprune/export/plan.py). The run directory is only read.
"""

from tfprune.commands import program
from tfprune.core import logs

logs.quiet_native_logs()  # before TensorFlow loads


from absl import flags  # noqa: E402

from tfprune.engine import config_flags  # noqa: E402  (no TensorFlow: bad input fails fast)
from tfprune.export import plan as export_plan  # noqa: E402  (no TensorFlow: bad input fails fast)

flags.DEFINE_string("run", None, "Run directory written by `tfprune train` (finished).")
flags.DEFINE_string("out", None, "Folder to write into (outside the run directory).")
flags.DEFINE_integer("round", None, "Export this round.")
flags.DEFINE_float("density", None, "Export the round whose density is closest to this.")
flags.DEFINE_bool("best", False, "Export the round of highest test accuracy (the sparsest "
                  "of equals).")
flags.DEFINE_bool("all", False, "Export every round and draw the trade-off figure.")
flags.DEFINE_list("formats", list(export_plan.FORMATS), "Artifacts to write: "
                  f"{','.join(export_plan.FORMATS)}.")
flags.DEFINE_bool("overwrite", False, "Replace the files of an earlier export in --out (only "
                  "the paths this export writes).")
flags.DEFINE_enum("interpreter", "auto", ["auto", "litert", "tensorflow"], "LiteRT interpreter: "
                  "ai-edge-litert's (litert), TensorFlow's bundled one (tensorflow), or "
                  "ai-edge-litert's if installed (auto).")
flags.DEFINE_integer("threads", 1, "CPU threads of the LiteRT interpreter and of TensorFlow "
                     "while timing.")
flags.DEFINE_integer("repeats", 100, "Timed calls per latency measurement (the median is "
                     "reported); 0: no latency.")
flags.DEFINE_list("batch_sizes", ["1", "32"], "Batch sizes to time.")
flags.DEFINE_integer("calibration_examples", 1024, "Training examples that calibrate the int8 "
                     "quantization.")
FLAGS = flags.FLAGS


def main(argv):
    config_flags.refuse_arguments(argv)
    logs.setup(FLAGS.verbosity)
    with logs.exit_on_bad_input():  # bad input or an unfaithful export: one line
        plan = export_plan.make_plan(FLAGS.run, FLAGS.out, FLAGS.formats, FLAGS.round,
                                     FLAGS.density, FLAGS.best, FLAGS.all, FLAGS.overwrite)
        try:
            batch_sizes = tuple(int(b) for b in FLAGS.batch_sizes)
        except ValueError:
            raise ValueError(f"--batch_sizes={','.join(FLAGS.batch_sizes)} must be "
                             "integers") from None
        from tfprune.export import artifacts  # loads TensorFlow
        options = artifacts.Options(FLAGS.interpreter, FLAGS.threads, FLAGS.repeats, batch_sizes,
                                 FLAGS.calibration_examples)
        artifacts.set_threads(FLAGS.threads)
        artifacts.export(plan, options)


def run(argv=None):
    """`tfprune export` (also `python launch/export.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
