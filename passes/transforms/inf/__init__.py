"""Inferentia-level (``inf``) passes: the target on the module, SRAM allocation, semaphores."""
