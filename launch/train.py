"""Runs iterative pruning (LRR, IMP or FT) into a run directory; resumes if interrupted.

The `tfprune train` command, from a checkout (see tfprune/commands/train.py).
"""
from tfprune.commands import train

if __name__ == "__main__":
    train.run()
