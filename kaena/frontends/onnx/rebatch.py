"""``--batch-size B`` for ONNX: a model exported at batch 1 (or any batch) re-batched
before import, so one NEFF serves B inferences per run.

Every model input's leading dimension is the batch. Where the graph bakes the old
batch into a constant ``Reshape`` target (``[1, 2048]``, ``[1, 128, 12, 64]``) on a
value computed from the inputs, that dimension is rewritten; anything else that pins
the batch (a ``Concat`` with a batch-1 constant, a ``Gather`` along the batch, ...)
shows up as a shape-inference failure or an output that is not B-leading, and is
refused with the node or output named, never compiled into wrong numbers.
"""

from __future__ import annotations

import os
import re

import numpy as np
import onnx
from onnx import numpy_helper

from kaena.errors import ModelImportError
from kaena.frontends.onnx.loading import load, shape_only_copy

_ADVICE = ("export the model with a dynamic batch dimension (torch.onnx.export's dynamic_axes or "
           "dynamic_shapes) and give the batch with --input-shapes, or export it at the batch you want")


def rebatch(model: str | os.PathLike | onnx.ModelProto, batch: int, *,
            input_shapes: dict[str, list[int]] | None = None, example_inputs=None):
    """(the model with every input's leading dimension ``batch``, ``input_shapes`` with
    their leading dims made ``batch``, ``example_inputs``); a proto given is copied, not changed."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ModelImportError(f"--batch-size '{batch}' must be a positive number of inferences per run")
    source, proto, mapped = load(model)
    if mapped:  # the weights the scan left in the file: the re-batched model is a proto of its own
        proto = onnx.load(source)
    elif isinstance(model, onnx.ModelProto):
        proto = onnx.ModelProto()
        proto.CopyFrom(model)
    g = proto.graph
    inits = {t.name for t in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    shapes = dict(input_shapes or {})
    old = _old_batch(source, inputs, shapes)
    exported = shape_only_copy(proto)  # as exported: what a shape-inference failure is judged against
    _fix_inputs(exported, shapes)
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        if not dims and inp.name not in shapes:
            continue  # a scalar input has no batch
        if inp.name in shapes:
            shapes[inp.name] = [batch, *[int(d) for d in shapes[inp.name][1:]]]
        if dims:
            dims[0].Clear()
            dims[0].dim_value = batch
    if old is not None and old != batch:
        _rewrite_reshapes(proto, {i.name for i in inputs}, old, batch, _leading_dims(exported))
    for out in g.output:
        dims = out.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()  # inferred again below
    del g.value_info[:]
    _check_batched(source, proto, exported, batch, shapes)
    return proto, shapes, example_inputs


def _old_batch(source: str, inputs, shapes: dict[str, list[int]]) -> int | None:
    """The batch the model was exported at (None: every leading dim is dynamic)."""
    leading: dict[str, int] = {}
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        if inp.name in shapes and shapes[inp.name]:
            leading[inp.name] = int(shapes[inp.name][0])
        elif dims and dims[0].HasField("dim_value") and dims[0].dim_value > 0:
            leading[inp.name] = dims[0].dim_value
    if not any(inp.type.tensor_type.shape.dim or inp.name in shapes for inp in inputs):
        raise ModelImportError(f"{source}: --batch-size: no model input has a batch dimension (all are scalars)")
    if len(set(leading.values())) > 1:
        listed = ", ".join(f"'{n}' {d}" for n, d in sorted(leading.items()))
        raise ModelImportError(
            f"{source}: --batch-size: the inputs' leading dimensions differ ({listed}), so none of them is "
            f"clearly the batch; {_ADVICE}")
    return next(iter(leading.values()), None)


def _constant_of(proto: onnx.ModelProto, name: str) -> np.ndarray | None:
    for t in proto.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for node in proto.graph.node:
        if node.op_type == "Constant" and name in node.output:
            for a in node.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
    return None


def _fix_inputs(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> None:
    """Give the inputs of a shape-only copy the shapes ``input_shapes`` names."""
    for inp in model.graph.input:
        if inp.name in shapes:
            dims = inp.type.tensor_type.shape.dim
            del dims[:]
            for d in shapes[inp.name]:
                dims.add().dim_value = int(d)


def _leading_dims(exported: onnx.ModelProto) -> dict[str, int]:
    """Each value's inferred leading dimension in the model as exported."""
    try:
        model = onnx.shape_inference.infer_shapes(exported, data_prop=True)
    except Exception:
        return {}
    out = {}
    for vi in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value"):
            out[vi.name] = dims[0].dim_value
    return out


def _rewrite_reshapes(proto: onnx.ModelProto, input_names: set[str], old: int, batch: int,
                      leading: dict[str, int]) -> None:
    """Each ``Reshape`` of an input-dependent value to a constant target whose leading
    entry is the old batch (and whose data leads with it) gets a target leading with ``batch``."""
    g = proto.graph
    dependent = set(input_names)
    taken = {t.name for t in g.initializer} | {o for n in g.node for o in n.output}
    for node in g.node:  # graph.node is topologically sorted (ONNX requires it)
        if any(i in dependent for i in node.input):
            dependent.update(node.output)
        if node.op_type != "Reshape" or len(node.input) < 2 or node.input[0] not in dependent:
            continue
        target = _constant_of(proto, node.input[1])
        if target is None or target.ndim != 1 or target.size == 0 or int(target[0]) != old:
            continue
        if leading.get(node.input[0]) != old:
            continue
        new = target.astype(np.int64).copy()
        new[0] = batch
        name = f"{node.input[1]}.batch{batch}"
        while name in taken:
            name += "_"
        taken.add(name)
        g.initializer.append(numpy_helper.from_array(new, name))
        node.input[1] = name


def _check_batched(source: str, proto: onnx.ModelProto, exported: onnx.ModelProto, batch: int,
                   shapes: dict[str, list[int]]) -> None:
    """Shape inference must accept the re-batched graph and every output must lead with ``batch``."""
    model = shape_only_copy(proto)
    _fix_inputs(model, shapes)
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:
        if not _infers_strictly(exported):
            return  # ONNX cannot check this graph even as exported: the importer's own checks decide
        raise ModelImportError(
            f"{source}: --batch-size {batch}: the graph does not re-batch ({_inference_failure(e)}): it bakes "
            f"the exported batch into a shape. {_ADVICE}") from None
    for out in model.graph.output:
        dims = out.type.tensor_type.shape.dim
        lead = dims[0].dim_value if dims and dims[0].HasField("dim_value") else None
        if lead is not None and lead != batch:
            raise ModelImportError(
                f"{source}: --batch-size {batch}: output '{out.name}' leads with {lead}, not the batch: the "
                f"graph mixes samples or pins the batch. {_ADVICE}")


def _infers_strictly(exported: onnx.ModelProto) -> bool:
    """Whether strict shape inference accepts the model at the batch it was exported with."""
    try:
        onnx.shape_inference.infer_shapes(exported, strict_mode=True, data_prop=True)
    except Exception:
        return False
    return True


def _inference_failure(error: Exception) -> str:
    """ONNX shape inference's complaint as ``node 'X' (Op): why`` (its first one)."""
    text = str(error) or type(error).__name__
    found = re.search(r"\(op_type:(\w+), node name: ([^)]*)\): (?:\[\w+\] )?([^\n]*)", text)
    if found:
        op, name, why = found.groups()
        return f"node '{name}' ({op}): {why.strip()}"
    return text.splitlines()[0]
