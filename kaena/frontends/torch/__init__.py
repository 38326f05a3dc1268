"""PyTorch -> ``fw``: a ``torch.nn.Module`` (exported with example inputs), a
``torch.export.ExportedProgram`` or a ``.pt2`` file, decomposed to core ATen.
The core (loading, folding, the builder, the error collection) is in ``core``,
one module per operator family registers its converters, ``importer`` assembles
them. ``kaena.trace`` (``kaena/torch_trace.py``) sits above, at the runtime's level."""

from kaena.frontends.torch.core import CONTROL_FLOW_REASON
from kaena.frontends.torch.program import node_source
from kaena.frontends.torch.rebatch import rebatch
from kaena.frontends.torch.importer import (
    OPERATOR_NOTES,
    SUPPORTED_OPERATORS,
    import_model,
    import_torch,
    list_operators,
)

__all__ = ["CONTROL_FLOW_REASON", "OPERATOR_NOTES", "SUPPORTED_OPERATORS", "import_model", "import_torch",
           "list_operators", "node_source", "rebatch"]
