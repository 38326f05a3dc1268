"""Reading an ONNX model for the importer: the file (its weights left mapped in it),
the checks that it is a model at all, and the weight-free copy shape inference reads."""

from __future__ import annotations

import math
import os

import onnx
from onnx import TensorProto

from kaena.errors import ModelImportError
from kaena.frontends.onnx.initializers import read_model
from kaena.weights import MappedArray

CONTROL_FLOW = frozenset(("If", "Loop", "Scan"))


def load(model: str | os.PathLike | onnx.ModelProto) -> tuple[str, onnx.ModelProto, dict[int, MappedArray]]:
    """(source, proto, the initializers left in the file by index: ``initializers.read_model``)."""
    if isinstance(model, onnx.ModelProto):
        return (model.graph.name or "<onnx model>"), model, {}
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ModelImportError(f"{path}: file not found; give the path of an .onnx model")
    try:
        proto, mapped = read_model(path)
    except ModelImportError as e:
        raise ModelImportError(f"{path}: {e.message}") from None
    except Exception as e:  # protobuf DecodeError, external data errors, ...
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(
            f"{path}: not a readable ONNX model ({reason}); re-export it or check the file is complete"
        ) from None
    if not proto.HasField("graph") or proto.ir_version <= 0 or not proto.opset_import:
        raise ModelImportError(
            f"{path}: not an ONNX model (no graph, IR version or opset); "
            "re-export it or check the file is complete"
        )
    return path, proto, mapped


# Initializers at most this many elements keep their data for shape inference's data
# propagation (shape tensors, axes, pads); larger ones (weights) travel as typed inputs.
_SHAPE_DATA_ELEMENTS = 64


def ir3_problem(proto: onnx.ModelProto) -> str | None:
    """Before IR version 4 every initializer is also a graph input, and ONNX's shape inference
    reads one that is not as unknown: why a model breaking that rule is invalid, or None.
    (Checked only when the model does not import: onnxruntime runs such models anyway.)"""
    if proto.ir_version >= 4:
        return None
    inputs = {i.name for i in proto.graph.input}
    stray = next((t.name for t in proto.graph.initializer if t.name not in inputs), None)
    if stray is None:
        return None
    return (f"it declares IR version {proto.ir_version}, where every initializer must also be a graph input, "
            f"and initializer '{stray}' is not (set ir_version to the one its opset needs)")


def shape_only_copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The model as shape inference needs it: every node, but weights as typed graph
    inputs instead of data, so inferring ResNet-50's shapes copies and serialises
    kilobytes rather than its 100 MB of weights."""
    model = onnx.ModelProto()
    for field in ("ir_version", "producer_name", "producer_version", "domain", "model_version"):
        setattr(model, field, getattr(proto, field))
    model.opset_import.extend(proto.opset_import)
    model.functions.extend(proto.functions)
    src, g = proto.graph, model.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    g.sparse_initializer.extend(src.sparse_initializer)
    declared = {i.name for i in src.input}
    for t in src.initializer:
        if t.data_location == TensorProto.EXTERNAL or math.prod(t.dims) > _SHAPE_DATA_ELEMENTS:
            if t.name not in declared:
                g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        else:
            g.initializer.append(t)
    return model
