"""What makes an ONNX model invalid (rather than unsupported): nodes that contradict
ONNX's definition of their operator, names that are not text, values read before or
defined more than once, what ONNX's strict inference rejects. An invalid model gets
"the model is invalid: ..." naming the node, never the advice to replace operators."""

from __future__ import annotations

import onnx
from xdsl.ir import Block

Problem = tuple[str, str, str]  # (node name, op type, why)


def _name(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def garbled_names(graph: onnx.GraphProto) -> list[Problem]:
    """Nodes and graph values whose names protobuf could not decode as UTF-8 (it hands them out as bytes)."""
    why = "a name or operator type is not valid UTF-8 text"
    problems = [(_name(node, i) if isinstance(node.name, str) else f"node {i}", repr(node.op_type), why)
                for i, node in enumerate(graph.node)
                if not all(isinstance(t, str) for t in (node.op_type, node.name, node.domain, *node.input,
                                                         *node.output))]
    problems += [("(graph)", repr(v.name), why) for v in (*graph.input, *graph.output, *graph.initializer)
                 if not isinstance(v.name, str)]
    return problems


def definition_problems(graph: onnx.GraphProto) -> list[Problem]:
    """Inputs read before anything produces them, values defined twice, node names used twice,
    graph outputs nothing produces or of no tensor type."""
    problems: list[Problem] = []
    inputs = [i.name for i in graph.input]
    known = set(inputs) | {t.name for t in graph.initializer} | {""}
    problems += [("(graph input)", n, "is declared twice") for n in sorted({n for n in inputs if inputs.count(n) > 1})]
    names: set[str] = set()
    for index, node in enumerate(graph.node):
        name = _name(node, index)
        problems += [(name, node.op_type, f"its input '{i}' is produced by no node, initializer or graph input "
                      "before it") for i in node.input if i not in known]
        problems += [(name, node.op_type, f"its output '{o}' is already defined (ONNX values are defined once)")
                     for o in node.output if o and o in known]
        if node.name and node.name in names:
            problems.append((name, node.op_type, "another node has the same name"))
        names.add(node.name)
        known.update(node.output)
    for out in graph.output:
        if out.name not in known:
            problems.append(("(graph output)", out.name, "produced by no node, initializer or graph input"))
        elif out.type.HasField("tensor_type") and out.type.tensor_type.elem_type not in onnx.TensorProto.DataType.values():
            problems.append(("(graph output)", out.name,
                             f"declared of element type {out.type.tensor_type.elem_type}, which ONNX does not have"))
    return problems


def strict_inference_problem(model: onnx.ModelProto) -> str | None:
    """What ONNX's strict shape and type inference (the checker's node checks) finds wrong
    with the nodes of ``model`` (weights as typed inputs, so big models check quickly), or None."""
    try:
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:  # noqa: BLE001 - InferenceError, ValidationError, ...
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        return f"ONNX's checker: {lines[0] if lines else type(e).__name__}"
    return None


def drop_detached_uses(block: Block) -> None:
    """Forget ops a converter built but never emitted (to ask a shape rule, or before it
    refused): they would stay users of the block's values, and a rewrite walking those
    uses would find an op that belongs to no block."""
    values = [*block.args, *(r for op in block.ops for r in op.results)]
    for value in values:
        for use in list(value.uses):
            if use.operation.parent is None:
                use.operation.drop_all_references()


def schema_problem(node: onnx.NodeProto, opset: int) -> str | None:
    """Why ``node`` contradicts ONNX's definition of its operator at ``opset`` (no such
    operator, an attribute it does not have, of another type, or a required one missing),
    or None. Operators of other domains, and ones newer than the opset, are not judged."""
    if node.domain not in ("", "ai.onnx"):
        return None
    if not onnx.defs.has(node.op_type):
        return f"'{node.op_type}' is not an ONNX operator"
    try:
        schema = onnx.defs.get_schema(node.op_type, max(opset, 1), "")
    except onnx.defs.SchemaError:
        return None
    for a in node.attribute:
        spec = schema.attributes.get(a.name)
        if spec is None:
            return f"{node.op_type} (opset {opset}) has no attribute '{a.name}'"
        if a.type != spec.type.value:
            given = onnx.AttributeProto.AttributeType.Name(a.type).lower()
            return f"attribute '{a.name}' is {given or 'untyped'}, ONNX's {node.op_type} takes {spec.type.name.lower()}"
    for what, count, low, high in (("inputs", len(node.input), schema.min_input, schema.max_input),
                                   ("outputs", len(node.output), schema.min_output, schema.max_output)):
        if not low <= count <= high:
            allowed = f"{low}" if low == high else f"{low} to {high}" if high < 2**31 - 1 else f"at least {low}"
            return f"it has {count} {what[:-1]}(s), ONNX's {node.op_type} (opset {opset}) takes {allowed}"
    optional = onnx.defs.OpSchema.FormalParameterOption.Optional
    for i, name in enumerate(node.input):
        formal = schema.inputs[min(i, len(schema.inputs) - 1)] if schema.inputs else None
        if not name and formal is not None and formal.option != optional:
            return f"input {i} ('{formal.name}') is empty, but ONNX's {node.op_type} requires it"
    given = {a.name for a in node.attribute}
    missing = [n for n, spec in schema.attributes.items() if spec.required and n not in given]
    if missing:
        return f"required attribute '{missing[0]}' is missing"
    return None
