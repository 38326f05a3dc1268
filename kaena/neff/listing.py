"""A readable NEFF listing (``kaena-neff disasm``) and its assembler (``asm``).

One line per instruction record, every non-default field spelled out, so that
disasm -> asm rebuilds the instruction streams byte for byte; hand-written
listings are exact programs for the simulator. The grammar is ``GRAMMAR``
(lark); ``docs/neff-format.md`` describes the syntax.
"""

from __future__ import annotations

import json
import math

import lark
import numpy as np

from kaena.errors import NeffError
from kaena.isa import (
    AP_DTYPE,
    MAX_FREE_DIMS,
    ActFunc,
    AluOp,
    DType,
    Engine,
    Flags,
    Mem,
    Opcode,
    empty_records,
)
from kaena.neff.model import Neff, Subgraph, TensorSpec, Variable

# --------------------------------------------------------------------------
# disassembler
# --------------------------------------------------------------------------

_AP_FIELDS = ("out", "in0", "in1")


def _float(x: float) -> str:
    v = np.float32(x)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "ninf"
    text = str(v)  # numpy prints the shortest string that reads back as the same float32
    return text if np.float32(text).tobytes() == v.tobytes() else repr(float(v))


def _format_ap(ap: np.void) -> str:
    mem = Mem(int(ap["mem"]))
    nd = int(ap["ndims"])
    parts = [f"{mem.name.lower()}", DType(int(ap["dtype"])).short]
    if mem == Mem.DRAM:
        parts.append(f"var={int(ap['var'])}")
    elif int(ap["var"]):
        parts.append(f"var={int(ap['var'])}")
    parts.append(f"p={int(ap['start_partition'])}")
    parts.append(f"n={int(ap['num_partitions'])}")
    if int(ap["partition_stride"]):
        parts.append(f"ps={int(ap['partition_stride'])}")
    parts.append(f"off={int(ap['offset'])}")
    dims = [f"{int(ap['counts'][k])}:{int(ap['strides'][k])}" for k in range(MAX_FREE_DIMS)]
    # unused dims are normally count 1 stride 0; print them only when not
    used = nd
    for k in range(nd, MAX_FREE_DIMS):
        if int(ap["counts"][k]) != 1 or int(ap["strides"][k]) != 0:
            used = k + 1
    parts.append(f"nd={nd}")
    parts.append("[" + " ".join(dims[:used]) + "]")
    return "(" + " ".join(parts) + ")"


def format_record(rec: np.void) -> str:
    op = Opcode(int(rec["opcode"]))
    fields = [op.name.lower()]
    if int(rec["flags"]):
        fields.append(f"flags={int(rec['flags'])}")
    if op == Opcode.ACTIVATE or int(rec["func"]):
        fields.append(f"func={ActFunc(int(rec['func'])).name.lower()}")
    if op in (Opcode.TENSOR_TENSOR, Opcode.TENSOR_SCALAR, Opcode.REDUCE) or int(rec["alu"]):
        fields.append(f"alu={AluOp(int(rec['alu'])).name.lower()}")
    if int(rec["axes"]):
        fields.append(f"axes={int(rec['axes'])}")
    if op in (Opcode.SEM_SIGNAL, Opcode.SEM_WAIT) or int(rec["sem"]):
        fields.append(f"sem={int(rec['sem'])}")
    if int(rec["sem_value"]):
        fields.append(f"value={int(rec['sem_value'])}")
    if np.float32(rec["scale"]).tobytes() != np.float32(1.0).tobytes():
        fields.append(f"scale={_float(rec['scale'])}")
    if np.float32(rec["imm"]).tobytes() != np.float32(0.0).tobytes():
        fields.append(f"imm={_float(rec['imm'])}")
    for name in _AP_FIELDS:
        ap = rec[name]
        blank = empty_records(1)[0][name]
        if ap.tobytes() != blank.tobytes():
            fields.append(f"{name}={_format_ap(ap)}")
    fields.append(f"tag={int(rec['tag'])}")
    return " ".join(fields)


