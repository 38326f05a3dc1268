"""The importer's public face: the operator table assembled from the family modules,
``import_torch``, ``import_model`` and ``list_operators``."""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from kaena.errors import ModelImportError
from kaena.frontends.torch import activations, contractions, conv, elementwise, indexing, layout, normalization, pooling
from kaena.frontends.torch.core import BUILTIN_CONVERTERS, CONTROL_FLOW_REASON, Importer
from kaena.frontends.torch.program import decompose, load, needs_decomposition
from kaena.frontends.families import assemble

FAMILIES = (contractions, conv, pooling, elementwise, activations, normalization, layout, indexing)

# What `kaena-compile --list-operators` prints beside each operator comes with it.
CONVERTERS, OPERATOR_NOTES = assemble(
    FAMILIES, BUILTIN_CONVERTERS, {"getitem": "an output of a multi-output op (layer norm, batch norm, split)"})

SUPPORTED_OPERATORS = tuple(sorted(CONVERTERS))


def list_operators() -> list[tuple[str, str]]:
    """(ATen operator, limits) for every operator the importer converts, and the general rules."""
    rows = [(op, OPERATOR_NOTES.get(op, "")) for op in SUPPORTED_OPERATORS]
    rows.append(("(any ATen op)", "on values known at export (parameters, buffers, shapes): evaluated at import"))
    rows.append(("torch.cond, while_loop, map", "refused: " + CONTROL_FLOW_REASON))
    return rows


def import_torch(model, *, example_inputs=None) -> ModuleOp:
    """Import a ``torch.nn.Module`` (with ``example_inputs``), a ``torch.export.ExportedProgram``
    or a ``.pt2`` path as a ``builtin.module`` with ``func.func @main`` in the ``fw`` dialect."""
    source, ep = load(model, example_inputs)
    if needs_decomposition(ep, CONVERTERS):
        ep = decompose(ep, source)
    return Importer(ep, source, CONVERTERS).run()


def import_model(model, *, input_shapes=None, example_inputs=None) -> ModuleOp:
    """The frontends' common entry point; shapes come from the export (``input_shapes`` is refused)."""
    if input_shapes:
        raise ModelImportError(
            "input_shapes does not apply to PyTorch models: their shapes come from the export; "
            "export with example inputs of the shapes you want")
    return import_torch(model, example_inputs=example_inputs)
