"""The importer's public face: the operator table assembled from the family
modules, ``import_onnx``, ``list_operators`` and the ``--list-operators`` notes."""

from __future__ import annotations

import os

import onnx
from xdsl.dialects.builtin import ModuleOp

from kaena.frontends.families import assemble
from kaena.frontends.onnx import (
    activations,
    contractions,
    conv,
    elementwise,
    indexing,
    layout,
    masks,
    normalization,
    pooling,
    resize,
    shape,
)
from kaena.frontends.onnx.core import FOLD_ONLY, Importer
from kaena.frontends.onnx.loading import load

FAMILIES = (contractions, conv, pooling, elementwise, activations, normalization, layout, resize, indexing,
            masks, shape)

# What `kaena-compile --list-operators` prints beside each operator comes with it.
CONVERTERS, OPERATOR_NOTES = assemble(FAMILIES)

SUPPORTED_OPERATORS = tuple(sorted(CONVERTERS))


def list_operators() -> list[tuple[str, str]]:
    """(ONNX operator, note) for everything the importer takes, converters and
    import-time-folded shape arithmetic."""
    rows = [(op, OPERATOR_NOTES.get(op, "")) for op in SUPPORTED_OPERATORS]
    rows += [(op, "folded to a constant at import (shape arithmetic only)") for op in FOLD_ONLY
             if op not in CONVERTERS]
    return sorted(rows)


def import_onnx(model: str | os.PathLike | onnx.ModelProto, *,
                input_shapes: dict[str, list[int]] | None = None) -> ModuleOp:
    """Import an ONNX model (path or ModelProto) as a ``builtin.module`` holding
    ``func.func @main`` in the ``fw`` dialect, its weights attached in memory.

    ``input_shapes`` fixes the shape of inputs with dynamic dims (e.g. batch).
    Raises ``ModelImportError``/``UnsupportedOperatorError`` for models Kaena cannot take.
    """
    source, proto, mapped = load(model)
    return Importer(proto, source, input_shapes, CONVERTERS, mapped).run()


def import_model(model: str | os.PathLike | onnx.ModelProto, *,
                 input_shapes: dict[str, list[int]] | None = None, example_inputs=None) -> ModuleOp:
    """The frontends' common entry point (``example_inputs`` is for traced frameworks; ONNX ignores it)."""
    return import_onnx(model, input_shapes=input_shapes)
