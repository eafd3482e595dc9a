"""Export of finished rounds as deployable models, with their size, accuracy and latency."""
