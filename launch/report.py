"""Draws the paper's figures and a summary.md from run directories.

    python launch/report.py --runs runs/lrr runs/imp --out report/
"""
import sys

from absl import app, flags

from tfprune import report

flags.DEFINE_multi_string("runs", None, "Run directories written by launch/train.py (several "
                          "seeds of one configuration are averaged).")
flags.DEFINE_string("out", "report", "Folder for the PNG figures and summary.md.")
flags.mark_flag_as_required("runs")
FLAGS = flags.FLAGS


def main(argv):
    runs = [run for arg in FLAGS.runs + argv[1:] for run in arg.split(",") if run]
    try:
        written = report.write(runs, FLAGS.out)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"error: {e}")
    print("\n".join(written))


if __name__ == "__main__":
    app.run(main)
