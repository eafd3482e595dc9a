"""The command-line programs: train, sweep, report, export and single-neuron (absl mains).

Each defines its flags when imported; `tfprune <command>` (see `tfprune.__main__`) imports
the one it runs.
"""
