"""Runs iterative pruning (LRR, IMP or FT) into a run directory; resumes if interrupted.

    tfprune train --method=lrr          # offline, on MNIST-1D, about a minute
    tfprune train --method=imp --rounds=10 --workdir=runs/imp10
    tfprune train --method=lrr -v 1     # with TensorFlow's own log lines
"""
import shutil

from tfprune.commands import program
from tfprune.core import logs

program.select_backend()  # before keras is imported

logs.quiet_native_logs()  # before TensorFlow loads

from absl import flags, logging  # noqa: E402

from tfprune.core.rundir import RunDir  # noqa: E402
from tfprune.engine import config_flags  # noqa: E402

config_flags.define_flags()
flags.adopt_module_key_flags(config_flags)
flags.DEFINE_bool("overwrite", False, "Delete the run in --workdir first (only a run directory "
                  "is ever deleted), e.g. to replace it with another configuration.")
config_flags.use_grouped_help(extra=("overwrite",))
FLAGS = flags.FLAGS


def main(argv):
    config_flags.refuse_arguments(argv)
    logs.setup(FLAGS.verbosity)
    with logs.exit_on_bad_input():  # bad input, missing or unreachable data: one line
        config = config_flags.config_from_flags()
        if FLAGS.overwrite and RunDir(config.workdir).is_run():
            logging.info("--overwrite: deleting the run in %s", config.workdir)
            shutil.rmtree(config.workdir)
        logging.info("config: %s", config_flags.summary(config))
        from tfprune.engine import loop  # TensorFlow loads here: bad flags fail before it
        loop.run(config)


def run(argv=None):
    """`tfprune train` (also `python launch/train.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
