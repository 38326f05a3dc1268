"""Lowerings between dialects: ``fw`` -> ``ktensor`` -> ``inf``."""
