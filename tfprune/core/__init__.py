"""Numpy-only foundations: masks, analyses, signs, files, logs and the run directory.
Importing it loads no TensorFlow."""
