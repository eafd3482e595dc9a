"""Pruning strategies as pure numpy functions of weights and masks, by name (registry.py)."""
