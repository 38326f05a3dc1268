"""MXNet -> ``fw``, reading MXNet's own files (the symbol JSON in ``symbol``, the
NDArray list ``.params`` in ``params``) without importing MXNet; the core (the
module builder, attributes, input shapes, the collection of every unsupported
node) in ``core``, one module per operator family registering its converters,
assembled in ``importer``."""

from kaena.frontends.mxnet.importer import (
    OPERATOR_NOTES,
    SUPPORTED_OPERATORS,
    find_params,
    import_model,
    import_mxnet,
    list_operators,
)
from kaena.frontends.mxnet.params import read_params
from kaena.frontends.mxnet.symbol import read_symbol

__all__ = ["OPERATOR_NOTES", "SUPPORTED_OPERATORS", "find_params", "import_model", "import_mxnet",
           "list_operators", "read_params", "read_symbol"]
