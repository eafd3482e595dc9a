"""Runs iterative pruning (LRR, IMP or FT) into a run directory; resumes if interrupted.

    python launch/train.py --method=lrr          # offline, on MNIST-1D, a few minutes
    python launch/train.py --method=imp --rounds=10 --workdir=runs/imp10
"""
import sys

from absl import app, flags, logging

from tfprune import cli, experiment

cli.define_flags()
flags.adopt_module_key_flags(cli)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        config = cli.config_from_flags()
        logging.info("config: %s", config)
        experiment.run(config)
    except (ValueError, FileNotFoundError) as e:  # bad input: one line; -v=1 for the traceback
        logging.vlog(1, "traceback", exc_info=True)
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    app.run(main)
