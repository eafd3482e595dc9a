"""Exports a round of a finished run as deployable models, with sizes, accuracy and latency.

The `tfprune export` command, from a checkout (see tfprune/commands/export.py).
"""
from tfprune.commands import export

if __name__ == "__main__":
    export.run()
