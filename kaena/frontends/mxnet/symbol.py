"""MXNet's symbol JSON (``*-symbol.json``, ``Symbol.tojson``), read natively.

The graph is a list of ``nodes`` in topological order, each ``{"op", "name",
"attrs", "inputs"}`` with string-valued attributes (``"attr"``/``"param"`` in
files from MXNet before 1.0) and inputs ``[node index, output index, version]``;
``op: "null"`` nodes are variables (inputs and parameters), listed again in
``arg_nodes``; ``heads`` are the outputs. Everything is validated here (types,
indexes pointing backwards, outputs in range) so the importer can trust it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from kaena.errors import ModelImportError


@dataclass(frozen=True)
class Node:
    index: int
    op: str
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    inputs: tuple[tuple[int, int], ...] = ()

    @property
    def is_variable(self) -> bool:
        return self.op == "null"


@dataclass(frozen=True)
class Symbol:
    source: str
    nodes: tuple[Node, ...]
    heads: tuple[tuple[int, int], ...]
    mxnet_version: int | None = None


def _fail(source: str, why: str) -> ModelImportError:
    return ModelImportError(
        f"{source}: not a valid MXNet symbol file ({why}); export the model with "
        "HybridBlock.export() or Symbol.save()"
    )


def _entry(source: str, raw, where: str, limit: int) -> tuple[int, int]:
    """A [node, output(, version)] reference to a node before ``limit``."""
    if (not isinstance(raw, list) or len(raw) not in (2, 3)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)):
        raise _fail(source, f"{where} is {json.dumps(raw)[:60]}, not [node, output, version]")
    node, output = raw[0], raw[1]
    if not 0 <= node < limit:
        within = f"outside 0..{limit - 1}" if where.startswith("head") else "not a node before it"
        raise _fail(source, f"{where} refers to node {node}, {within}")
    if output < 0:
        raise _fail(source, f"{where} has a negative output index {output}")
    return node, output


def _attrs(source: str, raw: dict, where: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for key in ("param", "attr", "attrs"):  # old files: "param"/"attr"; later keys win
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise _fail(source, f"{where} '{key}' is not an object")
        for k, v in value.items():
            if not isinstance(v, str):
                raise _fail(source, f"{where} attribute '{k}' is not a string")
            attrs[k] = v
    return attrs


def parse_symbol(text: str, source: str = "<symbol>") -> Symbol:
    try:
        graph = json.loads(text)
    except ValueError as e:
        raise _fail(source, f"bad JSON: {e}") from None
    except RecursionError:
        raise _fail(source, "JSON nested too deeply") from None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list) \
            or not isinstance(graph.get("heads"), list):
        raise _fail(source, "no 'nodes' and 'heads' lists")
    nodes = []
    for index, raw in enumerate(graph["nodes"]):
        where = f"node {index}"
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) \
                or not isinstance(raw.get("name"), str):
            raise _fail(source, f"{where} has no string 'op' and 'name'")
        inputs = raw.get("inputs", [])
        if not isinstance(inputs, list):
            raise _fail(source, f"{where} ('{raw['name']}') inputs are not a list")
        where = f"node {index} ('{raw['name']}')"
        entries = tuple(_entry(source, e, f"{where} input {i}", index) for i, e in enumerate(inputs))
        if raw["op"] == "null" and entries:
            raise _fail(source, f"variable {where} has inputs")
        nodes.append(Node(index, raw["op"], raw["name"], _attrs(source, raw, where), entries))
    if not nodes:
        raise _fail(source, "the graph has no nodes")
    heads = tuple(_entry(source, h, f"head {i}", len(nodes)) for i, h in enumerate(graph["heads"]))
    if not heads:
        raise _fail(source, "the graph has no outputs ('heads' is empty)")
    arg_nodes = graph.get("arg_nodes", [])
    if not isinstance(arg_nodes, list) or any(
            not isinstance(i, int) or not 0 <= i < len(nodes) or not nodes[i].is_variable
            for i in arg_nodes):
        raise _fail(source, "'arg_nodes' must list the indexes of variable nodes")
    version = None
    attrs = graph.get("attrs", {})
    if isinstance(attrs, dict):
        v = attrs.get("mxnet_version")
        if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int):
            version = v[1]
    return Symbol(source, tuple(nodes), heads, version)


def read_symbol(path: str | os.PathLike) -> Symbol:
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelImportError(f"{path}: cannot read the MXNet symbol ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(path, "not UTF-8 text") from None
    return parse_symbol(text, path)
