"""Draws figures from run directories.

    python launch/report.py --runs runs/lrr runs/imp --out report/
"""
import os
import sys

from absl import app, flags

from tfprune import report

flags.DEFINE_multi_string("runs", None, "Run directories (written by launch/train.py).")
flags.DEFINE_string("out", "report", "Folder for the figures.")
flags.mark_flag_as_required("runs")
FLAGS = flags.FLAGS


def main(argv):
    runs = [run for arg in FLAGS.runs + argv[1:] for run in arg.split(",")]
    try:
        loaded = {os.path.basename(os.path.normpath(r)): report.load_run(r)[1] for r in runs}
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"error: {e}")
    path = os.path.join(FLAGS.out, "accuracy_vs_density.png")
    report.accuracy_vs_density(loaded, path)
    print(path)


if __name__ == "__main__":
    app.run(main)
