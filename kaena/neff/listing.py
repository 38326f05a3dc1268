"""A readable NEFF listing (``kaena-neff disasm``) and its assembler (``asm``).

One line per instruction record, every non-default field spelled out, so that
disasm -> asm rebuilds the instruction streams byte for byte (and, with the
same constants, the whole NEFF file); hand-written listings are exact programs
for the simulator. The grammar is ``GRAMMAR`` (lark); ``docs/neff-format.md``
("Listing syntax") describes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import lark
import numpy as np

from kaena.errors import NeffError
from kaena.isa import (
    MAX_FREE_DIMS,
    ActFunc,
    AluOp,
    DType,
    Engine,
    Mem,
    Opcode,
    empty_records,
)
from kaena.neff.container import Neff
from kaena.neff.model import NO_SOURCE, Subgraph, TensorSpec, Variable, source_label
from kaena.target import DEFAULT_TARGET

_AP_FIELDS = ("out", "in0", "in1")
_BLANK = empty_records(1)[0]
_CANONICAL_NAN = np.float32("nan").tobytes()

# --------------------------------------------------------------------------
# disassembler
# --------------------------------------------------------------------------


def _enum_text(enum_cls, value: int) -> str:
    """The lower-case name of a known enum value, else the number (still assembles)."""
    try:
        return enum_cls(int(value)).name.lower()
    except ValueError:
        return str(int(value))


def _float(x) -> str:
    """Shortest text that reads back as the same float32 bits; raw bits (0x...) otherwise."""
    v = np.float32(x)
    if math.isnan(v):
        return "nan" if v.tobytes() == _CANONICAL_NAN else f"0x{int(v.view(np.uint32)):08x}"
    if math.isinf(v):
        return "inf" if v > 0 else "ninf"
    text = str(v)  # numpy prints the shortest string that reads back as the same float32
    if np.float32(text).tobytes() == v.tobytes():
        return text
    return f"0x{int(v.view(np.uint32)):08x}"


def _format_ap(ap: np.void) -> str:
    mem = int(ap["mem"])
    nd = int(ap["ndims"])
    parts = [_enum_text(Mem, mem), _enum_text(DType, int(ap["dtype"]))]
    if mem == Mem.DRAM or int(ap["var"]):
        parts.append(f"var={int(ap['var'])}")
    parts.append(f"p={int(ap['start_partition'])}")
    parts.append(f"n={int(ap['num_partitions'])}")
    if int(ap["partition_stride"]):
        parts.append(f"ps={int(ap['partition_stride'])}")
    parts.append(f"off={int(ap['offset'])}")
    dims = [f"{int(ap['counts'][k])}:{int(ap['strides'][k])}" for k in range(MAX_FREE_DIMS)]
    # unused dims are normally count 1 stride 0; print them only when not
    used = min(nd, MAX_FREE_DIMS)
    for k in range(used, MAX_FREE_DIMS):
        if int(ap["counts"][k]) != 1 or int(ap["strides"][k]) != 0:
            used = k + 1
    parts.append(f"nd={nd}")
    parts.append("[" + " ".join(dims[:used]) + "]")
    if int(ap["_r0"]) or int(ap["_r1"]):
        parts.append(f"r0={int(ap['_r0'])} r1={int(ap['_r1'])}")
    return "(" + " ".join(parts) + ")"


def format_record(rec: np.void) -> str:
    """One record as ``opcode field=value ... tag=N`` (defaults omitted)."""
    op = int(rec["opcode"])
    fields = [_enum_text(Opcode, op)]
    if int(rec["flags"]):
        fields.append(f"flags={int(rec['flags'])}")
    if op == Opcode.ACTIVATE or int(rec["func"]):
        fields.append(f"func={_enum_text(ActFunc, rec['func'])}")
    if op in (Opcode.TENSOR_TENSOR, Opcode.TENSOR_SCALAR, Opcode.REDUCE) or int(rec["alu"]):
        fields.append(f"alu={_enum_text(AluOp, rec['alu'])}")
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
        if ap.tobytes() != _BLANK[name].tobytes():
            fields.append(f"{name}={_format_ap(ap)}")
    if int(rec["notify_core"]):
        fields.append(f"to={int(rec['notify_core'])}")
    if int(rec["_r1"]):  # reserved: the reader refuses it, a listing still shows it
        fields.append(f"r1={int(rec['_r1'])}")
    fields.append(f"tag={int(rec['tag'])}")
    return " ".join(fields)


def disassemble(neff: Neff) -> str:
    """The whole NEFF as a listing: header, variables, then per core per engine records."""
    lines = [
        f"neff {json.dumps(neff.name)} version {int(neff.version[0])}.{int(neff.version[1])} "
        f"compiler {json.dumps(neff.compiler_version)}",
    ]
    if neff.target != DEFAULT_TARGET:
        lines.append(f"target {json.dumps(neff.target)}")
    if neff.uuid:
        lines.append(f"uuid {neff.uuid.hex()}")
    if neff.metadata:
        text = json.dumps(neff.metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)
        lines.append(f"metadata {json.dumps(text)}")
    for spec in neff.inputs:
        vr = f" valid_range {spec.valid_range[0]} {spec.valid_range[1]}" if spec.valid_range is not None else ""
        lines.append(f"input {json.dumps(spec.name)} {_shape(spec.shape)} {spec.dtype}{vr}")
    for spec in neff.outputs:
        lines.append(f"output {json.dumps(spec.name)} {_shape(spec.shape)} {spec.dtype}")
    for sg in neff.subgraphs:
        lines.append("")
        lines.append(f"core {sg.core} sbuf_peak {sg.sbuf_peak_bytes} psum_peak {sg.psum_peak_bytes}")
        for i, v in enumerate(sg.variables):
            lines.append(f"  var {i} {v.kind} {json.dumps(v.name)} {_shape(v.shape)} {v.dtype}")
        for k, names in enumerate(sg.sources):
            lines.append(f"  source {k} " + ", ".join(json.dumps(n) for n in names))
        for engine in Engine:
            records = sg.stream(engine)
            lines.append(f"  engine {engine.stream_name}  ; {len(records)} instructions")
            if not sg.sources:
                lines.extend(f"    {i}: {format_record(rec)}" for i, rec in enumerate(records))
                continue
            for i, (rec, src) in enumerate(zip(records, sg.stream_sources(engine).tolist())):
                names = sg.source_names(src)
                tail = f" src={src}  ; {source_label(names)}" if names else ""
                lines.append(f"    {i}: {format_record(rec)}{tail}")
    return "\n".join(lines) + "\n"


def _shape(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


# --------------------------------------------------------------------------
# assembler
# --------------------------------------------------------------------------

GRAMMAR = r"""
start: header target? uuid? metadata? io* core*
header: "neff" STRING "version" INT "." INT "compiler" STRING
target: "target" STRING
uuid: "uuid" HEXSTR
metadata: "metadata" STRING
io: IOKIND STRING shape NAME valid_range?
valid_range: "valid_range" SIGNED_INT SIGNED_INT
core: "core" INT "sbuf_peak" INT "psum_peak" INT var* source* engine*
var: "var" INT VARKIND STRING shape NAME
source: "source" INT STRING ("," STRING)*
engine: "engine" NAME instr*
instr: INT ":" word field*
field: NAME "=" value
value: SIGNED_NUMBER      -> number
     | HEXBITS            -> bits
     | NAME               -> name
     | ap                 -> ap
