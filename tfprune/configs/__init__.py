"""Named configurations: the paper's protocols and Renda et al.'s ResNet-20 (see registry.py)."""
