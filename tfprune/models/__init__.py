"""The model architectures, by name (registry.py), with stable layer names (layers.py)."""
