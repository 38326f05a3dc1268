"""Compatibility name of the ONNX importer, now the package ``kaena.frontends.onnx``.

``from kaena.frontends.onnx_importer import import_onnx, SUPPORTED_OPERATORS,
list_operators`` keeps working. The name is the importer's core module itself
(not a copy of its names), so patching ``onnx_importer.attach`` in a test still
reaches the importer."""

import sys

from kaena.frontends.onnx import core as _core
from kaena.frontends.onnx.importer import (  # noqa: F401  (re-exported on the core module)
    OPERATOR_NOTES,
    SUPPORTED_OPERATORS,
    import_onnx,
    list_operators,
)

for _name in ("OPERATOR_NOTES", "SUPPORTED_OPERATORS", "import_onnx", "list_operators"):
    setattr(_core, _name, globals()[_name])
sys.modules[__name__] = _core
