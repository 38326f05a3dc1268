"""The PyTorch program: getting a ``torch.export.ExportedProgram`` (exporting a module,
loading a ``.pt2``), deciding whether it needs the core-ATen decomposition, and how
its nodes are named in ``kaena.source`` and in messages."""

from __future__ import annotations

import logging
import os
import re

import torch
import torch.utils._pytree as pytree
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind

from kaena.errors import ModelImportError

# Core ATen, except what the converters take whole: scaled_dot_product_attention
# decomposes into a masked-softmax guard (any/logical_not/where) Kaena has no use for.
KEPT_WHOLE = ("scaled_dot_product_attention", "_scaled_dot_product_flash_attention_for_cpu",
              "_scaled_dot_product_attention_math")


# --- loading --------------------------------------------------------------------------------


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def example_args(example_inputs) -> tuple[tuple, dict]:
    """(args, kwargs) for ``torch.export`` from a tensor, a tuple/list or a dict of kwargs."""
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,), {}
    if isinstance(example_inputs, dict):
        return (), dict(example_inputs)
    if isinstance(example_inputs, list | tuple):
        return tuple(example_inputs), {}
    raise ModelImportError(
        f"example_inputs must be a tensor, a tuple of tensors or a dict of keyword tensors, "
        f"got {type(example_inputs).__name__}"
    )


def export(module: torch.nn.Module, example_inputs) -> ExportedProgram:
    """``torch.export.export`` in eval mode (BatchNorm and Dropout as at inference), errors as one line."""
    name = type(module).__name__
    if example_inputs is None:
        raise ModelImportError(
            f"{name}: a torch.nn.Module needs example inputs to be exported: "
            "kaena.compile(module, example_inputs=(x,)) or kaena.trace(module, (x,))"
        )
    args, kwargs = example_args(example_inputs)
    was_training = module.training
    module.eval()
    try:
        return torch.export.export(module, args, kwargs)
    except Exception as e:
        raise ModelImportError(
            f"{name}: torch.export failed ({_one_line(e)}); make the model exportable (data-dependent "
            "Python control flow becomes torch.cond, which Kaena then names) or export it yourself"
        ) from None
    finally:
        module.train(was_training)


def load(model, example_inputs) -> tuple[str, ExportedProgram]:
    """(source for messages, exported program) from a module, a program or a .pt2 path."""
    if isinstance(model, ExportedProgram):
        return "<torch.export.ExportedProgram>", model
    if isinstance(model, torch.nn.Module):
        return type(model).__name__, export(model, example_inputs)
    if isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise ModelImportError(f"{path}: file not found; give the path of a .pt2 file from torch.export.save")
        quiet = logging.getLogger("torch.export")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # torch logs the traceback of a failed load before raising
        try:
            return path, torch.export.load(path)
        except Exception as e:
            raise ModelImportError(
                f"{path}: not a readable torch.export program ({_one_line(e)}); save it with torch.export.save "
                f"from torch {torch.__version__.split('+')[0]}"
            ) from None
        finally:
            quiet.setLevel(level)
    raise ModelImportError(
        f"cannot import a {type(model).__name__} with the torch frontend: pass a torch.nn.Module with "
        "example inputs, a torch.export.ExportedProgram or a .pt2 path"
    )


def _is_view(node: torch.fx.Node) -> bool:
    """A view op (``view``, ``permute``...): its result shares its input's storage. (An in-place
    op's result aliases its input too, but that input is never read again: see below.)"""
    target = node.target
    if not isinstance(target, torch._ops.OpOverload) or not target._schema.returns:
        return False
    alias = target._schema.returns[0].alias_info
    return alias is not None and not alias.is_write


def in_place_is_functional(node: torch.fx.Node, order: dict[torch.fx.Node, int]) -> bool:
    """Whether an in-place op (``relu_``, ``add_``) can be imported as its functional form:
    each tensor it writes is an intermediate value (not an input, not a view) that nothing
    reads afterwards, directly or through a view."""
    schema = node.target._schema
    for arg, value in zip(schema.arguments, node.args):
        if arg.alias_info is None or not arg.alias_info.is_write:
            continue
        if not isinstance(value, torch.fx.Node) or value.op != "call_function" or _is_view(value):
            return False
        if any(order[u] > order[node] or _is_view(u) for u in value.users if u is not node):
            return False
    return bool(schema.returns)