ap: "(" word word apfield* dims apfield* ")"
apfield: NAME "=" SIGNED_INT
dims: "[" dim* "]"
dim: INT ":" SIGNED_INT
shape: "[" [INT ("," INT)*] "]"
word: NAME | INT

IOKIND: "input" | "output"
VARKIND: "input" | "output" | "file" | "tmp-buf" | "state-buffer"
HEXBITS.2: /0x[0-9a-fA-F]{1,8}/
HEXSTR.2: /[0-9a-f]{32}/
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
# listing key -> (record field, enum for names or None)
_INT_FIELDS: dict[str, tuple[str, type | None]] = {
    "flags": ("flags", None), "func": ("func", ActFunc), "alu": ("alu", AluOp), "axes": ("axes", None),
    "sem": ("sem", None), "value": ("sem_value", None), "tag": ("tag", None), "to": ("notify_core", None),
    "r1": ("_r1", None),
}
_AP_KEYS = {"var": "var", "p": "start_partition", "n": "num_partitions", "ps": "partition_stride",
            "off": "offset", "nd": "ndims", "r0": "_r0", "r1": "_r1"}


def _parser() -> lark.Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = lark.Lark(GRAMMAR, parser="lalr", propagate_positions=True)
    return _PARSER


class _Ctx:
    """Where we are in the listing, for one-line errors."""

    def __init__(self, source: str):
        self.source = source
        self.line = 0

    def fail(self, msg: str) -> NeffError:
        return NeffError(f"{self.source}:{self.line}: {msg}")


