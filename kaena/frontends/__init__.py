"""Model importers: each turns a framework's file into a module in the ``fw`` dialect."""

from kaena.frontends.onnx import SUPPORTED_OPERATORS, import_onnx

__all__ = ["SUPPORTED_OPERATORS", "import_onnx"]
