"""TensorFlow -> ``fw``: loading and freezing in ``load`` (TensorFlow is
imported only there, on first use), the graph walk, folding and layouts in
``core``, one module per op family registering its converters, assembled in
``importer``."""

from kaena.frontends.tensorflow.core import CONTROL_FLOW_REASON
from kaena.frontends.tensorflow.importer import (
    OPERATOR_NOTES,
    SUPPORTED_OPERATORS,
    import_model,
    list_operators,
)

__all__ = ["CONTROL_FLOW_REASON", "OPERATOR_NOTES", "SUPPORTED_OPERATORS", "import_model", "list_operators"]
