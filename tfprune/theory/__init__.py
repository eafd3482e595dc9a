"""Pure-numpy models of the paper's theory (no TensorFlow)."""
