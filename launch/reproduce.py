"""Checks the paper's claims in one command: the grid over seeds, a verdict per claim, a report.

The `tfprune reproduce` command, from a checkout (see tfprune/commands/reproduce.py).
"""
from tfprune.commands import reproduce

if __name__ == "__main__":
    reproduce.run()
