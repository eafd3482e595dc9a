"""Linear mode connectivity of a finished run's networks: error barriers along straight paths.

The `tfprune lmc` command, from a checkout (see tfprune/commands/lmc.py).
"""
from tfprune.commands import lmc

if __name__ == "__main__":
    lmc.run()
