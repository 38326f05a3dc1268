"""Constants and import-time shape arithmetic."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from kaena.frontends.onnx.core import Importer, Unsupported, attrs


def _constant(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    if "value" in at:
        value = numpy_helper.to_array(at["value"])
    elif "value_float" in at:
        value = np.array(at["value_float"], np.float32)
    elif "value_floats" in at:
        value = np.array(at["value_floats"], np.float32)
    elif "value_int" in at:
        value = np.array(at["value_int"], np.int64)
    elif "value_ints" in at:
        value = np.array(at["value_ints"], np.int64)
    else:
        raise Unsupported(f"Constant with attribute(s) {', '.join(at)} is not supported")
    imp.consts[node.output[0]] = value


CONVERTERS = {
    "Constant": ({"value", "value_float", "value_floats", "value_int", "value_ints"}, _constant),
}
NOTES: dict[str, str] = {}
