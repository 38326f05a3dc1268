"""Kaena's version, recorded in every NEFF it writes."""

__version__ = "0.1.0"
