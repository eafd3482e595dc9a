"""Named configurations of the paper's GPU protocols (see registry.py)."""
