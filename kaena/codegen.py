"""The NEFF encoder: Inferentia-dialect IR -> ``kaena.neff.model.Neff``.

Each ``inf.core`` becomes one Subgraph. Every instruction op is encoded once
as a base record plus, for the fields that are affine in the loop indices
(AP partition starts and offsets, ``sem_value``, the matmul ``accumulate``
flag), one coefficient per loop; the loops are then unrolled with numpy
(tile the body, add ``d_k * coefficient``), never record by record, so programs
of 10^6 records encode in well under a second. Output is a pure function of
the IR and the weights.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.ir import Block, Operation, SSAValue

from kaena.dialects.inferentia import (
    AccessPattern,
    ActivationOp,
    AffineExpr,
    AllocOp,
    CoreOp,
    DmaGatherOp,
    DmaOp,
    DmaSendOp,
    DramOp,
    DramType,
    InstructionOp,
    LoadStationaryOp,
    LoopOp,
    MatmulOp,
    MemsetOp,
    PsumType,
    ReduceOp,
    SbufType,
    SelectOp,
    SemSignalOp,
    SemWaitOp,
    TensorScalarOp,
    TensorTensorOp,
    TransposeOp,
    engine_of,
    float_prop,
)
from kaena.dialects.attributes import PIPELINE_ATTR, PSUM_PEAK_ATTR, SBUF_PEAK_ATTR, SCALAR_ATTR, describe_sources, sources_of
from kaena.errors import CompileError
from kaena.isa import (
    MAX_FREE_DIMS,
    Engine,
    Flags,
    Mem,
    Opcode,
    empty_records,
)
from kaena.neff import NEFF_VERSION, NO_SOURCE, Neff, Subgraph, TensorSpec, Variable
from kaena.neff.allocation import ALLOCATION_KEY, NO_TILE, TILE_SLOTS
from kaena.neff.model import PIPELINE_VERSION
from kaena.target import target_of

DRAM_VARIABLE_KINDS = {"input": "input", "output": "output", "file": "file", "tmp": "tmp-buf"}

# Fields that may be affine in the loop indices: (record field, AP sub-field or None).
_AFFINE_FIELDS: tuple[tuple[str, str | None], ...] = (
    ("out", "start_partition"),
    ("out", "offset"),
    ("in0", "start_partition"),
    ("in0", "offset"),
    ("in1", "start_partition"),
    ("in1", "offset"),
    ("sem_value", None),
    ("accumulate", None),  # not a record field: > 0 sets Flags.ACCUMULATE
)
_FIELD_INDEX = {f: i for i, f in enumerate(_AFFINE_FIELDS)}
_SEM_VALUE = _FIELD_INDEX[("sem_value", None)]
_ACCUMULATE = _FIELD_INDEX[("accumulate", None)]



_Slots = tuple[tuple[str, str, str], ...]
_DMA: _Slots = (("out", "dst", "dst_ap"), ("in0", "src", "src_ap"))
_UNARY: _Slots = (("out", "out", "out_ap"), ("in0", "input", "in_ap"))
# An instruction's opcode and its operands: record slot, the op's value field, its access pattern.
_ENCODINGS: dict[type[Operation], tuple[Opcode, _Slots]] = {
    SemSignalOp: (Opcode.SEM_SIGNAL, ()),
    SemWaitOp: (Opcode.SEM_WAIT, ()),
    DmaSendOp: (Opcode.DMA, _DMA),
    DmaOp: (Opcode.DMA, _DMA),
    LoadStationaryOp: (Opcode.LOAD_STATIONARY, (("in0", "stationary", "stationary_ap"),)),
    MatmulOp: (Opcode.MATMUL, (("out", "acc", "acc_ap"), ("in1", "moving", "moving_ap"))),
    ActivationOp: (Opcode.ACTIVATE, _UNARY + (("in1", "bias", "bias_ap"),)),
    TensorTensorOp: (Opcode.TENSOR_TENSOR, (("out", "out", "out_ap"), ("in0", "lhs", "lhs_ap"), ("in1", "rhs", "rhs_ap"))),
    TensorScalarOp: (Opcode.TENSOR_SCALAR, _UNARY + (("in1", "scalar", "scalar_ap"),)),
    ReduceOp: (Opcode.REDUCE, _UNARY),
    TransposeOp: (Opcode.TRANSPOSE, _UNARY),
    SelectOp: (Opcode.SELECT, (("out", "out", "out_ap"), ("in0", "pred", "pred_ap"), ("in1", "on_true", "on_true_ap"))),
    DmaGatherOp: (Opcode.DMA_GATHER, (("out", "dst", "dst_ap"), ("in0", "table", "table_ap"), ("in1", "index", "index_ap"))),
    MemsetOp: (Opcode.MEMSET, (("out", "out", "out_ap"),)),
}


def _loop_depth(block: Block) -> int:
    depth = 0
    for op in block.ops:
        if isinstance(op, LoopOp):
            depth = max(depth, 1 + _loop_depth(op.body.block))
    return depth


class _CoreEncoder:
    """Encodes one inf.core into a Subgraph."""

    def __init__(self, core: CoreOp, store, tags: dict[Operation, int]):
        self.core = core
        self.core_id = core.core.value.data
        self.store = store
        self.tags = tags
        self.var_index: dict[SSAValue, int] = {}
        self.variables: list[Variable] = []
        self.valid_ranges: dict[str, tuple[int, int]] = {}  # int32 input -> [lo, hi)
        self.scalars: set[str] = set()  # rank-0 model inputs and outputs (their DRAM buffer is [1])
        self.depth = _loop_depth(core.body.block)
        self.static_ids: dict[Operation, int] = {}
        # the subgraph's source table: each distinct kaena.source of an instruction, in program order
        self.source_index: dict[tuple[str, ...], int] = {}
        # the allocation table (kaena.neff.allocation): each inf.alloc's placement, and per
        # static instruction the tile of each SBUF/PSUM operand slot
        self.tile_index: dict[AllocOp, int] = {}
        self.tiles: list[list] = []
        self.operand_tiles: dict[int, list[int]] = {}  # static id -> [out, in0, in1] tile (-1: none)

    # --- variables --------------------------------------------------------
    def encode_variables(self) -> None:
        for op in self.core.body.block.ops:
            if not isinstance(op, DramOp):
                continue
            if SCALAR_ATTR in op.attributes:
                self.scalars.add(op.var_name.data)
            if op.kind.data == "input" and op.valid_range is not None:
                self.valid_ranges[op.var_name.data] = op.valid_range
            t = op.result.type
            assert isinstance(t, DramType)
            kind = op.kind.data
            name = op.var_name.data
            dtype = t.dtype.numpy_name
            shape = t.get_shape()
            data = None
            if kind == "file":
                value = np.asarray(self.store[name])
                if value.size != int(np.prod(shape, dtype=np.int64)):
                    raise CompileError(
                        f"core {self.core_id}: weight '{name}' has shape {value.shape} but its "
                        f"inf.dram is {'x'.join(map(str, shape))}; the weight store does not match the IR"
                    )
                data = np.ascontiguousarray(value.astype(t.dtype.np, copy=False).reshape(shape))
            self.var_index[op.result] = len(self.variables)
            self.variables.append(Variable(name, DRAM_VARIABLE_KINDS[kind], shape, dtype, data))

    # --- static records ---------------------------------------------------
    def encode_static(self) -> None:
        ops = [op for op in self.core.walk() if engine_of(op) is not None]
        for op in self.core.walk():
            if isinstance(op, AllocOp) and not op.is_allocated:
                hint = f"%{op.result.name_hint} " if op.result.name_hint else ""
                raise CompileError(
                    f"core {self.core_id}: inf.alloc {hint}({op.result.type}) has no partition/offset: "
                    f"run inf-allocate-sram before encoding"
                )
        self.ops = ops
        n = len(ops)
        self.records = empty_records(n)
        self.engines = np.zeros(n, dtype=np.int64)
        self.sources = np.full(n, NO_SOURCE, dtype=np.uint32)
        self.const = np.zeros((n, len(_AFFINE_FIELDS)), dtype=np.int64)
        self.coef = np.zeros((n, len(_AFFINE_FIELDS), max(self.depth, 1)), dtype=np.int64)
        has_sems = False
        engines_used: set[Engine] = set()
        for i, op in enumerate(ops):
            self.static_ids[op] = i
            eng = engine_of(op)
            assert eng is not None
            self.engines[i] = int(eng)
            rec = self.records[i]
            rec["tag"] = self.tags[op]
            names = sources_of(op)
            if names:
                self.sources[i] = self.source_index.setdefault(names, len(self.source_index))
            if isinstance(op, SemSignalOp | SemWaitOp):
                has_sems = True
            else:
                engines_used.add(eng)
            self._encode_op(i, op, rec)
        if len(engines_used) > 1 and not has_sems:
            names = ", ".join(sorted(e.stream_name for e in engines_used))
            raise CompileError(
                f"core {self.core_id}: instructions on engines {names} but no semaphores: "
                f"run inf-insert-semaphores before encoding"
            )

    def _affine(self, i: int, field: tuple[str, str | None], expr: AffineExpr) -> None:
        f = _FIELD_INDEX[field]
        self.const[i, f] = expr.const
        for k, c in enumerate(expr.coeffs):
            self.coef[i, f, k] = c

    def _operand(self, i: int, rec: np.void, slot: str, value: SSAValue, pat: AccessPattern) -> None:
        t = value.type
        ap = rec[slot]
        dtype = t.dtype
        isz = dtype.itemsize
        ap["dtype"] = int(dtype)
        ap["ndims"] = len(pat.dims)
        ap["num_partitions"] = pat.partitions
        counts = [c for c, _ in pat.dims] + [1] * (MAX_FREE_DIMS - len(pat.dims))
        strides = [s for _, s in pat.dims] + [0] * (MAX_FREE_DIMS - len(pat.dims))
        ap["counts"] = counts
        ap["strides"] = strides
        if isinstance(t, DramType):
            ap["mem"] = int(Mem.DRAM)
            ap["var"] = self.var_index[value]
            ap["partition_stride"] = pat.partition_stride
            self._affine(i, (slot, "offset"), pat.offset.scaled(isz))
            return
        assert isinstance(t, SbufType | PsumType)
        alloc = value.owner
        assert isinstance(alloc, AllocOp)
        ap["mem"] = int(Mem.PSUM if isinstance(t, PsumType) else Mem.SBUF)
        self.operand_tiles.setdefault(i, [NO_TILE] * len(TILE_SLOTS))[TILE_SLOTS.index(slot)] = self._tile(alloc)
        self._affine(i, (slot, "start_partition"), pat.partition + alloc.partition.value.data)
        self._affine(i, (slot, "offset"), pat.offset.scaled(isz) + alloc.offset.value.data)

    def _tile(self, alloc: AllocOp) -> int:
        """The allocation-table index of ``alloc`` (entered on first use)."""
        k = self.tile_index.get(alloc)
        if k is None:
            t = alloc.result.type
            assert isinstance(t, SbufType | PsumType)
            k = self.tile_index[alloc] = len(self.tiles)
            hint = alloc.result.name_hint
            src = describe_sources(alloc)
            name = f"#{k}" + (f" %{hint}" if hint else "") + (f" of {src}" if src else "")
            self.tiles.append(["psum" if isinstance(t, PsumType) else "sbuf", alloc.partition.value.data,
                               t.partitions, alloc.offset.value.data, t.bytes_per_partition, name])
        return k

    def allocation(self) -> dict:
        """This core's allocation table (``kaena.neff.allocation``): tiles and operand tiles by tag."""
        rows = sorted([int(self.records[i]["tag"]), *tiles] for i, tiles in self.operand_tiles.items())
        return {"tiles": self.tiles, "operands": rows}

    def _encode_op(self, i: int, op: Operation, rec: np.void) -> None:
        encoding = _ENCODINGS.get(type(op))
        if encoding is None:  # pragma: no cover - engine_of() covers exactly the table's ops
            assert isinstance(op, InstructionOp)
            raise CompileError(f"core {self.core_id}: the encoder does not know '{op.name}'")
        opcode, slots = encoding
        rec["opcode"] = opcode
        for slot, value_field, ap_field in slots:
            value, pattern = getattr(op, value_field), getattr(op, ap_field)
            if value is not None and pattern is not None:
                self._operand(i, rec, slot, value, pattern.data)
        if isinstance(op, SemSignalOp | SemWaitOp | DmaSendOp):
            rec["sem"] = op.sem.value.data
        if isinstance(op, SemWaitOp):
            self._affine(i, ("sem_value", None), op.value.data)
        elif isinstance(op, DmaSendOp):
            to = op.to_core.value.data
            cpc = target_of(self.core).cores_per_chip
            rec["flags"] = int(Flags.NOTIFY) | (int(Flags.NEURONLINK) if to // cpc != self.core_id // cpc else 0)
            rec["notify_core"] = to
        elif isinstance(op, MatmulOp) and op.accumulate is not None:
            self._affine(i, ("accumulate", None), op.accumulate.data)
        elif isinstance(op, ActivationOp):
            rec["func"] = op.func.isa
            rec["scale"] = float_prop(op, "scale", 1.0)
            rec["imm"] = float_prop(op, "imm", 0.0)
        elif isinstance(op, TensorTensorOp):
            rec["alu"] = op.alu.isa
        elif isinstance(op, TensorScalarOp):
            rec["alu"] = op.alu.isa
            rec["imm"] = float_prop(op, "imm", 0.0)
        elif isinstance(op, ReduceOp):
            rec["alu"] = op.alu.isa
            rec["axes"] = op.axes.value.data
            rec["scale"] = float_prop(op, "scale", 1.0)
        elif isinstance(op, MemsetOp):
            rec["imm"] = float(op.value.value.data)

    # --- unrolling --------------------------------------------------------
    def _sequence(self, block: Block, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Static ids of the block's dynamic instructions in program order, and
        their loop indices ([n, depth] with zeros beyond each op's own depth)."""
        width = max(self.depth, 1)
        ids_parts: list[np.ndarray] = []
        idx_parts: list[np.ndarray] = []
        run: list[int] = []

        def flush() -> None:
            if run:
                ids_parts.append(np.array(run, dtype=np.int64))
                idx_parts.append(np.zeros((len(run), width), dtype=np.int64))
                run.clear()

        for op in block.ops:
            sid = self.static_ids.get(op)
            if sid is not None:
                run.append(sid)
            elif isinstance(op, LoopOp):
                flush()
                b_ids, b_idx = self._sequence(op.body.block, depth + 1)
                trips = op.trips.value.data
                n = len(b_ids)
                if n == 0:
                    continue
                ids = np.tile(b_ids, trips)
                idx = np.tile(b_idx, (trips, 1))
                idx[:, depth] = np.repeat(np.arange(trips, dtype=np.int64), n)
                ids_parts.append(ids)
                idx_parts.append(idx)
        flush()
        if not ids_parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, width), dtype=np.int64)
        return np.concatenate(ids_parts), np.concatenate(idx_parts)

    def unroll(self) -> tuple[dict[Engine, np.ndarray], dict[Engine, np.ndarray]]:
        """Per engine, the records in program order and each one's source index
        (an unrolled loop's records keep their op's source)."""
        ids, idx = self._sequence(self.core.body.block, 0)
        rec = self.records[ids]
        n = len(ids)
        for f, (name, sub) in enumerate(_AFFINE_FIELDS):
            vals = self.const[ids, f].copy()
            for k in range(self.coef.shape[2]):
                c = self.coef[:, f, k]
                if c.any():
                    vals += c[ids] * idx[:, k]
            if f == _ACCUMULATE:
                rec["flags"] |= np.where(vals > 0, int(Flags.ACCUMULATE), 0).astype(np.uint16)
            elif f == _SEM_VALUE:
                rec["sem_value"] = np.maximum(vals, 0)  # a wait for a count <= 0 never blocks
            else:
                rec[name][sub] = vals
        engines = self.engines[ids] if n else np.zeros(0, dtype=np.int64)
        src = self.sources[ids] if n else np.zeros(0, dtype=np.uint32)
        streams = {e: np.ascontiguousarray(rec[engines == int(e)]) for e in Engine}
        sources = {e: np.ascontiguousarray(src[engines == int(e)]) for e in Engine}
        return streams, sources

    def encode(self) -> Subgraph:
        self.encode_variables()
        self.encode_static()
        streams, sources = self.unroll()
        attrs = self.core.attributes
        sg = Subgraph(core=self.core_id, variables=self.variables, streams=streams,
                      chip=self.core_id // target_of(self.core).cores_per_chip)
        if self.source_index:
            sg.sources = list(self.source_index)
            sg.source_ids = {e: ids for e, ids in sources.items() if len(ids)}
        for field, attr in (("sbuf_peak_bytes", SBUF_PEAK_ATTR),
                            ("psum_peak_bytes", PSUM_PEAK_ATTR)):
            value = attrs.get(attr)
            if isinstance(value, IntegerAttr):
                setattr(sg, field, value.value.data)
        return sg


def emit_neff(module: ModuleOp, store, *, name: str, compiler_version: str,
              metadata: dict | None = None) -> Neff:
    """Encode every ``inf.core`` of ``module`` (allocated, with semaphores) into a Neff.

    ``store`` is the WeightStore holding the ``file`` variables. Model inputs
    are the ``input`` variables not produced by an earlier core, outputs the
    ``output`` variables not consumed by a later one (NeuronCore Pipeline
    subgraphs connect by name). ``tag`` of each record = the index of its op in
    a pre-order walk of ``module``.
    """
    tags = {op: i for i, op in enumerate(module.walk())}
    cores = [op for op in module.walk() if isinstance(op, CoreOp)]
    if not cores:
        raise CompileError(f"model '{name}': no inf.core to encode: lower it to the inf dialect first")
    encoders = [_CoreEncoder(core, store, tags) for core in cores]
    subgraphs = [enc.encode() for enc in encoders]
    valid_ranges = {name: r for enc in encoders for name, r in enc.valid_ranges.items()}
    scalars = set().union(*(enc.scalars for enc in encoders))

    def io_shape(v) -> tuple[int, ...]:
        return () if v.name in scalars else v.shape
    inputs: list[TensorSpec] = []
    outputs: list[TensorSpec] = []
    produced: set[str] = set()
    for sg in subgraphs:
        for v in sg.variables:
            if v.kind == "input" and v.name not in produced and all(s.name != v.name for s in inputs):
                inputs.append(TensorSpec(v.name, io_shape(v), _io_dtype(v), valid_ranges.get(v.name)))
        produced |= {v.name for v in sg.variables if v.kind == "output"}
    for k, sg in enumerate(subgraphs):
        later_inputs = {v.name for s in subgraphs[k + 1:] for v in s.variables if v.kind == "input"}
        for v in sg.variables:
            if v.kind == "output" and v.name not in later_inputs:
                outputs.append(TensorSpec(v.name, io_shape(v), _io_dtype(v)))
    pipelined = any(isinstance(op, DmaSendOp) for op in module.walk())
    metadata = dict(metadata or {})
    metadata[ALLOCATION_KEY] = {"subgraphs": [enc.allocation() for enc in encoders]}
    if pipelined:
        metadata["pipeline"] = _keep_weights_resident(subgraphs, module)
    return Neff(
        execution="pipeline" if pipelined else "serial",
        version=PIPELINE_VERSION if pipelined else NEFF_VERSION,
        name=name,
        inputs=inputs,
        outputs=outputs,
        subgraphs=subgraphs,
        compiler_version=compiler_version,
        metadata=metadata,
        target=target_of(module).name,
    )


def _keep_weights_resident(subgraphs: list[Subgraph], module: ModuleOp) -> dict:
    """Each pipeline stage's weight loads that can stay in SBUF go to its load-time
    program (``kaena.neff.resident``); what stays resident and what still streams."""
    from kaena.neff.resident import hoist_weight_loads

    t = target_of(module)
    res = [hoist_weight_loads(sg, t.partitions, t.sbuf_bytes_per_partition) for sg in subgraphs]
    out = {"resident_weight_bytes": [r.resident_bytes for r in res],
           "streamed_weight_bytes": [r.streamed_bytes for r in res]}
    plan = module.attributes.get(PIPELINE_ATTR)
    if plan is not None:
        for key in ("cores_to_hold_weights", "roofline_cycles"):
            value = plan.data.get(key)
            if isinstance(value, IntegerAttr):
                out[key] = value.value.data
    return out


def _io_dtype(v: Variable) -> str:
    """Model inputs and outputs are FP32 (the host converts), or int32 for integer data."""
    return "int32" if v.dtype == "int32" else "float32"


__all__ = ["emit_neff"]
