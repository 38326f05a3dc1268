"""The importer's public face: the operator table assembled from the family
modules, ``import_mxnet``, ``import_model``, ``list_operators`` and how a symbol
file finds its parameters."""

from __future__ import annotations

import os
import re

from xdsl.dialects.builtin import ModuleOp

from kaena.errors import ModelImportError
from kaena.frontends.mxnet import (
    activations,
    contractions,
    conv,
    elementwise,
    layout,
    normalization,
    pooling,
    slicing,
)
from kaena.frontends.mxnet.core import Importer
from kaena.frontends.mxnet.params import read_params
from kaena.frontends.mxnet.symbol import read_symbol
from kaena.frontends.families import assemble

FAMILIES = (contractions, conv, pooling, normalization, activations, elementwise, layout, slicing)

# What `kaena-compile --list-operators` prints beside each operator comes with it.
CONVERTERS, OPERATOR_NOTES = assemble(FAMILIES)

SUPPORTED_OPERATORS = tuple(sorted(CONVERTERS))
SYMBOL_SUFFIX = "-symbol.json"


def list_operators() -> list[tuple[str, str]]:
    """(MXNet operator, limits) for everything the importer takes."""
    return [(op, OPERATOR_NOTES.get(op, "")) for op in SUPPORTED_OPERATORS]


def find_params(symbol_path: str | os.PathLike) -> str:
    """``NAME-symbol.json`` -> the newest ``NAME-NNNN.params`` beside it (highest epoch)."""
    path = os.fspath(symbol_path)
    directory, base = os.path.split(path)
    if not base.lower().endswith(SYMBOL_SUFFIX):
        raise ModelImportError(f"{path}: an MXNet symbol file is named NAME{SYMBOL_SUFFIX}; "
                               "pass the parameters explicitly with import_mxnet(symbol, params)")
    name = base[:-len(SYMBOL_SUFFIX)]
    pattern = re.compile(re.escape(name) + r"-(\d{4,})\.params\Z")
    try:
        entries = os.listdir(directory or ".")
    except OSError as e:
        raise ModelImportError(f"{path}: cannot list its directory ({e.strerror})") from None
    epochs = [(int(m.group(1)), entry) for entry in entries if (m := pattern.match(entry))]
    if not epochs:
        raise ModelImportError(
            f"{path}: no {name}-NNNN.params beside it; export the model with HybridBlock.export() "
            "(which writes both files) or pass the parameters with "
            "kaena.frontends.mxnet.import_mxnet(symbol, params)")
    return os.path.join(directory, max(epochs)[1])


def import_mxnet(symbol: str | os.PathLike, params: str | os.PathLike | None = None, *,
                 input_shapes: dict[str, list[int]] | None = None) -> ModuleOp:
    """Import an MXNet model (``NAME-symbol.json`` and its ``.params``, by default the
    newest ``NAME-NNNN.params`` beside it) as a ``builtin.module`` holding
    ``func.func @main`` in the ``fw`` dialect, its weights attached in memory.

    ``input_shapes`` gives each input's shape: MXNet symbols carry none (a
    ``__shape__`` attribute on an input is used when present).
    Raises ``ModelImportError``/``UnsupportedOperatorError`` for models Kaena cannot take.
    """
    source = os.fspath(symbol)
    if not os.path.isfile(source):
        raise ModelImportError(f"{source}: file not found; give the path of an MXNet NAME{SYMBOL_SUFFIX}")
    graph = read_symbol(source)
    weights = read_params(params if params is not None else find_params(source))
    return Importer(graph, weights, source, input_shapes, CONVERTERS).run()


def import_model(model: str | os.PathLike, *, input_shapes: dict[str, list[int]] | None = None,
                 example_inputs=None) -> ModuleOp:
    """The frontends' common entry point (``example_inputs`` is for traced frameworks;
    MXNet ignores it)."""
    if not isinstance(model, str | os.PathLike):
        raise ModelImportError(f"the MXNet frontend takes a NAME{SYMBOL_SUFFIX} path, not a "
                               f"{type(model).__name__}")
    return import_mxnet(model, input_shapes=input_shapes)
