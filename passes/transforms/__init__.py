"""Rewrites within one dialect, one package per level: ``fw/``, ``ktensor/``, ``inf/``."""
