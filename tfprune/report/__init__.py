"""Figures and tables comparing finished runs."""
