"""Draws the paper's figures and a summary.md from run directories.

The `tfprune report` command, from a checkout (see tfprune/commands/report.py).
"""
from tfprune.commands import report

if __name__ == "__main__":
    report.run()
