"""Runs a grid of variants x seeds x widths into one folder (resumable) and aggregates it.

The `tfprune sweep` command, from a checkout (see tfprune/commands/sweep.py).
"""
from tfprune.commands import sweep

if __name__ == "__main__":
    sweep.run()
