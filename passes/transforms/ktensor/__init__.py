"""Tensor-level (``ktensor``) rewrites: bias/activation fusion, auto-cast."""
