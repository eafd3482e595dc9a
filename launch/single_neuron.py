"""Runs the paper's single-hidden-neuron experiment (IMP vs LRR) over many seeds; numpy only.

The `tfprune single-neuron` command, from a checkout (see tfprune/commands/single_neuron.py).
"""
from tfprune.commands import single_neuron

if __name__ == "__main__":
    single_neuron.run()