def disassemble(neff: Neff) -> str:
    """The whole NEFF as a listing: header, variables, then per core per engine records."""
    lines = [
        f"neff {json.dumps(neff.name)} version {neff.version[0]}.{neff.version[1]} "
        f"compiler {json.dumps(neff.compiler_version)}",
    ]
    for spec in neff.inputs:
        lines.append(f"input {json.dumps(spec.name)} {_shape(spec.shape)} {spec.dtype}")
    for spec in neff.outputs:
        lines.append(f"output {json.dumps(spec.name)} {_shape(spec.shape)} {spec.dtype}")
    for sg in neff.subgraphs:
        lines.append("")
        lines.append(f"core {sg.core} sbuf_peak {sg.sbuf_peak_bytes} psum_peak {sg.psum_peak_bytes}")
        for i, v in enumerate(sg.variables):
            lines.append(f"  var {i} {v.kind} {json.dumps(v.name)} {_shape(v.shape)} {v.dtype}")
        for engine in Engine:
            records = sg.stream(engine)
            lines.append(f"  engine {engine.stream_name}  ; {len(records)} instructions")
            for i, rec in enumerate(records):
                lines.append(f"    {i}: {format_record(rec)}")
    return "\n".join(lines) + "\n"


def _shape(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


# --------------------------------------------------------------------------
# assembler
# --------------------------------------------------------------------------

GRAMMAR = r"""
start: header io* core*
header: "neff" STRING "version" INT "." INT "compiler" STRING
io: IOKIND STRING shape NAME
core: "core" INT "sbuf_peak" INT "psum_peak" INT var* engine*
var: "var" INT VARKIND STRING shape NAME
engine: "engine" NAME instr*
instr: INT ":" NAME field*
field: NAME "=" value
value: SIGNED_NUMBER      -> number
     | NAME               -> name
     | ap                 -> ap
ap: "(" NAME NAME apfield* dims apfield* ")"
apfield: NAME "=" SIGNED_INT
dims: "[" dim* "]"
dim: INT ":" SIGNED_INT
shape: "[" [INT ("," INT)*] "]"

IOKIND: "input" | "output"
VARKIND: "input" | "output" | "file" | "tmp-buf" | "state-buffer"
COMMENT: ";" /[^\n]*/
%import common.ESCAPED_STRING -> STRING
%import common.INT
%import common.SIGNED_INT
%import common.SIGNED_NUMBER
%import common.CNAME -> NAME
%import common.WS
%ignore WS
%ignore COMMENT
"""

_PARSER: lark.Lark | None = None
_SPECIAL_FLOATS = {"nan": "nan", "inf": "inf", "ninf": "-inf"}


def _parser() -> lark.Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = lark.Lark(GRAMMAR, parser="lalr", propagate_positions=True)
    return _PARSER


def _enum(enum_cls, name: str, what: str, line: int):
    try:
        return enum_cls[name.upper()]
    except KeyError:
        choices = ", ".join(e.name.lower() for e in enum_cls)
        raise NeffError(f"line {line}: unknown {what} '{name}' (one of {choices})") from None


def _int(tok) -> int:
    return int(str(tok))


def _set_ap(dst: np.ndarray, tree: lark.Tree, line: int) -> None:
    mem_tok, dtype_tok, *rest = tree.children
    dst["mem"] = _enum(Mem, str(mem_tok), "memory", line)
    dst["dtype"] = _enum(DType, str(dtype_tok), "dtype", line)
    dims_tree = next(c for c in rest if isinstance(c, lark.Tree) and c.data == "dims")
    dims = [(int(d.children[0]), int(d.children[1])) for d in dims_tree.children]
    if len(dims) > MAX_FREE_DIMS:
        raise NeffError(f"line {line}: at most {MAX_FREE_DIMS} dims")
    dst["ndims"] = len(dims)
    for k, (count, stride) in enumerate(dims):
        dst["counts"][0, k] = count
        dst["strides"][0, k] = stride
    keys = {"var": "var", "p": "start_partition", "n": "num_partitions", "ps": "partition_stride",
            "off": "offset"}
    for f in rest:
        if not (isinstance(f, lark.Tree) and f.data == "apfield"):
            continue
        key, val = str(f.children[0]), f.children[1]
        if key == "nd":
            dst["ndims"] = _int(val)
        elif key in keys:
            dst[keys[key]] = _int(val)
        else:
            raise NeffError(f"line {line}: unknown access-pattern field '{key}'")


def _assemble_instr(tree: lark.Tree) -> np.ndarray:
    line = tree.meta.line
    rec = empty_records(1)
    r = rec[0]
    name, *fields = tree.children[1:]
    r["opcode"] = _enum(Opcode, str(name), "opcode", line)
    for f in fields:
        key = str(f.children[0])
        val = f.children[1]
        kind = val.data
        if kind == "ap":
            if key not in _AP_FIELDS:
                raise NeffError(f"line {line}: '{key}' is not an operand (out, in0, in1)")
            _set_ap(rec[key], val.children[0], line)
            continue
        text = str(val.children[0])
        if key == "func":
            r["func"] = _enum(ActFunc, text, "activation function", line)
        elif key == "alu":
            r["alu"] = _enum(AluOp, text, "alu op", line)
        elif key in ("scale", "imm"):
            r[key] = np.float32(_SPECIAL_FLOATS.get(text, text))
        elif key in ("flags", "axes", "sem", "tag"):
            r[key] = int(text)
        elif key == "value":
            r["sem_value"] = int(text)
        else:
            raise NeffError(f"line {line}: unknown field '{key}'")
    return rec


def assemble(text: str, weights: dict[str, np.ndarray] | None = None, source: str = "<listing>") -> Neff:
    """Build a Neff from a listing; ``file`` variables take their data from ``weights`` by name."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as e:
        raise NeffError(f"{source}:{e.line}:{e.column}: cannot parse the listing here") from None
    header, *rest = tree.children
    name, major, minor, compiler = header.children
    neff = Neff(name=json.loads(str(name)), inputs=[], outputs=[], subgraphs=[],
                compiler_version=json.loads(str(compiler)), version=(int(major), int(minor)))
    weights = weights or {}
    for node in rest:
        if node.data == "io":
            kind, nm, shape, dtype = node.children
            spec = TensorSpec(json.loads(str(nm)), _parse_shape(shape), str(dtype))
            (neff.inputs if str(kind) == "input" else neff.outputs).append(spec)
            continue
        core, sbuf_peak, psum_peak, *items = node.children
        sg = Subgraph(core=int(core), sbuf_peak_bytes=int(sbuf_peak), psum_peak_bytes=int(psum_peak))
        for item in items:
            if item.data == "var":
                _, kind, nm, shape, dtype = item.children
                vname = json.loads(str(nm))
                data = None
                if str(kind) == "file":
                    if vname not in weights:
                        raise NeffError(
                            f"{source}: no data for constant '{vname}': pass --weights with the "
                            "unpacked NEFF's constants"
                        )
                    data = np.asarray(weights[vname])
                sg.variables.append(Variable(vname, str(kind), _parse_shape(shape), str(dtype), data))
            else:
                engine = _enum(Engine, str(item.children[0]), "engine", item.meta.line)
                recs = [_assemble_instr(i) for i in item.children[1:]]
                sg.streams[engine] = np.concatenate(recs) if recs else empty_records(0)
        neff.subgraphs.append(sg)
    return neff


def _parse_shape(tree: lark.Tree) -> tuple[int, ...]:
    return tuple(int(c) for c in tree.children if c is not None)


assert AP_DTYPE.names is not None and Flags.ACCUMULATE == 1