def _enum(enum_cls, text: str, what: str, ctx: _Ctx) -> int:
    if text.isdigit():
        return int(text)
    try:
        return int(enum_cls[text.upper()])
    except KeyError:
        choices = ", ".join(e.name.lower() for e in enum_cls)
        raise ctx.fail(f"unknown {what} '{text}' (one of {choices}, or a number)") from None


def _store(dst: np.ndarray, key: str, value: int, ctx: _Ctx, what: str) -> None:
    """Assign an integer to a record field, refusing values the field cannot hold."""
    dt = dst.dtype.fields[key][0].base if dst.dtype.fields else dst.dtype
    info = np.iinfo(dt)
    if not info.min <= value <= info.max:
        raise ctx.fail(f"{what} = {value} does not fit its {dt.name} field ({info.min}..{info.max})")
    dst[key] = value


def _int_text(text: str, ctx: _Ctx, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ctx.fail(f"{what} must be an integer, got '{text}'") from None


def _set_ap(dst: np.ndarray, tree: lark.Tree, ctx: _Ctx, slot: str) -> None:
    mem_tok, dtype_tok, *rest = tree.children
    _store(dst, "mem", _enum(Mem, _word(mem_tok), "memory", ctx), ctx, f"{slot} memory")
    _store(dst, "dtype", _enum(DType, _word(dtype_tok), "dtype", ctx), ctx, f"{slot} dtype")
    dims_tree = next(c for c in rest if isinstance(c, lark.Tree) and c.data == "dims")
    dims = [(int(d.children[0]), int(d.children[1])) for d in dims_tree.children]
    if len(dims) > MAX_FREE_DIMS:
        raise ctx.fail(f"{slot}: at most {MAX_FREE_DIMS} dims")
    dst["ndims"] = len(dims)
    for k, (count, stride) in enumerate(dims):
        if not 0 <= count <= 0xFFFFFFFF or not -(2**31) <= stride < 2**31:
            raise ctx.fail(f"{slot}: dim {k} = {count}:{stride} out of range (count u32, stride i32)")
        dst["counts"][0, k] = count
        dst["strides"][0, k] = stride
    for f in rest:
        if not (isinstance(f, lark.Tree) and f.data == "apfield"):
            continue
        key, val = str(f.children[0]), int(f.children[1])
        if key not in _AP_KEYS:
            raise ctx.fail(f"unknown access-pattern field '{key}' (one of {', '.join(_AP_KEYS)})")
        _store(dst, _AP_KEYS[key], val, ctx, f"{slot} {key}")


def _word(tree_or_tok) -> str:
    tok = tree_or_tok.children[0] if isinstance(tree_or_tok, lark.Tree) else tree_or_tok
    return str(tok)


def _float_value(kind: str, text: str, ctx: _Ctx, key: str) -> np.float32:
    if kind == "bits":
        return np.uint32(int(text, 16)).view(np.float32)
    if kind == "name" and text not in _SPECIAL_FLOATS:
        raise ctx.fail(f"{key} must be a number, nan, inf, ninf or 0x<float32 bits>, got '{text}'")
    return np.float32(_SPECIAL_FLOATS.get(text, text))


def _assemble_instr(tree: lark.Tree, rec: np.ndarray, ctx: _Ctx, src: np.ndarray) -> None:
    """Fill ``rec`` (a length-1 view into the stream) and its source index ``src``
    (length-1) from one ``instr`` tree."""
    ctx.line = tree.meta.line
    r = rec[0]
    name, *fields = tree.children[1:]
    _store(rec, "opcode", _enum(Opcode, _word(name), "opcode", ctx), ctx, "opcode")
    seen: set[str] = set()
    for f in fields:
        key = str(f.children[0])
        if key in seen:
            raise ctx.fail(f"field '{key}' given twice")
        seen.add(key)
        val = f.children[1]
        kind = val.data
        if kind == "ap":
            if key not in _AP_FIELDS:
                raise ctx.fail(f"'{key}' is not an operand (out, in0, in1)")
            _set_ap(rec[key], val.children[0], ctx, key)
            continue
        if key in _AP_FIELDS:
            raise ctx.fail(f"operand '{key}' must be an access pattern '(mem dtype ... [dims])'")
        text = str(val.children[0])
        if key == "src":
            if kind != "number" or not 0 <= _int_text(text, ctx, key) < NO_SOURCE:
                raise ctx.fail(f"src must be a source number, got '{text}'")
            src[0] = int(text)
        elif key in ("scale", "imm"):
            r[key] = _float_value(kind, text, ctx, key)
        elif key in _INT_FIELDS:
            field, enum_cls = _INT_FIELDS[key]
            if enum_cls is not None and kind == "name":
                value = _enum(enum_cls, text, "activation function" if key == "func" else "alu op", ctx)
            elif kind == "number":
                value = _int_text(text, ctx, key)
            else:
                raise ctx.fail(f"{key} must be an integer, got '{text}'")
            _store(rec, field, value, ctx, key)
        else:
            raise ctx.fail(f"unknown field '{key}'")


def _assemble_stream(instrs: list[lark.Tree], ctx: _Ctx) -> tuple[np.ndarray, np.ndarray]:
    recs = empty_records(len(instrs))
    srcs = np.full(len(instrs), NO_SOURCE, dtype=np.uint32)
    for i, tree in enumerate(instrs):
        ctx.line = tree.meta.line
        if int(tree.children[0]) != i:
            raise ctx.fail(f"instruction numbered {tree.children[0]}, expected {i} (number them 0, 1, 2, ...)")
        _assemble_instr(tree, recs[i : i + 1], ctx, srcs[i : i + 1])
    return recs, srcs


WeightLookup = Callable[[int, str], np.ndarray | None]


def assemble(
    text: str,
    weights: dict[str, np.ndarray] | WeightLookup | None = None,
    source: str = "<listing>",
) -> Neff:
    """Build a Neff from a listing. ``file`` variables take their data from
    ``weights``: a dict by variable name (``"sgNN/name"`` keys win for one
    subgraph) or a callable ``(core, name) -> array or None``."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as e:
        raise NeffError(f"{source}:{e.line}:{e.column}: cannot parse the listing here") from None
    lookup = _lookup(weights)
    ctx = _Ctx(source)
    header, *rest = tree.children
    ctx.line = header.meta.line
    name, major, minor, compiler = header.children
    neff = Neff(name=json.loads(str(name)), inputs=[], outputs=[], subgraphs=[],
                compiler_version=json.loads(str(compiler)), version=(int(major), int(minor)))
    for node in rest:
        ctx.line = node.meta.line
        if node.data == "target":
            neff.target = json.loads(str(node.children[0]))
        elif node.data == "uuid":
            neff.uuid = bytes.fromhex(str(node.children[0]))
        elif node.data == "metadata":
            try:
                neff.metadata = json.loads(json.loads(str(node.children[0])))
            except json.JSONDecodeError as e:
                raise ctx.fail(f"metadata is not a JSON object ({e})") from None
            if not isinstance(neff.metadata, dict):
                raise ctx.fail("metadata must be a JSON object")
        elif node.data == "io":
            kind, nm, shape, dtype, *vr = node.children
            valid_range = None
            if vr and vr[0] is not None:
                valid_range = (int(vr[0].children[0]), int(vr[0].children[1]))
            spec = TensorSpec(json.loads(str(nm)), _parse_shape(shape), str(dtype), valid_range)
            (neff.inputs if str(kind) == "input" else neff.outputs).append(spec)
        else:
            neff.subgraphs.append(_assemble_core(node, lookup, ctx))
    return neff


def _assemble_core(node: lark.Tree, lookup: WeightLookup, ctx: _Ctx) -> Subgraph:
    core, sbuf_peak, psum_peak, *items = node.children
    sg = Subgraph(core=int(core), sbuf_peak_bytes=int(sbuf_peak), psum_peak_bytes=int(psum_peak))
    for item in items:
        ctx.line = item.meta.line
        if item.data == "var":
            index, kind, nm, shape, dtype = item.children
            if int(index) != len(sg.variables):
                raise ctx.fail(f"variable numbered {index}, expected {len(sg.variables)}")
            vname = json.loads(str(nm))
            data = None
            if str(kind) == "file":
                data = lookup(sg.core, vname)
                if data is None:
                    raise ctx.fail(
                        f"no data for constant '{vname}' of core {sg.core}: pass --weights DIR (from "
                        "'kaena-neff unpack') or --like ORIGINAL.neff"
                    )
            sg.variables.append(Variable(vname, str(kind), _parse_shape(shape), str(dtype), data))
            continue
        if item.data == "source":
            index, *names = item.children
            if int(index) != len(sg.sources):
                raise ctx.fail(f"source numbered {index}, expected {len(sg.sources)}")
            sg.sources.append(tuple(json.loads(str(n)) for n in names))
            continue
        ename = str(item.children[0])
        try:
            engine = Engine[ename.upper()]
        except KeyError:
            raise ctx.fail(f"unknown engine '{ename}' (one of {', '.join(e.stream_name for e in Engine)})") from None
        if engine in sg.streams:
            raise ctx.fail(f"engine {ename} listed twice in core {sg.core}")
        sg.streams[engine], srcs = _assemble_stream(item.children[1:], ctx)
        if (srcs != NO_SOURCE).any():
            if (srcs[srcs != NO_SOURCE] >= len(sg.sources)).any():
                raise ctx.fail(f"engine {ename}: a src= names no source line of core {sg.core}")
            sg.source_ids[engine] = srcs
    for e in list(sg.streams):
        if not len(sg.streams[e]):
            del sg.streams[e]
            sg.source_ids.pop(e, None)
    return sg


def _lookup(weights) -> WeightLookup:
    if callable(weights):
        return weights
    table = dict(weights or {})

    def find(core: int, name: str) -> np.ndarray | None:
        for key in (f"sg{core:02d}/{name}", name):
            if key in table:
                return np.asarray(table[key])
        return None

    return find


def neff_weights(neff: Neff) -> WeightLookup:
    """The constants of an existing NEFF, for ``assemble(text, neff_weights(original))``."""
    table = {(k, v.name): v.data for k, sg in enumerate(neff.subgraphs) for v in sg.variables if v.kind == "file"}
    return lambda core, name: table.get((core, name))


def _parse_shape(tree: lark.Tree) -> tuple[int, ...]:
    return tuple(int(c) for c in tree.children if c is not None)


def streams_equal(a: Neff, b: Neff) -> str | None:
    """None if ``a`` and ``b`` have byte-identical instruction streams, else where they differ."""
    if len(a.subgraphs) != len(b.subgraphs):
        return f"{len(a.subgraphs)} vs {len(b.subgraphs)} subgraphs"
    for k, (sa, sb) in enumerate(zip(a.subgraphs, b.subgraphs)):
        for e in Engine:
            ra, rb = sa.stream(e), sb.stream(e)
            if ra.tobytes() != rb.tobytes():
                n = min(len(ra), len(rb))
                diff = next((i for i in range(n) if ra[i].tobytes() != rb[i].tobytes()), n)
                return f"core {k} {e.stream_name}: first difference at record {diff}"
    return None

