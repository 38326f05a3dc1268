"""``--batch-size B`` for PyTorch: a ``torch.nn.Module`` is exported with its example
inputs re-batched (each tensor's first sample repeated B times), so the export itself
is at batch B. An ``ExportedProgram`` or ``.pt2`` has its shapes fixed by its export."""

from __future__ import annotations

import torch

from kaena.errors import ModelImportError
from kaena.frontends.torch.program import example_args


def rebatch(model, batch: int, *, input_shapes=None, example_inputs=None):
    """(model, input_shapes, the example inputs at batch ``batch``)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ModelImportError(f"--batch-size '{batch}' must be a positive number of inferences per run")
    if not isinstance(model, torch.nn.Module):
        raise ModelImportError(
            f"--batch-size: a {type(model).__name__} has the shapes of its export; re-export it with example "
            f"inputs at batch {batch} (or pass the torch.nn.Module with its example inputs)")
    if example_inputs is None:
        return model, input_shapes, example_inputs  # the export asks for them, with its own message
    args, kwargs = example_args(example_inputs)

    def batched(x):
        if not isinstance(x, torch.Tensor) or x.dim() == 0:
            return x
        return x[:1].expand(batch, *x.shape[1:]).clone()

    if kwargs:
        return model, input_shapes, {k: batched(v) for k, v in kwargs.items()}
    return model, input_shapes, tuple(batched(a) for a in args)
