"""The importer's public face: the operator table assembled from the family
modules, ``import_model``, ``list_operators`` and the ``--list-operators`` notes."""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from kaena.frontends.tensorflow import (
    activations,
    contractions,
    conv,
    elementwise,
    layout,
    normalization,
    pooling,
)
from kaena.frontends.tensorflow.core import PASS_THROUGH, Importer
from kaena.frontends.families import assemble

FAMILIES = (contractions, conv, pooling, elementwise, activations, normalization, layout)

# What `kaena-compile --list-operators` prints beside each operator comes with it.
CONVERTERS, OPERATOR_NOTES = assemble(FAMILIES)

SUPPORTED_OPERATORS = tuple(sorted(CONVERTERS))


def list_operators() -> list[tuple[str, str]]:
    """(TensorFlow op, note) for every op the importer takes: converters,
    pass-through ops and what folds at import."""
    rows = [(op, OPERATOR_NOTES.get(op, "")) for op in SUPPORTED_OPERATORS]
    rows += [(op, "passed through (inference)") for op in sorted(PASS_THROUGH)]
    rows += [("Const", "a weight beside the IR, or folded"),
             ("Shape", "folded at import (static shapes); so is any op computed from constants only")]
    return sorted(rows)


def import_model(model, *, input_shapes: dict[str, list[int]] | None = None, example_inputs=None) -> ModuleOp:
    """Import a SavedModel directory, a frozen GraphDef ``.pb``, a ``.keras``
    file or a live ``tf.keras.Model`` as a ``builtin.module`` holding ``func.func
    @main`` in the ``fw`` dialect, its weights attached in memory.

    ``input_shapes`` (or ``example_inputs``' shapes) fixes dynamic dims such as
    the batch. Raises ``ModelImportError``/``UnsupportedOperatorError``.
    """
    from kaena.frontends.tensorflow.load import load

    frozen = load(model, input_shapes, example_inputs)
    shapes = dict(input_shapes or {})
    if example_inputs is not None and not shapes:
        import numpy as np

        values = example_inputs if isinstance(example_inputs, list | tuple) else [example_inputs]
        if isinstance(example_inputs, dict):
            shapes = {k: list(np.shape(v)) for k, v in example_inputs.items()}
        else:
            shapes = {n: list(np.shape(v)) for n, v in zip(frozen.input_names, values)}
    return Importer(frozen, shapes, CONVERTERS).run()
