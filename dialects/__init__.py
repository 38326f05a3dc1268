"""Kaena's dialects: ``fw`` (framework graphs), ``ktensor`` (tensor level) and
``inf`` (what a NeuronCore executes)."""
