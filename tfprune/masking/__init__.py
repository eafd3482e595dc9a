"""Masks on Keras models of either Keras: which Keras, the prunable-weight table, one mask
mechanism per Keras."""
