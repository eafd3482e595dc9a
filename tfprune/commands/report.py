"""Draws the paper's figures and a summary.md from run directories.

    tfprune report --runs runs/lrr runs/imp --out report/

A figure the runs cannot draw is left out, and summary.md and the log say why:
mask_overlap.png compares two configurations, so one run (or the seeds of one) has none;
structures.png compares structures (tfprune sweep --sweep=structure).
"""


from absl import flags

from tfprune.commands import program
from tfprune.core import logs
from tfprune.engine import grouping
from tfprune.report import figures

flags.DEFINE_multi_string("runs", None, "Run directories written by `tfprune train`, or folders "
                          "holding them (a sweep); seeds of one configuration are averaged.")
flags.DEFINE_string("out", "report", "Folder for the PNG figures and summary.md.")
flags.mark_flag_as_required("runs")
FLAGS = flags.FLAGS


def main(argv):
    paths = [path for arg in FLAGS.runs + argv[1:] for path in arg.split(",") if path]
    with logs.exit_on_bad_input():
        runs = [run for path in paths for run in grouping.find_runs(path)]
        written = figures.write(runs, FLAGS.out)
    print("\n".join(written))


def run(argv=None):
    """`tfprune report` (also `python launch/report.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
