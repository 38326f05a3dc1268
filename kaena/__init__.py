"""Kaena: an open-source compiler from trained neural networks to AWS Inferentia."""

__version__ = "0.1.0"