def converter_key(node: torch.fx.Node, order: dict[torch.fx.Node, int]) -> str | None:
    """The converter table's key for ``node``; an in-place op maps to its functional form
    (``aten.relu_`` -> ``aten.relu``) when that is safe, else None."""
    target = node.target
    if isinstance(target, torch._ops.OpOverload) and target._schema.is_mutable:
        if not target._opname.endswith("_") or not in_place_is_functional(node, order):
            return None
        return op_key(node)[:-1]
    return op_key(node)


def needs_decomposition(ep: ExportedProgram, converters: dict) -> bool:
    """Whether the export's own IR has a node the converters cannot take as is: an in-place
    op (``relu_``; decomposing functionalizes it) or an op without a converter, on a run-time
    value (nodes of constants only are evaluated at import). Decomposing re-traces the
    program, seconds for a small CNN, so a graph that converts whole skips it."""
    user = {s.arg.name for s in ep.graph_signature.input_specs if s.kind == InputKind.USER_INPUT}
    order = {n: i for i, n in enumerate(ep.graph.nodes)}
    runtime: set[str] = set()
    for node in ep.graph.nodes:
        if node.op == "placeholder" and node.name in user:
            runtime.add(node.name)
        if node.op != "call_function":
            continue
        if isinstance(node.target, torch._ops.OpOverload) and converter_key(node, order) is None:
            return True  # an in-place write to an input or a value read again
        if not any(n.name in runtime for n in node.all_input_nodes):
            continue
        runtime.add(node.name)
        if isinstance(node.target, torch._ops.OpOverload) and converter_key(node, order) not in converters:
            return True
    return False


def decompose(ep: ExportedProgram, source: str) -> ExportedProgram:
    """Core ATen, keeping ``KEPT_WHOLE`` ops for their converters."""
    table = torch.export.default_decompositions()
    for key in list(table):
        if getattr(key, "_opname", None) in KEPT_WHOLE:
            del table[key]
    try:
        return ep.run_decompositions(table)
    except Exception as e:
        raise ModelImportError(f"{source}: decomposing to core ATen failed ({_one_line(e)})") from None


# --- naming -------------------------------------------------------------------------------


def op_name(node: torch.fx.Node) -> str:
    """``aten.convolution.default`` for an ATen overload, the callable's name otherwise."""
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        return str(target)
    if isinstance(target, torch._ops.HigherOrderOperator):
        return f"torch.{target.name()}"
    return getattr(target, "__name__", str(target))


def op_key(node: torch.fx.Node) -> str:
    """The converter table's key: the overload packet (``aten.convolution``)."""
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._opname}"
    return op_name(node)


def module_path(node: torch.fx.Node) -> str:
    """The submodule a node comes from (``encoder.layer.0.attention.self``), or ''."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path, _cls = list(stack.values())[-1]
    return path if isinstance(path, str) else ""


def node_source(node: torch.fx.Node) -> str:
    """How Kaena names a node (``kaena.source``, messages): ``<module path>/<FX name>``."""
    path = module_path(node)
    return f"{path}/{node.name}" if path else node.name


def source_line(node: torch.fx.Node) -> str:
    """`` at modeling_bert.py:178`` from the node's stack trace (its innermost frame), or ''."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', node.meta.get("stack_trace") or "")
    if not frames:
        return ""
    path, line = frames[-1]
    return f" at {os.path.basename(path)}:{line}"


def sanitize(name: str) -> str | None:
    hint = re.sub(r"[^\w$.-]", "_", name)
    if not hint:
        return None
    return "v" + hint if hint[0].isdigit() else hint


def _output_names(spec: pytree.TreeSpec, prefix: str = "") -> list[str]:
    """One name per output leaf from the output's structure: a dict or ModelOutput
    gives its keys (``last_hidden_state``), a tuple ``output_0``..."""
    if spec.is_leaf():
        return [prefix or "output"]
    keys = spec.context if isinstance(spec.context, list | tuple) else None
    names = []
    for i, child in enumerate(list(spec.children())):
        key = str(keys[i]) if keys is not None and len(keys) == len(list(spec.children())) else str(i)
        if not prefix and not keys:
            key = f"output_{i}"
        names += _output_names(child, f"{prefix}.{key}" if prefix else key)
    return names


def output_names(ep: ExportedProgram, count: int) -> list[str]:
    try:
        names = _output_names(ep.call_spec.out_spec)
    except Exception:
        names = []
    if len(names) != count or len(set(names)) != count:
        names = [f"output_{i}" for i in range(count)] if count > 1 else ["output"]
    return names
