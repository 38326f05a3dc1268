"""ONNX -> ``fw``: the core (loading, shape inference, the module builder, the
collection of every unsupported node) in ``core``, one module per operator
family registering its converters, assembled in ``importer``."""

from kaena.frontends.onnx.core import CONTROL_FLOW_REASON, node_name
from kaena.frontends.onnx.importer import OPERATOR_NOTES, SUPPORTED_OPERATORS, import_model, import_onnx, list_operators
from kaena.frontends.onnx.rebatch import rebatch

__all__ = ["CONTROL_FLOW_REASON", "OPERATOR_NOTES", "SUPPORTED_OPERATORS", "import_model", "import_onnx",
           "list_operators", "node_name", "rebatch"]
