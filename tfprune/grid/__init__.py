"""Grids of runs: sweeps, executors (serial, Ray) and scheduler shards. The driver loads no
TensorFlow."""
