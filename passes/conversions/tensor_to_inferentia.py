"""Lower ``ktensor`` to the Inferentia dialect: one ``inf.core`` program.

Function arguments live in ``input`` variables, results in ``output``
variables, weights in ``file`` variables. Intermediate NCHW values produced
and consumed by convolutions, pools and pointwise ops stay in SBUF between
ops (``SbufView``: channel-major, zero-padded for the convs/pools that read
them; chosen by ``_plan_residency`` within an SBUF budget, spilling the value
used farthest ahead); every other value lives in DRAM in its logical
row-major layout (``tmp`` scratch), and its ops DMA operands into SBUF tiles
in the layout their engine wants (strided access patterns do transposes and
broadcasts), compute, and DMA the result back. The emitted program is correct
executed one instruction at a time; SCHED's passes place the tiles and add
the semaphores. Tile grids are ``inf.loop`` nests with affine offsets,
remainders peeled into separate copies.

This is a whole-function translation (one ordered program out of one
function), so it walks the function once in order rather than applying
independent rewrite patterns.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import (
    AccessPatternAttr,
    ActivationOp,
    AffineExpr,
    AllocOp,
    CoreOp,
    DmaOp,
    DramOp,
    DramType,
    LoadStationaryOp,
    LoopOp,
    MatmulOp,
    MemsetOp,
    PsumType,
    ReduceOp,
    SbufType,
    TensorScalarOp,
    TensorTensorOp,
    ap,
)
from kaena.target.costmodel import CostModel
from kaena.errors import CompileError
from kaena.dialects.attributes import NAME_ATTR, RESIDENT_ATTR
from kaena.isa import AP_DTYPE, MAX_FREE_DIMS, DType
from kaena.target import INF1, NeuronCoreTarget, get_target
from kaena.weights import WEIGHTS_ATTR, WeightStore, module_store




@dataclass(frozen=True)
class _Budgets:
    """Policy, not hardware: the share of one SBUF partition of the pass's target
    that the tiles of a single ktensor op may take (one op's tiles are live at a
    time; the rest is headroom for the allocator and the next ops' prefetch)."""

    sbuf: int  # bytes per partition
    big: int  # the big operand (weights, padded image)
    mid: int  # the moving operand
    out: int  # results waiting for their DMA

    @staticmethod
    def of(target: NeuronCoreTarget) -> "_Budgets":
        s = target.sbuf_bytes_per_partition
        return _Budgets(s, s * 3 // 8, s // 4, s // 8)

# DRAM rows one DMA access pattern can address (the ISA's num_partitions field).
_MAX_DMA_ROWS = int(np.iinfo(AP_DTYPE["num_partitions"]).max)

_ACT_FUNC = {"none": "identity", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
             "gelu": "gelu", "exp": "exp"}


def _ints(attr) -> tuple[int, ...]:
    """The values of a dense i64 array property (strides, pads, ...)."""
    return tuple(int(v) for v in attr.get_values())


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _balanced(n: int, cap: int) -> int:
    """The tile size <= cap that splits n into the fewest, most even tiles."""
    return _cdiv(n, _cdiv(n, cap))


def _row_length(n: int, rows: int, cap: int) -> int:
    """Elements per row when ``n`` flat elements are cut into rows of at most
    ``cap`` for ``rows`` partitions: the shortest that fills the partitions,
    preferring one that divides ``n`` (no ragged tail)."""
    lo = min(cap, _cdiv(n, rows))
    candidates = range(lo, min(cap, 2 * lo) + 1) if lo < cap else range(cap, cap // 2, -1)
    return next((f for f in candidates if n % f == 0), lo)


def _prod(xs: Sequence[int]) -> int:
    return int(math.prod(xs))


def _row_major_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return tuple(reversed(strides))


def _hint(name: str) -> str:
    """A valid SSA name hint from a variable name."""
    h = re.sub(r"[^\w$.-]", "_", name)
    return h if re.match(r"[A-Za-z_$.-]", h) else f"v{h}"


class _ValueView:
    """Dtype and size of a ktensor value, wherever it lives (``buffer``)."""

    shape: tuple[int, ...]

    @property
    def buffer(self) -> SSAValue:
        raise NotImplementedError

    @property
    def element_type(self) -> Attribute:
        t = self.buffer.type
        assert isinstance(t, DramType | SbufType)
        return t.element_type

    @property
    def itemsize(self) -> int:
        return DType.from_name(str(self.element_type)).itemsize

    @property
    def size(self) -> int:
        return _prod(self.shape)


@dataclass(frozen=True)
class DramView(_ValueView):
    """A ktensor value: a DRAM variable seen with a logical row-major shape."""

    var: SSAValue
    shape: tuple[int, ...]

    @property
    def buffer(self) -> SSAValue:
        return self.var


E = AffineExpr

@dataclass(frozen=True)
class SbufView(_ValueView):
    """An NCHW ktensor value resident in SBUF (channel-major): channel ``c`` on
    partition ``c % pc``; free dims [c // pc][n][Hp][Wp], the plane stored with
    zero padding ``pads`` = [top, left, bottom, right] that its consumers read."""

    tile: SSAValue
    shape: tuple[int, int, int, int]
    pc: int
    pads: tuple[int, int, int, int]

    @property
    def buffer(self) -> SSAValue:
        return self.tile

    @property
    def Hp(self) -> int:
        return self.shape[2] + self.pads[0] + self.pads[2]

    @property
    def Wp(self) -> int:
        return self.shape[3] + self.pads[1] + self.pads[3]

    @property
    def plane(self) -> int:
        return self.Hp * self.Wp

    @property
    def ct_stride(self) -> int:
        return self.shape[0] * self.plane

    def base(self, ct: AffineExpr, n: AffineExpr) -> AffineExpr:
        """Offset of element (n, ct * pc, 0, 0) (inside the padding)."""
        return (ct.scaled(self.shape[0]) + n).scaled(self.plane) + self.pads[0] * self.Wp + self.pads[1]

    def interior(self, p0: int, cw: int, ct: AffineExpr, n: AffineExpr) -> AccessPatternAttr:
        """The H x W plane of channels [ct * pc + p0, + cw) of image ``n``."""
        _, _, H, W = self.shape
        dims = [[H * W, 1]] if self.Wp == W else [[H, self.Wp], [W, 1]]
        return ap(p0, cw, self.base(ct, n), dims)


def _resident_pc(target: NeuronCoreTarget, channels: int) -> int:
    """Channels per partition tile of a resident value."""
    return min(channels, target.partitions)


def _conv_tiling(target: NeuronCoreTarget, Cg: int, Og: int, KH: int, KW: int, isz: int, fold: bool,
                 pc: int | None = None, pco: int | None = None) -> tuple[int, int, int]:
    """(Pc, otw, Ob) of a PE convolution: contraction rows per channel tile,
    output channels per PSUM tile and per weight block (SBUF budget). With a
    resident result (``pco`` channels per partition tile) the PSUM tiles must
    land on aligned partitions of whole channel tiles: the largest aligned
    width dividing ``pco`` when the balanced one does not."""
    if fold:
        Pc, CT, taps_s = Cg, 1, KW
    else:
        Pc = pc if pc is not None else _balanced(Cg, target.pe_rows)
        CT, taps_s = _cdiv(Cg, Pc), KH * KW
    otw = _balanced(Og, target.pe_columns)
    align = target.partition_alignment
    if pco is not None and not (pco % otw == 0 and (otw == pco or otw % align == 0)):
        otw = next((m for m in range(target.pe_columns // align * align, 0, -align) if pco % m == 0), otw)
    per = CT * otw * taps_s * isz
    otb = max(1, min(_cdiv(Og, otw), _Budgets.of(target).big // per))
    return Pc, otw, min(Og, otb * otw)



def _acc(expr: AffineExpr) -> AffineExpr | None:
    """A matmul's accumulate flag; absent when it always overwrites."""
    return None if expr == E(0) else expr


def _squeeze(attr: AccessPatternAttr) -> AccessPatternAttr:
    """Drop unit free dims of a DMA pattern (a DMA only counts elements)."""
    a = attr.data
    dims = [d for d in a.dims if d[0] != 1] or [(1, 1)]
    if len(dims) == len(a.dims):
        return attr
    return ap(a.partition, a.partitions, a.offset, dims, a.partition_stride)


class _Builder:
    """Appends instructions in program order; ``loop`` opens an ``inf.loop``
    whose index is returned as an affine expression."""

    def __init__(self, block: Block):
        self.top = block
        self.cur = block
        self.depth = 0
        self.outer_loop: Operation | None = None

    def add(self, op: Operation) -> Operation:
        self.cur.add_op(op)
        return op

    def alloc(self, kind: type[SbufType] | type[PsumType], partitions: int, free: int,
              element_type: Attribute, hint: str) -> SSAValue:
        """An unallocated tile, placed before the loop nest being built."""
        op = AllocOp(kind([partitions, max(1, free)], element_type))
        op.result.name_hint = hint
        if self.outer_loop is None:
            self.top.add_op(op)
        else:
            self.top.insert_op_before(op, self.outer_loop)
        return op.result

    @contextmanager
    def loop(self, trips: int) -> Iterator[AffineExpr]:
        if trips == 1:
            yield E(0)
            return
        body = Block()
        loop = LoopOp(trips, Region(body))
        self.cur.add_op(loop)
        saved = (self.cur, self.outer_loop, self.depth)
        if self.depth == 0:
            self.outer_loop = loop
        self.cur = body
        self.depth += 1
        try:
            yield E.dim(saved[2])
        finally:
            self.cur, self.outer_loop, self.depth = saved

    def hoist(self, op: Operation) -> Operation:
        """Emit ``op`` before the loop nest being built (once, not per trip)."""
        if self.outer_loop is None:
            return self.add(op)
        self.top.insert_op_before(op, self.outer_loop)
        return op

    def tiles(self, size: int, tile: int) -> Iterator[tuple[AffineExpr, AffineExpr, int]]:
        """(tile index, start, extent) over [0, size) in steps of ``tile``: one
        loop over the full tiles, then the remainder peeled."""
        full, rem = divmod(size, tile)
        if full:
            with self.loop(full) as d:
                yield d, d.scaled(tile), tile
        if rem:
            yield E(full), E(full * tile), rem

    def pingpong(self, size: int, tile: int, buffers: int
                 ) -> Iterator[tuple[AffineExpr, AffineExpr, int, int]]:
        """``tiles`` with the buffer slot (0/1) of each tile: with two buffers the
        full tiles go in pairs (a loop whose body holds both), so that consecutive
        tiles alternate slots with affine offsets."""
        if buffers < 2:
            for i, s0, n in self.tiles(size, tile):
                yield i, s0, n, 0
            return
        full, rem = divmod(size, tile)
        pairs, odd = divmod(full, 2)
        if pairs:
            with self.loop(pairs) as d:
                yield d.scaled(2), d.scaled(2 * tile), tile, 0
                yield d.scaled(2) + 1, d.scaled(2 * tile) + tile, tile, 1
        if odd:
            yield E(2 * pairs), E(2 * pairs * tile), tile, 0
        if rem:
            yield E(full), E(full * tile), rem, odd

    # --- instructions ---------------------------------------------------------
    def dma(self, dst: SSAValue, dst_ap: AccessPatternAttr, src: SSAValue, src_ap: AccessPatternAttr):
        self.add(DmaOp(dst, _squeeze(dst_ap), src, _squeeze(src_ap)))

    def activation(self, func_name: str, out: SSAValue, out_ap: AccessPatternAttr, inp: SSAValue,
                   in_ap: AccessPatternAttr, bias: SSAValue | None = None,
                   bias_ap: AccessPatternAttr | None = None, scale: float | None = None,
                   imm: float | None = None):
        props: dict[str, Attribute | None] = {
            "func": StringAttr(func_name), "out_ap": out_ap, "in_ap": in_ap, "bias_ap": bias_ap,
            "scale": None if scale is None else FloatAttr(scale, f32),
            "imm": None if imm is None else FloatAttr(imm, f32),
        }
        self.add(ActivationOp(operands=[out, inp, bias], properties=props))

    def tensor_tensor(self, alu: str, out, out_ap, lhs, lhs_ap, rhs, rhs_ap):
        self.add(TensorTensorOp(
            operands=[out, lhs, rhs],
            properties={"alu": StringAttr(alu), "out_ap": out_ap, "lhs_ap": lhs_ap, "rhs_ap": rhs_ap},
        ))

    def tensor_scalar(self, alu: str, out, out_ap, inp, in_ap, scalar=None, scalar_ap=None,
                      imm: float | None = None):
        self.add(TensorScalarOp(
            operands=[out, inp, scalar],
            properties={"alu": StringAttr(alu), "out_ap": out_ap, "in_ap": in_ap,
                        "scalar_ap": scalar_ap, "imm": None if imm is None else FloatAttr(imm, f32)},
        ))

    def reduce(self, alu: str, out, out_ap, inp, in_ap, axes: int, scale: float | None = None):
        self.add(ReduceOp(
            operands=[out, inp],
            properties={"alu": StringAttr(alu), "axes": IntegerAttr(axes, i64), "out_ap": out_ap,
                        "in_ap": in_ap, "scale": None if scale is None else FloatAttr(scale, f32)},
        ))

    def memset(self, out, out_ap, value: float):
        self.add(MemsetOp(operands=[out], properties={"out_ap": out_ap, "value": FloatAttr(value, f32)}))

    def act(self, func: str, out, out_ap, inp, in_ap, bias=None, bias_ap=None,
            alpha: float | None = None, beta: float | None = None) -> None:
        """``out = func(inp + bias)`` for every ktensor activation (fused or
        standalone): the scalar engine's table where it has the function, else
        a short scalar/vector sequence (clamps are vector min/max)."""
        if func in _ACT_FUNC:
            self.activation(_ACT_FUNC[func], out, out_ap, inp, in_ap, bias, bias_ap)
            return
        if func == "relu6":
            self.activation("relu", out, out_ap, inp, in_ap, bias, bias_ap)
            self.tensor_scalar("min", out, out_ap, out, out_ap, imm=6.0)
            return
        assert bias is None, "parametrised activations are standalone ops (no fused bias)"
        if func == "leaky_relu":
            assert alpha is not None
            # max(x, a*x) for a <= 1, min(x, a*x) above
            self.tensor_scalar("mul", out, out_ap, inp, in_ap, imm=alpha)
            self.tensor_tensor("max" if alpha <= 1 else "min", out, out_ap, inp, in_ap, out, out_ap)
        elif func == "clip":
            assert alpha is not None and beta is not None
            self.tensor_scalar("max", out, out_ap, inp, in_ap, imm=alpha)
            self.tensor_scalar("min", out, out_ap, out, out_ap, imm=beta)
        elif func in ("hard_sigmoid", "hard_swish"):
            a, c = (alpha, beta) if func == "hard_sigmoid" else (1.0 / 6.0, 0.5)
            assert a is not None and c is not None
            # clip(a*x + c, 0, 1) = min(relu(a*x + c), 1)
            self.activation("relu", out, out_ap, inp, in_ap, scale=a, imm=c)
            self.tensor_scalar("min", out, out_ap, out, out_ap, imm=1.0)
            if func == "hard_swish":
                self.tensor_tensor("mul", out, out_ap, out, out_ap, inp, in_ap)
        else:  # pragma: no cover - the ktensor verifier admits only the functions above
            raise AssertionError(func)


def _coalesce(shape: Sequence[int], strides: Sequence[Sequence[int]]
              ) -> tuple[list[int], list[list[int]]]:
    """Drop unit dims and merge neighbours every stride list walks contiguously."""
    dims: list[int] = []
    out: list[list[int]] = [[] for _ in strides]
    for i, d in enumerate(shape):
        if d == 1:
            continue
        if dims and all(s[-1] == st[i] * d for s, st in zip(out, strides)):
            dims[-1] *= d
            for s, st in zip(out, strides):
                s[-1] = st[i]
            continue
        dims.append(d)
        for s, st in zip(out, strides):
            s.append(st[i])
    return dims, out


def _broadcast_strides(shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a row-major ``shape`` broadcast to ``out_shape`` (0 on broadcast dims)."""
    own = _row_major_strides(shape)
    pad = len(out_shape) - len(shape)
    return tuple(
        0 if i < pad or shape[i - pad] == 1 else own[i - pad] for i in range(len(out_shape))
    )


@dataclass(frozen=True)
class _Geom:
    """Geometry of a sliding-window op over NCHW planes; pads are [top, left, bottom, right]."""

    H: int
    W: int
    KH: int
    KW: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pl: int
    pb: int
    pr: int
    OH: int
    OW: int

    @staticmethod
    def of(x_shape, kernel, strides, pads, dilations, out_shape) -> "_Geom":
        return _Geom(x_shape[2], x_shape[3], kernel[0], kernel[1], strides[0], strides[1],
                     dilations[0], dilations[1], *pads, out_shape[2], out_shape[3])

    @property
    def Wp(self) -> int:
        return self.W + self.pl + self.pr

    def rows_in(self, nr: int) -> int:
        """Padded input rows that ``nr`` consecutive output rows read."""
        return (nr - 1) * self.sh + (self.KH - 1) * self.dh + 1

    def clean(self, r0: int, nr: int) -> bool:
        """Whether output rows [r0, r0 + nr) read only in-bounds input rows."""
        top = r0 * self.sh - self.pt
        return top >= 0 and top + self.rows_in(nr) <= self.H


class _FunctionLowering:
    """Lowers one ``func.func`` of ktensor ops into the body of an ``inf.core``."""

    def __init__(self, fn: func.FuncOp, target: NeuronCoreTarget = INF1, store: WeightStore | None = None):
        self.fn = fn
        self.store = store  # the weights (read to pack the bias table), None: no table
        # dtype -> (placeholder tile, columns [partitions, k] in order) of the packed biases
        self.bias_tables: dict[str, tuple[SSAValue, list[np.ndarray]]] = {}
        self.bias_table = False  # the cost model chose one bias DMA per model (see _plan_bias_table)
        self.reserved = 0  # SBUF bytes per partition kept for the bias table
        self.target = target
        self.cm = CostModel(target)  # prices the performance decisions (e.g. _dw_engine)
        self.budget = _Budgets.of(target)
        self.identity: dict[str, SSAValue] = {}  # dtype -> identity tile (diagonal stationaries)
        self._dw_cache: dict[Operation, str] = {}
        self.block = Block()
        self.b = _Builder(self.block)
        self.drams: list[Operation] = []
        self.views: dict[SSAValue, DramView] = {}
        self.weights: dict[str, SSAValue] = {}
        self.tmp_count = 0
        self.op_desc = ""
        self.fused_casts: set[Operation] = set()
        self.fused: dict[Operation, kt.CastOp] = {}  # producer -> the cast it writes directly
        # values kept in SBUF between ops -> their stored padding (see _plan_residency)
        self.resident: dict[SSAValue, tuple[int, int, int, int]] = {}
        self.store_type: dict[SSAValue, Attribute] = {}  # resident values stored narrower

    def _pc(self, channels: int) -> int:
        return _resident_pc(self.target, channels)

    # --- biases: one table per model ----------------------------------------------------
    def _bias_uses(self, ops: list[Operation]) -> list[tuple[int, int, int, int]]:
        """(bytes, DMAs, table columns, bytes per element) of each bias the dense convs DMA
        (per group) when each op loads its own. Matmul biases stay their own DMA: a model's
        last layers (often matmuls) are where NEFF constants get edited in place (kaena-neff
        unpack/pack), and the table would leave an edited bias unread."""
        t, uses = self.target, []
        for op in ops:
            if not isinstance(op, kt.Conv2dOp) or op.bias is None \
                    or not isinstance(op.bias.owner, kt.WeightOp):
                continue
            isz = DType.from_name(str(op.bias.type.element_type)).itemsize
            O, Cg = op.weight.type.get_shape()[:2]
            groups = op.groups.value.data
            if Cg == 1 and groups > 1:
                continue  # depthwise: its own bias layout
            Og = O // groups
            otw = _balanced(Og, t.pe_columns)
            uses += [(Og * isz, 1 + (Og % otw > 0), _cdiv(Og, otw), isz)] * groups
        return uses

    def _plan_bias_table(self, ops: list[Operation]) -> None:
        """One DMA for all the biases of the dense convs (a derived
        [partitions, columns] weight loaded once into a resident tile) when the cost
        model prices it below each op's own bias DMAs (their fixed cost dominates)."""
        uses = self._bias_uses(ops)
        if self.store is None or not uses:
            return
        cols = sum(u[2] for u in uses)
        isz = max(u[3] for u in uses)  # the widest bias dtype: an upper bound of the table's bytes
        separate = sum(k * self.cm.dma(nb // k) for nb, k, _, _ in uses)
        packed = self.cm.dma(self.target.partitions * cols * isz)
        self.bias_table = packed < separate
        # the resident layout may need narrower PSUM tiles (more columns): keep twice the estimate
        self.reserved = 2 * cols * isz if self.bias_table else 0

    def _bias_columns(self, bias: DramView, start: int, count: int, width: int) -> tuple[SSAValue, int] | None:
        """(table tile, first column) of biases [start, start + count) laid out as the op
        reads them (column k holds ``width`` consecutive biases on partitions 0..), or None
        when the op loads its own bias."""
        owner = bias.var.owner
        if not self.bias_table or not isinstance(owner, DramOp) or owner.kind.data != "file" \
                or owner.var_name.data not in self.store:
            return None
        key = str(bias.element_type)
        data = np.asarray(self.store[owner.var_name.data]).reshape(-1)[start:start + count]
        data = data.astype(DType.from_name(key).np, copy=False)  # one dtype per table
        if key not in self.bias_tables:
            placeholder = AllocOp(SbufType([self.target.partitions, 1], bias.element_type))
            self.bias_tables[key] = (placeholder.result, [])
        tile, columns = self.bias_tables[key]
        col0 = sum(c.shape[1] for c in columns)
        k = _cdiv(count, width)
        block = np.zeros((self.target.partitions, k), data.dtype)
        for j in range(k):
            part = data[j * width:(j + 1) * width]
            block[:len(part), j] = part
        columns.append(block)
        return tile, col0

    def _emit_bias_tables(self) -> None:
        """Each packed table: a derived weight, its resident tile and its one DMA, first in the program."""
        for placeholder, columns in self.bias_tables.values():
            table = np.concatenate(columns, axis=1)
            P, cols = table.shape
            elem = placeholder.type.element_type
            name = self.store.add_derived("kaena.bias_table", table)
            var = self.dram("file", name, [P, cols], elem)
            alloc = AllocOp(SbufType([P, cols], elem))
            alloc.result.name_hint = "bias_table"
            alloc.attributes[RESIDENT_ATTR] = UnitAttr()
            placeholder.replace_all_uses_with(alloc.result)
            dma = DmaOp(alloc.result, _squeeze(ap(0, P, 0, [[cols, 1]])), var, _squeeze(ap(0, P, 0, [[cols, 1]], cols)))
            first = self.block.first_op
            for new in (alloc, dma):
                if first is None:
                    self.block.add_op(new)
                else:
                    self.block.insert_op_before(new, first)

    # --- DRAM variables ---------------------------------------------------------
    def dram(self, kind: str, name: str, shape: Sequence[int], element_type: Attribute) -> SSAValue:
        op = DramOp(name, kind, DramType(list(shape) or [1], element_type))
        op.result.name_hint = _hint(name)
        self.drams.append(op)
        return op.result

    def tmp(self, value: SSAValue) -> DramView:
        t = value.type
        assert isinstance(t, TensorType)
        var = self.dram("tmp", f"t{self.tmp_count}", t.get_shape(), t.element_type)
        self.tmp_count += 1
        return DramView(var, tuple(t.get_shape()))

    def error(self, why: str) -> CompileError:
        return CompileError(f"cannot lower {self.op_desc}: {why}")

    # --- driver -----------------------------------------------------------------
    def run(self) -> Block:
        fn = self.fn
        args = fn.body.block.args
        arg_names = self._names(fn.arg_attrs, len(args), "input")
        for arg, name in zip(args, arg_names):
            t = arg.type
            if not isinstance(t, TensorType):
                raise CompileError(f"function argument '{name}' has type {t}; expected a tensor")
            self.views[arg] = DramView(self.dram("input", name, t.get_shape(), t.element_type),
                                       tuple(t.get_shape()))
        ret = fn.body.block.last_op
        if not isinstance(ret, func.ReturnOp):
            raise CompileError(f"function @{fn.sym_name.data} does not end with func.return")
        res_names = self._names(fn.res_attrs, len(ret.arguments), "output")
        outputs: list[DramView] = []
        direct: dict[SSAValue, DramView] = {}
        for value, name in zip(ret.arguments, res_names):
            t = value.type
            assert isinstance(t, TensorType)
            view = DramView(self.dram("output", name, t.get_shape(), t.element_type),
                            tuple(t.get_shape()))
            outputs.append(view)
            root = self._direct_root(value)
            if root is not None and root not in direct:
                direct[root] = DramView(view.var, tuple(root.type.get_shape()))
        ops = [op for op in fn.body.block.ops if op is not ret]
        for op in ops:
            if type(op) in _LOWERINGS and op not in self.fused_casts:
                cast = self._fusable_cast(op, direct)
                if cast is not None:
                    self.fused[op] = cast
                    self.fused_casts.add(cast)
        self._plan_bias_table(ops)
        self._plan_residency(ops, direct)
        for op in ops:
            self.op_desc = self._describe(op)
            self._lower_op(op, direct)
        self._emit_bias_tables()
        self.op_desc = "func.return"
        for value, out in zip(ret.arguments, outputs):
            src = self.views[value]
            if src.var is not out.var:
                n = src.size
                self.b.dma(out.var, ap(0, 1, 0, [[n, 1]]), src.var, ap(0, 1, 0, [[n, 1]]))
        for op in reversed(self.drams):
            if self.block.first_op is None:
                self.block.add_op(op)
            else:
                self.block.insert_op_before(op, self.block.first_op)
        return self.block

    @staticmethod
    def _names(attrs: ArrayAttr | None, n: int, prefix: str) -> list[str]:
        names = []
        for i in range(n):
            name = None
            if attrs is not None and i < len(attrs.data):
                d = attrs.data[i]
                if isinstance(d, DictionaryAttr) and isinstance(d.data.get(NAME_ATTR), StringAttr):
                    name = d.data[NAME_ATTR].data
            names.append(name if name is not None else f"{prefix}{i}")
        return names

    def _direct_root(self, value: SSAValue) -> SSAValue | None:
        """The computed value a result can be written into directly: itself, or
        the source of a chain of single-use reshapes."""
        while True:
            owner = value.owner
            if not isinstance(owner, Operation) or isinstance(owner, kt.WeightOp):
                return None
            if isinstance(owner, kt.ReshapeOp):
                src = owner.input
                if not src.has_one_use():
                    return None
                value = src
                continue
            return value

    @staticmethod
    def _describe(op: Operation) -> str:
        ins = ", ".join(str(list(v.type.get_shape())) for v in op.operands
                        if isinstance(v.type, TensorType))
        outs = ", ".join(str(list(v.type.get_shape())) for v in op.results
                         if isinstance(v.type, TensorType))
        return f"'{op.name}' ({ins} -> {outs})"

    def _lower_op(self, op: Operation, direct: dict[SSAValue, DramView]) -> None:
        if isinstance(op, kt.WeightOp):
            name = op.weight_name.data
            if name not in self.weights:
                t = op.result.type
                self.weights[name] = self.dram("file", name, t.get_shape(), t.element_type)
            self.views[op.result] = DramView(self.weights[name], tuple(op.result.type.get_shape()))
            return
        if isinstance(op, kt.ReshapeOp):
            src = self.views[op.input]
            if op.result in direct:
                # the reshape is itself returned but its source has other users
                out = direct[op.result]
                n = src.size
                self.b.dma(out.var, ap(0, 1, 0, [[n, 1]]), src.var, ap(0, 1, 0, [[n, 1]]))
                self.views[op.result] = out
            else:
                self.views[op.result] = DramView(src.var, tuple(op.result.type.get_shape()))
            return
        lower = _LOWERINGS.get(type(op))
        if lower is None:
            raise CompileError(
                f"cannot lower '{op.name}' to Inferentia: only ktensor ops are supported here "
                "(run convert-framework-to-tensor first)"
            )
        assert len(op.results) == 1
        res = op.results[0]
        if op in self.fused_casts:
            return  # its producer wrote the cast result directly
        # with a fused cast the engine rounds once to the destination dtype: the
        # same as writing the wide result and casting it, without the round trip
        cast = self.fused.get(op)
        value = res if cast is None else cast.result
        out = direct.get(value) or self._resident_tile(value) or self.tmp(value)
        self.views[value] = out
        self.views[res] = out
        lower(self, op, out)

    def _resident_tile(self, value: SSAValue) -> "SbufView | None":
        """The SBUF tile of a value planned resident (zero-filled when it is
        stored with padding: its producers write the interior only)."""
        pads = self.resident.get(value)
        if pads is None:
            return None
        t = value.type
        assert isinstance(t, TensorType)
        shape = tuple(t.get_shape())
        pc = self._pc(shape[1])
        free = _cdiv(shape[1], pc) * shape[0] * (shape[2] + pads[0] + pads[2]) * (shape[3] + pads[1] + pads[3])
        dtype = self.store_type.get(value, t.element_type)
        tile = self.b.alloc(SbufType, pc, free, dtype, _hint(value.name_hint or "act") + "_sb")
        tile.owner.attributes[RESIDENT_ATTR] = UnitAttr()
        if any(pads):
            self.b.memset(tile, ap(0, pc, 0, [[free, 1]]), 0.0)
        return SbufView(tile, shape, pc, pads)

    def _fusable_cast(self, op: Operation, direct: dict[SSAValue, DramView]) -> kt.CastOp | None:
        """The single user of ``op``'s result if it is a ktensor.cast that ``op``
        can write directly (its last step is one rounding to the output dtype)."""
        res = op.results[0]
        if res in direct or not res.has_one_use():
            return None
        user = next(iter(res.uses)).operation
        if not isinstance(user, kt.CastOp):
            return None
        if isinstance(op, kt.MatmulOp | kt.Conv2dOp | kt.ElementwiseOp):
            single = op.activation.data in ("none", "relu", "relu6")
        else:
            single = isinstance(op, kt.Pool2dOp)
        return user if single else None

    def view(self, v: SSAValue) -> "DramView | SbufView":
        return self.views[v]

    # --- which values stay in SBUF between ops -----------------------------------------
    def _materialized(self, op: Operation) -> SSAValue:
        cast = self.fused.get(op)
        return op.results[0] if cast is None else cast.result

    @staticmethod
    def _pool_exclude(op: kt.Pool2dOp) -> bool:
        return (op.kind.data != "max" and op.count_include_pad is not None
                and op.count_include_pad.value.data == 0 and any(_ints(op.pads)))

    @staticmethod
    def _nonneg(v: SSAValue) -> bool:
        """Whether ``v`` is known >= 0 (a relu'd result), so zero padding can
        stand in for a max pool's -inf."""
        owner = v.owner
        if isinstance(owner, kt.CastOp):
            owner = owner.input.owner
        if isinstance(owner, kt.Conv2dOp | kt.ElementwiseOp):
            return owner.activation.data in ("relu", "relu6")
        return isinstance(owner, kt.ActivationOp) and owner.func.data in ("relu", "relu6")

    def _narrow_type(self, v: SSAValue, users: list[Operation]) -> Attribute | None:
        """A narrower element type ``v`` can be stored in without changing any
        result: when its only consumer is a max pool that rounds its result to
        that type (rounding is monotonic, so it commutes with max)."""
        if len(users) != 1 or not isinstance(users[0], kt.Pool2dOp) or users[0].kind.data != "max":
            return None
        cast = self.fused.get(users[0])
        if cast is None:
            return None
        narrow = cast.result.type.element_type
        wide = v.type.element_type
        if DType.from_name(str(narrow)).itemsize >= DType.from_name(str(wide)).itemsize:
            return None
        return narrow

    def _can_write(self, op: Operation) -> bool:
        """Whether ``op``'s lowering can write its result into a resident tile."""
        t = self._materialized(op).type
        if not isinstance(t, TensorType) or len(t.get_shape()) != 4:
            return False
        if isinstance(op, kt.Conv2dOp):
            O, Cg, KH, KW = op.weight.type.get_shape()
            if op.groups.value.data != 1:
                return self._dw_engine(op) == "pe"
            pco = self._pc(O)
            isz = DType.from_name(str(op.input.type.element_type)).itemsize
            _, otw, Ob = _conv_tiling(self.target, Cg, O, KH, KW, isz, False, pco=pco)
            return (pco % otw == 0 and (otw == pco or otw % self.target.partition_alignment == 0)
                    and (Ob == O or Ob >= pco))
        if isinstance(op, kt.Pool2dOp):
            return not self._pool_exclude(op)
        return isinstance(op, kt.ElementwiseOp | kt.ActivationOp | kt.CastOp)

    def _can_read(self, user: Operation, v: SSAValue) -> bool:
        """Whether ``user``'s lowering can read ``v`` from a resident tile."""
        if isinstance(user, kt.Conv2dOp):
            return user.input is v and user.weight is not v and user.bias is not v \
                and (user.groups.value.data == 1 or self._dw_engine(user) == "pe")
        if isinstance(user, kt.Pool2dOp):
            if self._pool_exclude(user):
                return False
            return user.kind.data != "max" or not any(_ints(user.pads)) or self._nonneg(v)
        if isinstance(user, kt.ElementwiseOp | kt.ActivationOp | kt.CastOp) and user not in self.fused_casts:
            return v.type.get_shape() == user.results[0].type.get_shape()
        return False

    def _scratch(self, op: Operation, res: set[SSAValue]) -> int:
        """Bytes per partition of ``op``'s own tiles (within the per-op budgets)."""
        if isinstance(op, kt.WeightOp | kt.ReshapeOp) or op in self.fused_casts:
            return 0
        mat = self._materialized(op)
        if isinstance(op, kt.Conv2dOp):
            O, Cg, KH, KW = op.weight.type.get_shape()
            groups = op.groups.value.data
            if Cg == 1 and groups > 1:
                if self._dw_engine(op) == "vector":
                    return self.budget.big + self.budget.mid + self.budget.out
                C = op.input.type.get_shape()[1]
                isz = DType.from_name(str(op.input.type.element_type)).itemsize
                wsz = _cdiv(C, self._pc(C)) * KH * KW * (1 + self.target.pe_columns) * isz
                return (wsz + self.target.pe_columns * isz + 4 * _cdiv(C, self._pc(C))
                        + (0 if op.input in res else self.budget.mid) + (0 if mat in res else self.budget.out))
            x_res, o_res = op.input in res, mat in res
            isz = DType.from_name(str(op.input.type.element_type)).itemsize
            fold = not x_res and KH > 1 and Cg * KH <= self.target.pe_rows
            pc = self._pc(op.input.type.get_shape()[1]) if x_res else None
            Pc, otw, Ob = _conv_tiling(self.target, Cg, O // groups, KH, KW, isz, fold, pc,
                                       self._pc(O) if o_res else None)
            w = (1 if fold else _cdiv(Cg, Pc)) * Ob * (KW if fold else KH * KW) * isz
            return w + 4 * _cdiv(O, otw) + (0 if x_res else self.budget.mid) + (0 if o_res else self.budget.out)
        if isinstance(op, kt.Pool2dOp):
            return (0 if op.input in res else self.budget.big) + (0 if mat in res else self.budget.out)
        if mat in res:
            return 0
        if isinstance(op, kt.MatmulOp):
            return self.budget.big + self.budget.mid + self.budget.out
        return self.budget.big

    def _plan_residency(self, ops: list[Operation], direct: dict[SSAValue, DramView]) -> None:
        """Choose the values that stay in SBUF from their producer to their last
        consumer (channel-major, zero-padded for the convolutions and pools that
        read them); the others live in DRAM. A value is a candidate when its
        producer can write that layout and every consumer can read it; pointwise
        ops keep all their operands on one side. Then, walking the program, while
        the resident bytes live at an op plus the op's own tiles exceed the SBUF
        budget, the live value whose next use is farthest goes to DRAM."""
        order = {op: i for i, op in enumerate(ops)}
        pointwise = (kt.ElementwiseOp, kt.ActivationOp, kt.CastOp)
        users: dict[SSAValue, list[Operation]] = {}
        producer: dict[SSAValue, Operation] = {}
        for op in ops:
            if type(op) not in _LOWERINGS or op in self.fused_casts:
                continue
            v = self._materialized(op)
            if v in direct or not self._can_write(op):
                continue
            us = [u.operation for u in v.uses]
            if us and all(u in order and self._can_read(u, v) for u in us):
                users[v], producer[v] = us, op
        pads: dict[SSAValue, tuple[int, int, int, int]] = {}
        nbytes: dict[SSAValue, int] = {}
        for v, us in users.items():
            p = [0, 0, 0, 0]
            for u in us:
                if isinstance(u, kt.Conv2dOp | kt.Pool2dOp):
                    p = [max(a, b) for a, b in zip(p, _ints(u.pads))]
            pads[v] = (p[0], p[1], p[2], p[3])
            N, C, H, W = v.type.get_shape()
            narrow = self._narrow_type(v, us)
            if narrow is not None:
                self.store_type[v] = narrow
            isz = DType.from_name(str(narrow or v.type.element_type)).itemsize
            nbytes[v] = _cdiv(C, self._pc(C)) * N * (H + p[0] + p[2]) * (W + p[1] + p[3]) * isz
        res = {v for v in users if nbytes[v] <= self.budget.sbuf // 2}

        def settle() -> None:
            changed = True
            while changed:
                changed = False
                for op in ops:
                    if op in self.fused_casts or type(op) not in _LOWERINGS:
                        continue
                    mat = self._materialized(op)
                    if isinstance(op, kt.Pool2dOp) and mat in res and op.input not in res:
                        res.discard(mat)
                        changed = True
                    elif isinstance(op, pointwise):
                        vals = list(op.operands) + [mat]
                        inside = [x in res for x in vals]
                        if any(inside) and not all(inside):
                            res.difference_update(vals)
                            changed = True

        # headroom for alignment and fragmentation, and the bias table
        limit = self.budget.sbuf - self.budget.sbuf // 8 - self.reserved
        while True:
            settle()
            span = {v: (order[producer[v]], max(order[u] for u in users[v])) for v in res}
            over = None
            for i, op in enumerate(ops):
                live = [v for v in users if v in res and span[v][0] <= i <= span[v][1]]
                if live and sum(nbytes[v] for v in live) + self._scratch(op, res) > limit:
                    over = (i, live)
                    break
            if over is None:
                break
            i, live = over

            def next_use(v: SSAValue) -> int:
                return min((order[u] for u in users[v] if order[u] > i), default=-1)

            # farthest next use, then the largest, then the earliest defined
            res.discard(max(live, key=lambda v: (next_use(v), nbytes[v], -span[v][0])))
        self.resident = {v: pads[v] for v in res}

    # --- ktensor.matmul -----------------------------------------------------------
    def matmul(self, op: kt.MatmulOp, out: DramView) -> None:
        b = self.b
        lhs, rhs = self.view(op.lhs), self.view(op.rhs)
        bias = self.view(op.bias) if op.bias is not None else None
        M, K = lhs.shape
        N = rhs.shape[1]
        if lhs.element_type != rhs.element_type:
            raise self.error(
                f"operands have different element types ({lhs.element_type} and {rhs.element_type}); "
                "run auto-cast so both are the same"
            )
        isz, osz = lhs.itemsize, out.itemsize
        NT, MT = self.target.pe_columns, self.target.pe_max_moving
        P = _balanced(K, self.target.pe_rows)  # rows of one K tile
        KT, Kp, KTf, Kr = _cdiv(K, P), min(K, P), K // P, K % P
        # moving tile: all of K for Mt rows of lhs
        Mt = _balanced(M, MT)
        while KT * Mt * isz > self.budget.mid and Mt > 1:
            Mt = _cdiv(Mt, 2)
        ntw = _balanced(N, NT)
        while KT * ntw * isz > self.budget.big and ntw > 1:
            ntw = _cdiv(ntw, 2)
        if KT * Mt * isz > self.budget.mid or KT * ntw * isz > self.budget.big:
            raise self.error(f"K = {K} is too long for SBUF tiles ({KT} tiles of {P} rows); "
                             "split the contraction in the model")
        ntb = max(1, min(_cdiv(N, ntw), self.budget.big // (KT * ntw * isz), self.budget.out // (Mt * osz)))
        Nb = min(N, ntb * ntw)
        ntb = _cdiv(Nb, ntw)
        w_t = b.alloc(SbufType, Kp, KT * Nb, rhs.element_type, "w_t")
        x_t = b.alloc(SbufType, Kp, KT * Mt, lhs.element_type, "x_t")
        ps = b.alloc(PsumType, ntw, Mt, f32, "ps")
        o_t = b.alloc(SbufType, ntw, ntb * Mt, out.element_type, "o_t")
        b_t = b.alloc(SbufType, ntw, ntb, bias.element_type, "b_t") if bias else None
        act = op.activation.data
        for _, n0, nb in b.tiles(N, Nb):
            ft, fr = divmod(nb, ntw)
            # weights [K, nb] -> [k partitions, (kt, n)]
            if KTf:
                b.dma(w_t, ap(0, P, 0, [[KTf * nb, 1]]),
                      rhs.var, ap(0, P, n0, [[KTf, P * N], [nb, 1]], N))
            if Kr:
                b.dma(w_t, ap(0, Kr, KTf * nb, [[nb, 1]]),
                      rhs.var, ap(0, Kr, n0 + KTf * P * N, [[nb, 1]], N))
            if bias:
                if ft:
                    b.dma(b_t, ap(0, ntw, 0, [[ft, 1]]), bias.var, ap(0, ntw, n0, [[ft, ntw]], 1))
                if fr:
                    b.dma(b_t, ap(0, fr, ft, [[1, 1]]), bias.var, ap(0, fr, n0 + ft * ntw, [[1, 1]], 1))
            for _, m0, mt in b.tiles(M, Mt):
                # lhs^T [k partitions, (kt, m)]
                if KTf:
                    b.dma(x_t, ap(0, P, 0, [[KTf * mt, 1]]),
                          lhs.var, ap(0, P, m0.scaled(K), [[KTf, P], [mt, K]], 1))
                if Kr:
                    b.dma(x_t, ap(0, Kr, KTf * mt, [[mt, 1]]),
                          lhs.var, ap(0, Kr, m0.scaled(K) + KTf * P, [[mt, K]], 1))
                for jt, j0, nw in b.tiles(nb, ntw):
                    for kk, _, kw in b.tiles(K, P):
                        b.add(LoadStationaryOp(w_t, ap(0, kw, kk.scaled(nb) + j0, [[nw, 1]])))
                        b.add(MatmulOp(ps, ap(0, nw, 0, [[mt, 1]]),
                                       x_t, ap(0, kw, kk.scaled(mt), [[mt, 1]]), accumulate=_acc(kk)))
                    b.act(act, o_t, ap(0, nw, jt.scaled(mt), [[mt, 1]]),
                          ps, ap(0, nw, 0, [[mt, 1]]),
                          b_t, ap(0, nw, jt, [[1, 1]]) if b_t else None)
                # out^T tiles -> out [M, N]
                base = m0.scaled(N) + n0
                if ft:
                    b.dma(out.var, ap(0, ntw, base, [[ft, ntw], [mt, N]], 1),
                          o_t, ap(0, ntw, 0, [[ft * mt, 1]]))
                if fr:
                    b.dma(out.var, ap(0, fr, base + ft * ntw, [[mt, N]], 1),
                          o_t, ap(0, fr, ft * mt, [[mt, 1]]))

    # --- banded image ops: conv2d (PE or vector engine) and pool2d -----------------------
    def _band_rows(self, g: "_Geom", unit: int, fits: Callable[[int], bool]) -> int:
        """Output rows per band: the whole image if it fits the SBUF budgets, else
        the largest multiple of ``unit`` (moving-tile rows) that does."""
        if fits(g.OH):
            return g.OH
        rb = (g.OH // unit) * unit
        while rb > unit and not fits(rb):
            rb -= unit
        if rb >= 1 and fits(rb):
            return rb
        if fits(1):
            return 1
        raise self.error(
            f"one output row of {g.OW} columns (an input row band of {g.rows_in(1)} x {g.Wp}) "
            "does not fit the SBUF tiles of one operation; reduce the image width"
        )

    def _band_plan(self, g: "_Geom", unit: int, fits: Callable[[int, int], bool],
                   cost: Callable[[int, int], int]) -> tuple[int, int]:
        """(output rows per band, input buffers) of a banded op whose input comes from
        DRAM: among the band heights that fit the SBUF budgets (multiples of ``unit``,
        or the whole image) with one or two buffers, the one ``cost`` (the cost model's
        modelled cycles) prices lowest; on a tie fewer buffers, then fewer bands."""
        best: tuple[tuple[int, int, int], int, int] | None = None
        for k in range(1, _cdiv(g.OH, unit) + 1):
            rb = min(g.OH, _cdiv(_cdiv(g.OH, k), unit) * unit)
            if _cdiv(g.OH, rb) != k:
                continue  # the same bands as a smaller k
            for nb in (1, 2) if k > 1 else (1,):
                if fits(rb, nb):
                    key = (cost(rb, nb), nb, k)
                    if best is None or key < best[0]:
                        best = (key, rb, nb)
        if best is None:
            return self._band_rows(g, unit, fits), 1  # raises: not even one row fits
        return best[1], best[2]

    def _prefetched_bands(self, g: "_Geom", rb: int, load: Callable[..., None]
                          ) -> Iterator[tuple[AffineExpr, int, int]]:
        """(first output row, rows, buffer) per band of ``rb`` rows, double-buffered:
        ``load(r0, rows, clean, first, buffer)`` DMAs band i + 1 into the other buffer
        before band i is yielded (the in-order DMA queue then fetches it while band i
        computes). Runs of clean bands become a loop over pairs of bands."""
        bands = [(r0, min(rb, g.OH - r0)) for r0 in range(0, g.OH, rb)]
        bands = [(r0, nr, nr == rb and g.clean(r0, nr)) for r0, nr in bands]
        filled = [False, False]  # a buffer's padding columns are filled before its first load

        def issue(i: int, r0: AffineExpr) -> None:
            load(r0, bands[i][1], bands[i][2], not filled[i % 2], i % 2)
            filled[i % 2] = True

        issue(0, E(bands[0][0]))
        i = 0
        while i < len(bands):
            pairs = 0
            while i > 0 and i + 2 * pairs + 2 < len(bands) and all(
                    bands[j][2] for j in range(i + 2 * pairs, i + 2 * pairs + 3)):
                pairs += 1
            if pairs >= 2:
                with self.b.loop(pairs) as d:
                    for h in (0, 1):
                        r0 = E(bands[i][0]) + d.scaled(2 * rb) + h * rb
                        issue(i + h + 1, r0 + rb)
                        yield r0, rb, (i + h) % 2
                i += 2 * pairs
                continue
            if i + 1 < len(bands):
                issue(i + 1, E(bands[i + 1][0]))
            yield E(bands[i][0]), bands[i][1], i % 2
            i += 1

    def _bands(self, g: "_Geom", rb: int) -> Iterator[tuple[AffineExpr, int, bool]]:
        """(first output row, rows, clean) per band of ``rb`` rows. A run of full
        bands whose input rows are all in bounds ("clean") becomes one loop; the
        bands touching the top/bottom padding are peeled."""
        segs: list[list] = []
        for r0 in range(0, g.OH, rb):
            nr = min(rb, g.OH - r0)
            clean = nr == rb and g.clean(r0, nr)
            if clean and segs and segs[-1][3] and segs[-1][0] + segs[-1][2] * rb == r0:
                segs[-1][2] += 1
            else:
                segs.append([r0, nr, 1, clean])
        for r0, nr, count, clean in segs:
            with self.b.loop(count) as d:
                yield E(r0) + d.scaled(rb), nr, clean

    def _load_band(self, g: "_Geom", x: DramView, x_t: SSAValue, pw: int, plane: AffineExpr,
                   r0: AffineExpr, nr: int, clean: bool, fill: float, first: bool,
                   ct: tuple[int, int, int] = (1, 0, 0), dst_off: int = 0) -> None:
        """DMA the padded input rows of output rows [r0, r0 + nr) into ``x_t``
        (partition = image plane, free = [ct][row][padded column]): rows out of
        bounds and the padding columns hold ``fill``. ``plane`` is the element
        offset of the first plane in ``x``; ``ct`` = (tiles, dst stride, src
        stride) stacks several plane tiles in one DMA."""
        b = self.b
        nin = g.rows_in(nr)
        self._fill_band(g, x_t, pw, nr, clean, fill, first)
        if clean:
            j_lo, j_hi = 0, nin
        else:
            top = r0.const * g.sh - g.pt
            j_lo, j_hi = max(0, -top), min(nin, g.H - top)
        if j_hi <= j_lo:
            return
        nj = j_hi - j_lo
        row0 = r0.scaled(g.sh) + (j_lo - g.pt)
        n_ct, dst_ct, src_ct = ct
        cdims = [[n_ct, dst_ct]] if n_ct > 1 else []
        sdims = [[n_ct, src_ct]] if n_ct > 1 else []
        b.dma(x_t, ap(0, pw, dst_off + j_lo * g.Wp + g.pl, cdims + [[nj, g.Wp], [g.W, 1]]),
              x.var, ap(0, pw, plane + row0.scaled(g.W), sdims + [[nj * g.W, 1]], g.H * g.W))

    def _fill_band(self, g: "_Geom", x_t: SSAValue, pw: int, nr: int, clean: bool, fill: float,
                   first: bool) -> None:
        """Fill a band tile's padding: before every band that has padding rows
        (they may hold the previous band's data), except for a single band
        covering the image, whose padding no DMA ever overwrites: filled once,
        before the op's loops."""
        if not (g.pt or g.pb or g.pl or g.pr) or not (first or not clean):
            return
        a = ap(0, pw, 0, [[x_t.type.free_elements, 1]])
        if nr == g.OH:
            if first:
                self.b.hoist(MemsetOp(operands=[x_t], properties={"out_ap": a, "value": FloatAttr(fill, f32)}))
            return
        self.b.memset(x_t, a, fill)

    def conv2d(self, op: kt.Conv2dOp, out: DramView) -> None:
        x, w = self.view(op.input), self.view(op.weight)
        bias = self.view(op.bias) if op.bias is not None else None
        if x.element_type != w.element_type:
            raise self.error(
                f"input and weight have different element types ({x.element_type} and "
                f"{w.element_type}); run auto-cast so both are the same"
            )
        groups = op.groups.value.data
        _, C, _, _ = x.shape
        O, Cg, KH, KW = w.shape
        g = _Geom.of(x.shape, (KH, KW), _ints(op.strides), _ints(op.pads),
                     _ints(op.dilations), out.shape)
        act = op.activation.data
        if Cg == 1 and groups > 1:
            if self._dw_engine(op) == "pe":
                self._conv_dw_pe(x, w, bias, out, g, act)
            else:
                assert isinstance(x, DramView) and isinstance(out, DramView)
                self._conv_vector(x, w, bias, out, g, act)
            return
        Og = O // groups
        for gi in range(groups):
            self._conv_pe(x, w, bias, out, g, gi * Cg, Cg, gi * Og, Og, act)

    def _conv_pe(self, x: DramView | SbufView, w: DramView, bias: DramView | None,
                 out: DramView | SbufView, g: "_Geom", cb: int, Cg: int, obase: int, Og: int,
                 act: str) -> None:
        """Channels [cb, cb + Cg) -> outputs [obase, obase + Og) on the PE array.

        With few channels the (kh, c) pairs are folded onto the contraction
        partitions (each holds a row-shifted copy of its channel's band, DMA'd
        from DRAM), so a 7x7 first layer runs 7 matmuls of K = 7C per tile
        instead of 49 of K = C. Otherwise channels (in tiles of 128) are the
        contraction and every (kh, kw) tap is one matmul. A resident input is
        read in place (its stored padding is the conv's), a resident result is
        written by the epilogue straight into its tile (PSUM partitions 0..M to
        the channel's partitions); only DRAM operands go through band tiles."""
        b = self.b
        N, C, H, W = x.shape
        O = out.shape[1]
        OH, OW, KH, KW = g.OH, g.OW, g.KH, g.KW
        isz, osz = x.itemsize, out.itemsize
        x_res, o_res = isinstance(x, SbufView), isinstance(out, SbufView)
        fold = not x_res and KH > 1 and Cg * KH <= self.target.pe_rows
        Pc, otw, Ob = _conv_tiling(self.target, Cg, Og, KH, KW, isz, fold, x.pc if x_res else None,
                                   out.pc if o_res else None)
        if fold:
            CT, CTf, Cr, rows_k = 1, 1, 0, Cg * KH
            taps_s = KW
        else:
            CT, CTf, Cr = _cdiv(Cg, Pc), Cg // Pc, Cg % Pc
            rows_k = min(Cg, Pc)
            taps_s = KH * KW
        taps = KH * KW
        if CT * otw * taps_s * isz > self.budget.big:
            raise self.error(f"a {KH}x{KW} kernel over {Cg} channels does not fit in SBUF tiles")
        if o_res and Ob < Og:
            Ob = (Ob // out.pc) * out.pc  # weight blocks of whole resident channel tiles
            assert Ob > 0
        single_block = Ob == Og
        cols = _balanced(OW, self.target.pe_max_moving)
        rows_mt = _balanced(OH, max(1, self.target.pe_max_moving // cols))

        def band_elems(rb: int) -> int:
            return rb * g.Wp if fold else CT * g.rows_in(rb) * g.Wp

        def fits(rb: int, nb: int = 1) -> bool:
            return ((x_res or nb * band_elems(rb) * isz <= self.budget.mid)
                    and (o_res or nb * rb * OW * osz <= self.budget.out))

        def psum_buffers(rmt: int, trips: int) -> int:
            """PSUM buffers: the count the cost model prices fastest for the (PE tile,
            scalar-engine drain) pipeline; one bank each, one kept for the neighbours."""
            pe_tile = CT * taps_s * (self.cm.stationary_load(x.element_type)
                                     + self.cm.matmul(rmt * cols, x.element_type))
            return self.cm.buffer_count([pe_tile, self.cm.activation(rmt * cols)], trips,
                                        self.target.psum_banks - 1)

        def band_cost(rb: int, nb: int) -> int:
            """Modelled cycles of one weight block's band loop (input DMAs, PE + drain, result DMAs)."""
            rmt = min(rows_mt, rb)
            chunk = CT * taps_s * (self.cm.stationary_load(x.element_type)
                                   + self.cm.matmul(rmt * cols, x.element_type))
            loads, computes, stores = [], [], []
            for r0 in range(0, OH, rb):
                nr = min(rb, OH - r0)
                if fold:
                    loads.append(KH * self.cm.dma(Cg * nr * W * isz))
                else:
                    loads.append(sum(self.cm.dma(c * g.rows_in(nr) * W * isz) for c in (CTf * Pc, Cr) if c))
                trips = _cdiv(Ob, otw) * _cdiv(nr, rmt) * _cdiv(OW, cols)
                nps_ = psum_buffers(rmt, trips)
                computes.append(self.cm.pipeline([chunk, self.cm.activation(rmt * cols)], trips, nps_))
                stores.append(0 if o_res else sum(self.cm.dma(sz * nr * OW * osz) * k
                                                  for sz, k in ((otw, Ob // otw), (Ob % otw, 1)) if sz and k))
            return self.cm.band_loop(loads, computes, stores, nb)

        if x_res:
            rb, nxb = self._band_rows(g, rows_mt, fits), 1
        else:
            rb, nxb = self._band_plan(g, rows_mt, fits, band_cost)
        rows_mt = min(rows_mt, rb)
        if x_res:
            x_ts, bp, Wx = [x.tile], x.ct_stride, x.Wp
        else:
            bp, Wx = g.rows_in(rb) * g.Wp, g.Wp  # one channel tile's band (unfolded)
            x_ts = [b.alloc(SbufType, rows_k, band_elems(rb), x.element_type, "x_t") for _ in range(nxb)]
        w_t = b.alloc(SbufType, rows_k, CT * Ob * taps_s, w.element_type, "w_t")
        nps = psum_buffers(rows_mt, _cdiv(Og, otw) * _cdiv(OH, rows_mt))
        pss = [b.alloc(PsumType, otw, rows_mt * cols, f32, "ps") for _ in range(min(nps, 2))]
        o_ts = [None] * nxb if o_res else [b.alloc(SbufType, otw, rb * OW, out.element_type, "o_t")
                                     for _ in range(nxb)]
        OTn = _cdiv(Og, otw)
        table = self._bias_columns(bias, obase, Og, otw) if bias else None
        b_t = table[0] if table else b.alloc(SbufType, otw, OTn, bias.element_type, "b_t") if bias else None
        bcol = table[1] if table else 0

        def load_weights(o0: AffineExpr, ob: int) -> None:
            src0 = o0.scaled(Cg * taps) + obase * Cg * taps
            if fold:  # partition kh*Cg + c holds w[o, c, kh, :] as [o][kw]
                for kh in range(KH):
                    b.dma(w_t, ap(kh * Cg, Cg, 0, [[ob * KW, 1]]),
                          w.var, ap(0, Cg, src0 + kh * KW, [[ob, Cg * taps], [KW, 1]], taps))
                return
            # partition c % Pc holds w[o, c, :, :] as [ct][o][tap]
            if CTf:
                b.dma(w_t, ap(0, Pc, 0, [[CTf * ob * taps, 1]]),
                      w.var, ap(0, Pc, src0,
                                [[CTf, Pc * taps], [ob, Cg * taps], [taps, 1]], taps))
            if Cr:
                b.dma(w_t, ap(0, Cr, CTf * ob * taps, [[ob * taps, 1]]),
                      w.var, ap(0, Cr, src0 + CTf * Pc * taps, [[ob, Cg * taps], [taps, 1]], taps))

        # weights first: the DMA queue is in order, so they stream ahead of the work
        if single_block:
            load_weights(E(0), Og)
        if bias and not table:
            bf, br = divmod(Og, otw)
            if bf:
                b.dma(b_t, ap(0, otw, 0, [[bf, 1]]), bias.var, ap(0, otw, obase, [[bf, otw]], 1))
            if br:
                b.dma(b_t, ap(0, br, bf, [[1, 1]]), bias.var, ap(0, br, obase + bf * otw, [[1, 1]], 1))

        def load_input(n: AffineExpr, r0: AffineExpr, nr: int, clean: bool, first: bool, slot: int = 0) -> None:
            if x_res:
                return
            x_t = x_ts[slot]
            plane = n.scaled(C * H * W) + cb * H * W
            if not fold:
                if CTf:
                    self._load_band(g, x, x_t, Pc, plane, r0, nr, clean, 0.0, first,
                                    (CTf, bp, Pc * H * W))
                if Cr:
                    self._load_band(g, x, x_t, Cr, plane + CTf * Pc * H * W, r0, nr, clean, 0.0,
                                    first and not CTf, dst_off=CTf * bp)
                return
            self._fill_band(g, x_t, rows_k, nr, clean, 0.0, first)
            for kh in range(KH):
                # x_t row j of partitions (kh, c) = padded input row (r0 + j)*sh + kh*dh
                shift = kh * g.dh - g.pt
                if clean:
                    j_lo, j_hi = 0, nr
                else:
                    top = r0.const * g.sh + shift
                    j_lo = max(0, _cdiv(-top, g.sh))
                    j_hi = min(nr, (g.H - 1 - top) // g.sh + 1) if g.H - 1 - top >= 0 else 0
                if j_hi <= j_lo:
                    continue
                row0 = (r0 + j_lo).scaled(g.sh) + shift
                b.dma(x_t, ap(kh * Cg, Cg, j_lo * g.Wp + g.pl, [[j_hi - j_lo, g.Wp], [W, 1]]),
                      x.var, ap(0, Cg, plane + row0.scaled(W), [[j_hi - j_lo, g.sh * W], [W, 1]], H * W))

        def out_tiles(o0: AffineExpr, ob: int):
            """(first channel in the block, channels, SBUF partition, channel tile, PSUM
            slot) per PSUM tile; consecutive tiles alternate slots."""
            if not o_res:
                for _, j0, ow_, slot in b.pingpong(ob, otw, len(pss)):
                    yield j0, ow_, 0, None, slot
                return
            per = _cdiv(out.pc, otw)
            for _, jc0, jw, slot in b.pingpong(ob, out.pc, len(pss) if per % 2 else 1):
                cto = self._div(o0 + jc0 + obase, out.pc)
                for h in range(_cdiv(jw, otw)):
                    yield jc0 + h * otw, min(otw, jw - h * otw), h * otw, cto, (slot + h) % len(pss)

        def compute_band(n: AffineExpr, o0: AffineExpr, ob: int, r0: AffineExpr, nr: int, buf: int) -> None:
            x_t, o_t = x_ts[buf], o_ts[buf]
            # moving operand: band tile, or the resident plane (its padding offset)
            xb = (n.scaled(x.plane) + (x.pads[0] - g.pt) * Wx + (x.pads[1] - g.pl)
                  + r0.scaled(g.sh * Wx)) if x_res else E(0)
            for j0, ow_, part, cto, slot in out_tiles(o0, ob):
                b_ap = ap(0, ow_, self._bias_col(o0 + j0, otw) + bcol, [[1, 1]]) if b_t else None
                for _, rr, nrr, rslot in b.pingpong(nr, rows_mt, len(pss)):
                    ps = pss[(slot + rslot) % len(pss)]
                    for _, c0, nc in b.tiles(OW, cols):
                        if fold:
                            with b.loop(KW) as kw:
                                b.add(LoadStationaryOp(
                                    w_t, ap(0, rows_k, j0.scaled(KW) + kw, [[ow_, KW]])))
                                b.add(MatmulOp(
                                    ps, ap(0, ow_, 0, [[nrr * nc, 1]]),
                                    x_t, ap(0, rows_k, rr.scaled(g.Wp) + c0.scaled(g.sw) + kw.scaled(g.dw),
                                            [[nrr, g.Wp], [nc, g.sw]]),
                                    accumulate=_acc(kw)))
                        else:
                            for ct, _, cw in b.tiles(Cg, Pc):
                                with b.loop(KH) as kh, b.loop(KW) as kw:
                                    tap = kh.scaled(KW) + kw
                                    b.add(LoadStationaryOp(
                                        w_t, ap(0, cw, ct.scaled(ob * taps) + j0.scaled(taps) + tap,
                                                [[ow_, taps]])))
                                    mv = (xb + ct.scaled(bp) + (rr.scaled(g.sh) + kh.scaled(g.dh)).scaled(Wx)
                                          + c0.scaled(g.sw) + kw.scaled(g.dw))
                                    b.add(MatmulOp(
                                        ps, ap(0, ow_, 0, [[nrr * nc, 1]]),
                                        x_t, ap(0, cw, mv, [[nrr, g.sh * Wx], [nc, g.sw]]),
                                        accumulate=_acc(ct + kh + kw)))
                        if o_res:
                            dst, dst_ap = out.tile, ap(
                                part, ow_, out.base(cto, n) + (r0 + rr).scaled(out.Wp) + c0,
                                [[nrr, out.Wp], [nc, 1]])
                        else:
                            dst, dst_ap = o_t, ap(0, ow_, rr.scaled(OW) + c0, [[nrr, OW], [nc, 1]])
                        b.act(act, dst, dst_ap, ps, ap(0, ow_, 0, [[nrr * nc, 1]]), b_t, b_ap)
                if not o_res:
                    dst = (n.scaled(O) + o0 + j0 + obase).scaled(OH * OW) + r0.scaled(OW)
                    b.dma(out.var, ap(0, ow_, dst, [[nr * OW, 1]], OH * OW),
                          o_t, ap(0, ow_, 0, [[nr * OW, 1]]))

        for n, _, _ in b.tiles(N, 1):
            for _, o0, ob in b.tiles(Og, Ob):
                if not single_block:
                    load_weights(o0, ob)
                if x_res:
                    for _, r0, nr in b.tiles(OH, rb):
                        compute_band(n, o0, ob, r0, nr, 0)
                elif nxb == 1:
                    first = True
                    for r0, nr, clean in self._bands(g, rb):
                        load_input(n, r0, nr, clean, first)
                        first = False
                        compute_band(n, o0, ob, r0, nr, 0)
                else:
                    for r0, nr, buf in self._prefetched_bands(g, rb, functools.partial(load_input, n)):
                        compute_band(n, o0, ob, r0, nr, buf)

    @staticmethod
    def _div(e: AffineExpr, k: int) -> AffineExpr:
        """``e / k`` for an affine expression whose every term is a multiple of ``k``."""
        assert e.const % k == 0 and all(c % k == 0 for c in e.coeffs), (e, k)
        return AffineExpr(e.const // k, tuple(c // k for c in e.coeffs))

    def _dw_engine(self, op: kt.Conv2dOp) -> str:
        """The engine of a depthwise conv (one input channel per group): the one the cost
        model prices lower in the operand dtype. "pe": diagonal stationary matrices (needs
        one output per input channel); "vector": per-partition multiply-adds."""
        cached = self._dw_cache.get(op)
        if cached is not None:
            return cached
        O, Cg, KH, KW = op.weight.type.get_shape()
        C = op.input.type.get_shape()[1]
        OH, OW = op.results[0].type.get_shape()[2:]
        choice = "vector"
        if Cg == 1 and O == C:
            dt = str(op.input.type.element_type)
            group = self._dw_group(C, KH * KW, OH, OW, dt)
            pe = self.cm.depthwise_conv("pe", C, KH * KW, OH, OW, dt, group=group)
            vec = self.cm.depthwise_conv("vector", C, KH * KW, OH, OW, dt)
            choice = "pe" if pe.cycles < vec.cycles else "vector"
        self._dw_cache[op] = choice
        return choice

    def _dw_group(self, C: int, taps: int, OH: int, OW: int, dtype: str) -> int:
        """Row chunks (one PSUM bank each) that share each diagonal stationary of a depthwise
        conv on the PE array: the count the cost model prices lowest (fewest banks on a tie),
        keeping one bank for the neighbouring ops' PSUM tiles."""
        t = self.target
        cols = _balanced(OW, t.pe_max_moving)
        chunk = _balanced(OH, max(1, t.pe_max_moving // cols)) * cols
        per_bank = _cdiv(chunk, t.psum_bank_entries)
        row_chunks = _cdiv(OH, _balanced(OH, max(1, t.pe_max_moving // cols)))
        most = max(1, min(row_chunks, (t.psum_banks - 1) // per_bank))
        return min(range(1, most + 1),
                   key=lambda g: (self.cm.depthwise_conv("pe", C, taps, OH, OW, dtype, group=g).cycles, g))

    def _identity_tile(self, dtype: Attribute) -> SSAValue:
        """A [partitions, pe_columns] tile, 1 where column == partition % pe_columns, built
        once per dtype: a DRAM scratch row of zeros with a one in the middle, read back
        with a partition stride of -1 (row p starts p elements earlier)."""
        key = str(dtype)
        if key in self.identity:
            return self.identity[key]
        b, M, P = self.b, self.target.pe_columns, self.target.partitions
        L = 2 * M - 1
        row = b.alloc(SbufType, 1, L, dtype, "eye_row")
        b.memset(row, ap(0, 1, 0, [[L, 1]]), 0.0)
        b.memset(row, ap(0, 1, M - 1, [[1, 1]]), 1.0)
        var = self.dram("tmp", f"t{self.tmp_count}", [L], dtype)
        self.tmp_count += 1
        b.dma(var, ap(0, 1, 0, [[L, 1]]), row, ap(0, 1, 0, [[L, 1]]))
        eye = b.alloc(SbufType, P, M, dtype, "eye")
        eye.owner.attributes[RESIDENT_ATTR] = UnitAttr()
        for p0 in range(0, P, M):
            n = min(M, P - p0)
            b.dma(eye, ap(p0, n, 0, [[M, 1]]), var, ap(0, n, M - 1, [[M, 1]], -1))
        self.identity[key] = eye
        return eye

    def _conv_dw_pe(self, x: DramView | SbufView, w: DramView, bias: DramView | None,
                    out: DramView | SbufView, g: "_Geom", act: str) -> None:
        """Depthwise convolution (one output per input channel) on the PE array: channel
        ``c`` on partition ``c % 128`` (the resident layout, read and written in place);
        per block of <= 64 channels and per tap the stationary is a diagonal matrix
        (identity x per-partition weight, one vector instruction per op) and one matmul
        per moving chunk accumulates the tap in PSUM, like a dense conv with K = M = 64."""
        b = self.b
        M = self.target.pe_columns
        N, C, H, W = x.shape
        OH, OW, KH, KW = g.OH, g.OW, g.KH, g.KW
        taps = KH * KW
        pc = self._pc(C)
        CT, CTf, Cr = _cdiv(C, pc), C // pc, C % pc
        x_res, o_res = isinstance(x, SbufView), isinstance(out, SbufView)
        isz, osz = x.itemsize, out.itemsize
        eye = self._identity_tile(w.element_type)
        w_col = b.alloc(SbufType, pc, CT * taps, w.element_type, "w_col")
        diag = b.alloc(SbufType, pc, CT * taps * M, w.element_type, "w_diag")
        b_t = b.alloc(SbufType, pc, CT, bias.element_type, "b_t") if bias else None
        for t_, var, k in ((w_col, w, taps), (b_t, bias, 1)):
            if t_ is None or var is None:
                continue
            if CTf:
                b.dma(t_, ap(0, pc, 0, [[CTf * k, 1]]), var.var, ap(0, pc, 0, [[CTf, pc * k], [k, 1]], k))
            if Cr:
                b.dma(t_, ap(0, Cr, CTf * k, [[k, 1]]), var.var, ap(0, Cr, CTf * pc * k, [[k, 1]], k))
        # diag[p, (ct, tap, j)] = w[ct * pc + p, tap] where j == p % M, else 0
        for n_t, parts, c_off in ((CTf, pc, 0), (1 if Cr else 0, Cr, CTf)):
            if n_t:
                k = n_t * taps
                b.tensor_tensor("mul", diag, ap(0, parts, c_off * taps * M, [[k, M], [M, 1]]),
                                eye, ap(0, parts, 0, [[k, 0], [M, 1]]),
                                w_col, ap(0, parts, c_off * taps, [[k, 1], [M, 0]]))
        cols = _balanced(OW, self.target.pe_max_moving)
        rows_mt = _balanced(OH, max(1, self.target.pe_max_moving // cols))

        def fits(rb: int) -> bool:
            return ((x_res or g.rows_in(rb) * g.Wp * isz <= self.budget.mid)
                    and (o_res or rb * OW * osz <= self.budget.out))

        rb = self._band_rows(g, rows_mt, fits)
        rows_mt = min(rows_mt, rb)
        # G row chunks share each stationary load, chunk i in PSUM bank(s) i
        G = min(self._dw_group(C, taps, OH, OW, str(w.element_type)), _cdiv(rb, rows_mt))
        bank = _cdiv(rows_mt * cols, self.target.psum_bank_entries) * self.target.psum_bank_entries
        if x_res:
            x_t, Wx = x.tile, x.Wp
        else:
            Wx = g.Wp
            x_t = b.alloc(SbufType, pc, g.rows_in(rb) * g.Wp, x.element_type, "x_t")
        ps = b.alloc(PsumType, M, (G - 1) * bank + rows_mt * cols, f32, "ps")
        o_t = None if o_res else b.alloc(SbufType, pc, rb * OW, out.element_type, "o_t")
        for n, _, _ in b.tiles(N, 1):
            for ct, c0, cw in b.tiles(C, pc):
                first = True
                bands = self._bands(g, rb) if not x_res else (
                    (r0, nr, True) for _, r0, nr in b.tiles(OH, rb))
                for r0, nr, clean in bands:
                    if x_res:
                        xb = x.base(ct, n) + (-g.pt * Wx - g.pl) + r0.scaled(g.sh * Wx)
                    else:
                        self._load_band(g, x, x_t, cw, n.scaled(C * H * W) + c0.scaled(H * W), r0, nr,
                                        clean, 0.0, first)
                        xb = E(0)
                    first = False
                    for p0 in range(0, cw, M):
                        bw = min(M, cw - p0)
                        b_ap = ap(p0, bw, ct, [[1, 1]]) if b_t else None
                        for _, cc, nc in b.tiles(OW, cols):
                            for _, rg, ng in b.tiles(nr, G * rows_mt):
                                with b.loop(KH) as kh, b.loop(KW) as kw:
                                    tap = kh.scaled(KW) + kw
                                    b.add(LoadStationaryOp(
                                        diag, ap(p0, bw, (ct.scaled(taps) + tap).scaled(M), [[bw, 1]])))
                                    for gi, ri, nrr in b.tiles(ng, rows_mt):
                                        rr = rg + ri
                                        mv = (xb + (rr.scaled(g.sh) + kh.scaled(g.dh)).scaled(Wx)
                                              + cc.scaled(g.sw) + kw.scaled(g.dw))
                                        b.add(MatmulOp(ps, ap(0, bw, gi.scaled(bank), [[nrr * nc, 1]]),
                                                       x_t, ap(p0, bw, mv, [[nrr, g.sh * Wx], [nc, g.sw]]),
                                                       accumulate=_acc(kh + kw)))
                                for gi, ri, nrr in b.tiles(ng, rows_mt):
                                    rr = rg + ri
                                    if o_res:
                                        dst, dst_ap = out.tile, ap(
                                            p0, bw, out.base(ct, n) + (r0 + rr).scaled(out.Wp) + cc,
                                            [[nrr, out.Wp], [nc, 1]])
                                    else:
                                        dst, dst_ap = o_t, ap(p0, bw, rr.scaled(OW) + cc, [[nrr, OW], [nc, 1]])
                                    b.act(act, dst, dst_ap, ps, ap(0, bw, gi.scaled(bank), [[nrr * nc, 1]]),
                                          b_t, b_ap)
                    if not o_res:
                        b.dma(out.var, ap(0, cw, (n.scaled(C) + c0).scaled(OH * OW) + r0.scaled(OW),
                                          [[nr * OW, 1]], OH * OW),
                              o_t, ap(0, cw, 0, [[nr * OW, 1]]))

    def _conv_vector(self, x: DramView, w: DramView, bias: DramView | None, out: DramView,
                     g: "_Geom", act: str) -> None:
        """Depthwise convolution (one input channel per group, ``m`` outputs each)
        on the vector engine: channels on partitions, each tap one multiply by a
        per-partition weight and one add over a whole band. (On the PE array a
        depthwise tap is a diagonal stationary matrix: K = M = 64 rows of which
        one is non-zero per column, 1/64 of the array; the vector engine's
        3 cycles per element per tap beat that for FP32 and stay within 1.5x for BF16.)"""
        b = self.b
        N, C, H, W = x.shape
        O = out.shape[1]
        m = O // C
        OH, OW, KH, KW = g.OH, g.OW, g.KH, g.KW
        taps = KH * KW
        isz, osz = x.itemsize, out.itemsize
        Pc = _balanced(C, self.target.partitions)
        CT, CTf, Cr = _cdiv(C, Pc), C // Pc, C % Pc

        def fits(rb: int) -> bool:
            return (g.rows_in(rb) * g.Wp * isz <= self.budget.mid and 2 * rb * OW * 4 <= self.budget.big
                    and rb * OW * osz <= self.budget.out)

        rb = self._band_rows(g, 1, fits)
        x_t = b.alloc(SbufType, Pc, g.rows_in(rb) * g.Wp, x.element_type, "x_t")
        w_t = b.alloc(SbufType, Pc, CT * m * taps, w.element_type, "w_t")
        acc = b.alloc(SbufType, Pc, rb * OW, f32, "acc")
        tmp = b.alloc(SbufType, Pc, rb * OW, f32, "tmp") if taps > 1 else None
        o_t = b.alloc(SbufType, Pc, rb * OW, out.element_type, "o_t")
        b_t = b.alloc(SbufType, Pc, CT * m, bias.element_type, "b_t") if bias else None
        for t, var, k in ((w_t, w, m * taps), (b_t, bias, m)):
            if t is None or var is None:
                continue
            if CTf:
                b.dma(t, ap(0, Pc, 0, [[CTf * k, 1]]), var.var, ap(0, Pc, 0, [[CTf, Pc * k], [k, 1]], k))
            if Cr:
                b.dma(t, ap(0, Cr, CTf * k, [[k, 1]]), var.var, ap(0, Cr, CTf * Pc * k, [[k, 1]], k))
        for n, _, _ in b.tiles(N, 1):
            for ct, c0, cw in b.tiles(C, Pc):
                first = True
                for r0, nr, clean in self._bands(g, rb):
                    self._load_band(g, x, x_t, cw, n.scaled(C * H * W) + c0.scaled(H * W), r0, nr,
                                    clean, 0.0, first)
                    first = False
                    a_ap = ap(0, cw, 0, [[nr * OW, 1]])
                    for j in range(m):
                        for kh in range(KH):
                            for kw in range(KW):
                                tap = kh * KW + kw
                                src = ap(0, cw, kh * g.dh * g.Wp + kw * g.dw, [[nr, g.sh * g.Wp], [OW, g.sw]])
                                s_ap = ap(0, cw, ct.scaled(m * taps) + j * taps + tap, [[1, 1]])
                                if tap == 0:
                                    b.tensor_scalar("mul", acc, a_ap, x_t, src, w_t, s_ap)
                                else:
                                    b.tensor_scalar("mul", tmp, a_ap, x_t, src, w_t, s_ap)
                                    b.tensor_tensor("add", acc, a_ap, acc, a_ap, tmp, a_ap)
                        b_ap = ap(0, cw, ct.scaled(m) + j, [[1, 1]]) if b_t else None
                        b.act(act, o_t, a_ap, acc, a_ap, b_t, b_ap)
                        dst = (n.scaled(O) + c0.scaled(m) + j).scaled(OH * OW) + r0.scaled(OW)
                        b.dma(out.var, ap(0, cw, dst, [[nr * OW, 1]], m * OH * OW), o_t, a_ap)

    @staticmethod
    def _bias_col(o_start: AffineExpr, otw: int) -> AffineExpr:
        """Column of the bias tile holding output channel ``o_start`` (a multiple of ``otw``)."""
        assert o_start.const % otw == 0 and all(c % otw == 0 for c in o_start.coeffs)
        return AffineExpr(o_start.const // otw, tuple(c // otw for c in o_start.coeffs))

    # --- ktensor.pool2d -------------------------------------------------------------
    def pool2d(self, op: kt.Pool2dOp, out: DramView) -> None:
        """Image planes on partitions, banded over output rows; one vector
        reduction per band over a 4-D window pattern."""
        b = self.b
        x = self.view(op.input)
        if isinstance(x, SbufView):
            self._pool_resident(op, x, out)
            return
        assert isinstance(out, DramView), "a resident pool result needs a resident input"
        N, C, H, W = x.shape
        OH, OW = out.shape[2:]
        KH, KW = _ints(op.kernel)
        g = _Geom.of(x.shape, (KH, KW), _ints(op.strides), _ints(op.pads), (1, 1), out.shape)
        is_max = op.kind.data == "max"
        exclude = (not is_max and op.count_include_pad is not None
                   and op.count_include_pad.value.data == 0 and (g.pt or g.pl or g.pb or g.pr))
        fill = float("-inf") if is_max else 0.0

        def fits(rb: int) -> bool:
            nin = g.rows_in(rb) * g.Wp
            extra = (nin + 2 * rb * OW) * 4 if exclude else 0
            return nin * x.itemsize + extra <= self.budget.big and rb * OW * out.itemsize <= self.budget.out

        rb = self._band_rows(g, 1, fits)
        planes = N * C
        pp = _balanced(planes, self.target.partitions)
        nin = g.rows_in(rb) * g.Wp
        x_t = b.alloc(SbufType, pp, nin, x.element_type, "x_t")
        o_t = b.alloc(SbufType, pp, rb * OW, out.element_type, "o_t")
        if exclude:
            m_t = b.alloc(SbufType, pp, nin, f32, "mask_t")
            c_t = b.alloc(SbufType, pp, rb * OW, f32, "rcount_t")
            s_t = b.alloc(SbufType, pp, rb * OW, f32, "sum_t")
        for _, p0, pw in b.tiles(planes, pp):
            first = True
            for r0, nr, clean in self._bands(g, rb):
                self._load_band(g, x, x_t, pw, p0.scaled(H * W), r0, nr, clean, fill, first)
                first = False
                o_ap = ap(0, pw, 0, [[nr * OW, 1]])
                win = [[nr, g.sh * g.Wp], [OW, g.sw], [KH, g.Wp], [KW, 1]]
                if not exclude:
                    b.reduce("max" if is_max else "add", o_t, o_ap, x_t, ap(0, pw, 0, win), 2,
                             scale=None if is_max else 1.0 / (KH * KW))
                else:
                    # divide by the in-bounds count: pool a 0/1 mask of the same band
                    nin_b = g.rows_in(nr)
                    if clean:
                        j_lo, j_hi = 0, nin_b
                    else:
                        top = r0.const * g.sh - g.pt
                        j_lo, j_hi = max(0, -top), min(nin_b, g.H - top)
                    b.memset(m_t, ap(0, pw, 0, [[nin, 1]]), 0.0)
                    if j_hi > j_lo:
                        b.memset(m_t, ap(0, pw, j_lo * g.Wp + g.pl, [[j_hi - j_lo, g.Wp], [W, 1]]), 1.0)
                    b.reduce("add", c_t, o_ap, m_t, ap(0, pw, 0, win), 2)
                    b.activation("reciprocal", c_t, o_ap, c_t, o_ap)
                    b.reduce("add", s_t, o_ap, x_t, ap(0, pw, 0, win), 2)
                    b.tensor_tensor("mul", o_t, o_ap, s_t, o_ap, c_t, o_ap)
                b.dma(out.var, ap(0, pw, p0.scaled(OH * OW) + r0.scaled(OW), [[nr * OW, 1]], OH * OW),
                      o_t, o_ap)

    def _pool_resident(self, op: kt.Pool2dOp, x: SbufView, out: DramView | SbufView) -> None:
        """Pool a resident input: one vector reduction per (image, channel tile,
        band) whose window pattern reads the stored (zero) padding directly, into
        a resident result or a band tile DMA'd to DRAM."""
        b = self.b
        N, C, H, W = x.shape
        OH, OW = out.shape[2:]
        KH, KW = _ints(op.kernel)
        g = _Geom.of(x.shape, (KH, KW), _ints(op.strides), _ints(op.pads), (1, 1), out.shape)
        is_max = op.kind.data == "max"
        o_res = isinstance(out, SbufView)
        Wx = x.Wp
        if o_res:
            rb, o_t = OH, None
        else:
            rb = self._band_rows(g, 1, lambda r: r * OW * out.itemsize <= self.budget.out)
            o_t = b.alloc(SbufType, x.pc, rb * OW, out.element_type, "o_t")
        for n, _, _ in b.tiles(N, 1):
            for ct, c0, cw in b.tiles(C, x.pc):
                xoff = x.base(ct, n) + (-g.pt * Wx - g.pl)
                for _, r0, nr in b.tiles(OH, rb):
                    src = ap(0, cw, xoff + r0.scaled(g.sh * Wx),
                             [[nr, g.sh * Wx], [OW, g.sw], [KH, Wx], [KW, 1]])
                    if o_res:
                        dst, dst_ap = out.tile, ap(0, cw, out.base(ct, n) + r0.scaled(out.Wp),
                                                   [[nr, out.Wp], [OW, 1]])
                    else:
                        dst, dst_ap = o_t, ap(0, cw, 0, [[nr * OW, 1]])
                    b.reduce("max" if is_max else "add", dst, dst_ap, x.tile, src, 2,
                             scale=None if is_max else 1.0 / (KH * KW))
                    if not o_res:
                        b.dma(out.var, ap(0, cw, (n.scaled(C) + c0).scaled(OH * OW) + r0.scaled(OW),
                                          [[nr * OW, 1]], OH * OW), o_t, dst_ap)

    # --- DRAM-to-DRAM copies: concat, pad, resize_nearest ----------------------------------
    def _copy(self, dst: SSAValue, dst_off: int, dst_strides: Sequence[int], src: SSAValue,
              src_off: int, src_strides: Sequence[int], shape: Sequence[int]) -> None:
        """Copy the strided block ``shape`` of ``src`` into ``dst`` with DMAs: one
        per 5 dims (a DRAM row dim plus 4 free dims), loops over the rest."""
        dims, (ds, ss) = _coalesce(shape, [dst_strides, src_strides])
        if not dims:
            dims, ds, ss = [1], [1], [1]
        if len(dims) == 1:
            dims, ds, ss = [1] + dims, [0] + ds, [0] + ss
        b = self.b

        def rec(k: int, d_off: AffineExpr, s_off: AffineExpr) -> None:
            if len(dims) - k > MAX_FREE_DIMS + 1:
                with b.loop(dims[k]) as i:
                    rec(k + 1, d_off + i.scaled(ds[k]), s_off + i.scaled(ss[k]))
                return
            free = list(range(k + 1, len(dims)))
            for _, r0, nr in b.tiles(dims[k], _MAX_DMA_ROWS):
                b.dma(dst, ap(0, nr, d_off + r0.scaled(ds[k]), [[dims[i], ds[i]] for i in free], ds[k]),
                      src, ap(0, nr, s_off + r0.scaled(ss[k]), [[dims[i], ss[i]] for i in free], ss[k]))

        rec(0, E(dst_off), E(src_off))

    def concat(self, op: kt.ConcatOp, out: DramView) -> None:
        axis = op.axis.value.data
        strides = _row_major_strides(out.shape)
        at = 0
        for v in op.inputs:
            x = self.view(v)
            self._copy(out.var, at * strides[axis], strides, x.var, 0, _row_major_strides(x.shape), x.shape)
            at += x.shape[axis]

    def pad(self, op: kt.PadOp, out: DramView) -> None:
        b = self.b
        x = self.view(op.input)
        r = len(x.shape)
        pads = _ints(op.pads)
        before, after = pads[:r], pads[r:]
        ost = _row_major_strides(out.shape)
        mode = op.mode.data
        if mode == "constant" and any(pads):
            # fill everything from one memset element (a stride-0 DMA source), then the interior
            fill = b.alloc(SbufType, 1, 1, out.element_type, "fill_t")
            b.memset(fill, ap(0, 1, 0, [[1, 1]]), float(op.value.value.data) if op.value else 0.0)
            n = out.size
            for _, f0, fw in b.tiles(n, max(1, int(np.iinfo(AP_DTYPE["counts"].base).max))):
                b.dma(out.var, ap(0, 1, f0, [[fw, 1]]), fill, ap(0, 1, 0, [[fw, 0]]))
        interior = sum(bf * s for bf, s in zip(before, ost))
        self._copy(out.var, interior, ost, x.var, 0, _row_major_strides(x.shape), x.shape)
        if mode == "constant":
            return
        # edge / reflect: dim by dim, copy border slices from the already-filled part
        for i in range(r):
            lo_i, n_i = before[i], x.shape[i]
            shape = [out.shape[j] if j < i else x.shape[j] for j in range(r)]
            shape[i] = 1
            base = sum(before[j] * ost[j] for j in range(i + 1, r))
            for k in range(before[i]):
                src = lo_i if mode == "edge" else 2 * lo_i - k
                self._copy(out.var, base + k * ost[i], ost, out.var, base + src * ost[i], ost, shape)
            for k in range(after[i]):
                dst = lo_i + n_i + k
                src = lo_i + n_i - 1 if mode == "edge" else lo_i + n_i - 2 - k
                self._copy(out.var, base + dst * ost[i], ost, out.var, base + src * ost[i], ost, shape)

    def resize_nearest(self, op: kt.ResizeNearestOp, out: DramView) -> None:
        x = self.view(op.input)
        N, C, H, W = x.shape
        s_h, s_w = _ints(op.scales)
        OW = W * s_w
        # out viewed as [N*C, H, s_h, W, s_w]; the source repeats with stride 0
        self._copy(out.var, 0, (H * s_h * OW, s_h * OW, OW, s_w, 1),
                   x.var, 0, (H * W, W, 0, 1, 0), (N * C, H, s_h, W, s_w))

    # --- pointwise: elementwise, activation, cast -------------------------------------
    def _pointwise(self, operands: Sequence[DramView], out: DramView,
                   compute: Callable[[list[SSAValue], SSAValue, int, int], None]) -> None:
        """Stream ``out`` through SBUF in [partitions, free] chunks, operands
        broadcast by their DMA access patterns; ``compute(in_tiles, out_tile,
        partitions, free)`` emits the engine work of one chunk."""
        b = self.b
        shape = out.shape
        strides = [_broadcast_strides(v.shape, shape) for v in operands]
        strides.append(_row_major_strides(shape))
        dims, st = _coalesce(shape, strides)
        P = self.target.partitions
        per_elem = sum(v.itemsize for v in operands) + out.itemsize
        cap = max(1, self.budget.big // per_elem)
        blocks: list[tuple[list[int], list[list[int]], list[int]]] = []
        if len(dims) <= 1:
            n = dims[0] if dims else 1
            s = [x[0] if x else 0 for x in st]
            f = _row_length(n, P, cap)
            rows, tail = divmod(n, f)
            blocks.append(([rows, f], [[si * f, si] for si in s], [0] * len(s)))
            if tail:
                blocks.append(([1, tail], [[0, si] for si in s], [si * rows * f for si in s]))
        else:
            blocks.append((dims, st, [0] * len(st)))
        free_max = max(_balanced(d[-1], cap) for d, _, _ in blocks)
        part_max = max(_balanced(d[-2], P) for d, _, _ in blocks)
        tiles = [b.alloc(SbufType, part_max, free_max, v.element_type, f"in{i}_t")
                 for i, v in enumerate(operands)]
        o_t = b.alloc(SbufType, part_max, free_max, out.element_type, "o_t")
        drams = [v.var for v in operands] + [out.var]
        for d, s, base in blocks:
            self._pointwise_block(d, s, base, drams, tiles, o_t, cap, compute)

    def _pointwise_block(self, dims, strides, base, drams, tiles, o_t, cap, compute) -> None:
        b = self.b
        P = self.target.partitions
        offs = [E(x) for x in base]

        def rec(k: int, offs: list[AffineExpr]) -> None:
            if k < len(dims) - 2:
                with b.loop(dims[k]) as d:
                    rec(k + 1, [o + d.scaled(s[k]) for o, s in zip(offs, strides)])
                return
            for _, p0, pw in b.tiles(dims[-2], _balanced(dims[-2], P)):
                for _, f0, fw in b.tiles(dims[-1], _balanced(dims[-1], cap)):
                    at = [o + p0.scaled(s[-2]) + f0.scaled(s[-1]) for o, s in zip(offs, strides)]
                    for t, var, a, s in zip(tiles, drams, at, strides):
                        b.dma(t, ap(0, pw, 0, [[fw, 1]]), var, ap(0, pw, a, [[fw, s[-1]]], s[-2]))
                    compute(tiles, o_t, pw, fw)
                    b.dma(drams[-1], ap(0, pw, at[-1], [[fw, strides[-1][-1]]], strides[-1][-2]),
                          o_t, ap(0, pw, 0, [[fw, 1]]))

        rec(0, offs)

    def _pointwise_resident(self, operands: Sequence[SbufView], out: SbufView,
                            compute: Callable[[list[tuple[SSAValue, AccessPatternAttr]],
                                               tuple[SSAValue, AccessPatternAttr]], None]) -> None:
        """Pointwise work between resident tiles of one shape: one instruction
        sequence per (image, channel tile) over the interiors, no DMA."""
        N, C, _, _ = out.shape
        for n, _, _ in self.b.tiles(N, 1):
            for ct, _, cw in self.b.tiles(C, out.pc):
                compute([(v.tile, v.interior(0, cw, ct, n)) for v in operands],
                        (out.tile, out.interior(0, cw, ct, n)))

    def elementwise(self, op: kt.ElementwiseOp, out: DramView | SbufView) -> None:
        kind, act = op.kind.data, op.activation.data
        if isinstance(out, SbufView):
            def compute_sb(ins, o):
                (l_t, l_ap), (r_t, r_ap) = ins
                self.b.tensor_tensor(kind, o[0], o[1], l_t, l_ap, r_t, r_ap)
                if act != "none":
                    self.b.act(act, o[0], o[1], o[0], o[1])

            self._pointwise_resident([self.view(op.lhs), self.view(op.rhs)], out, compute_sb)
            return

        def compute(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.b.tensor_tensor(kind, o_t, a, tiles[0], a, tiles[1], a)
            if act != "none":
                self.b.act(act, o_t, a, o_t, a)

        self._pointwise([self.view(op.lhs), self.view(op.rhs)], out, compute)

    def activation(self, op: kt.ActivationOp, out: DramView | SbufView) -> None:
        func = op.func.data
        alpha = None if op.alpha is None else float(op.alpha.value.data)
        beta = None if op.beta is None else float(op.beta.value.data)
        if isinstance(out, SbufView):
            def compute_sb(ins, o):
                self.b.act(func, o[0], o[1], ins[0][0], ins[0][1], alpha=alpha, beta=beta)

            self._pointwise_resident([self.view(op.input)], out, compute_sb)
            return

        def compute(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.b.act(func, o_t, a, tiles[0], a, alpha=alpha, beta=beta)

        self._pointwise([self.view(op.input)], out, compute)

    def cast(self, op: kt.CastOp, out: DramView | SbufView) -> None:
        if isinstance(out, SbufView):
            def compute_sb(ins, o):
                self.b.activation("identity", o[0], o[1], ins[0][0], ins[0][1])

            self._pointwise_resident([self.view(op.input)], out, compute_sb)
            return

        def compute(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.b.activation("identity", o_t, a, tiles[0], a)

        self._pointwise([self.view(op.input)], out, compute)

    # --- ktensor.softmax ---------------------------------------------------------------
    def softmax(self, op: kt.SoftmaxOp, out: DramView) -> None:
        b = self.b
        x = self.view(op.input)
        axis = op.axis.value.data
        shape = x.shape
        outer, L, inner = _prod(shape[:axis]), shape[axis], _prod(shape[axis + 1:])
        if L * (x.itemsize + 4 + out.itemsize) > self.budget.big:
            raise self.error(f"a softmax over {L} elements does not fit in one SBUF partition")
        P = self.target.partitions
        # rows on partitions: the inner index when the axis is not last, else the outer one
        if inner > 1:
            loop_n, loop_s, rows, pstride, fstride = outer, L * inner, inner, 1, inner
        else:
            loop_n, loop_s, rows, pstride, fstride = 1, 0, outer, L, 1
        pp = _balanced(rows, P)
        x_t = b.alloc(SbufType, pp, L, x.element_type, "x_t")
        e_t = b.alloc(SbufType, pp, L, f32, "e_t")
        m_t = b.alloc(SbufType, pp, 1, f32, "max_t")
        s_t = b.alloc(SbufType, pp, 1, f32, "sum_t")
        y_t = b.alloc(SbufType, pp, L, out.element_type, "y_t")
        for o, _, _ in b.tiles(loop_n, 1):
            for _, p0, pw in b.tiles(rows, pp):
                off = o.scaled(loop_s) + p0.scaled(pstride)
                row, one = ap(0, pw, 0, [[L, 1]]), ap(0, pw, 0, [[1, 1]])
                b.dma(x_t, row, x.var, ap(0, pw, off, [[L, fstride]], pstride))
                b.reduce("max", m_t, one, x_t, row, 1)
                b.tensor_scalar("sub", e_t, row, x_t, row, m_t, one)
                b.activation("exp", e_t, row, e_t, row)
                b.reduce("add", s_t, one, e_t, row, 1)
                b.activation("reciprocal", s_t, one, s_t, one)
                b.tensor_scalar("mul", y_t, row, e_t, row, s_t, one)
                b.dma(out.var, ap(0, pw, off, [[L, fstride]], pstride), y_t, row)

    # --- ktensor.transpose --------------------------------------------------------------
    def transpose(self, op: kt.TransposeOp, out: DramView) -> None:
        x = self.view(op.input)
        perm = _ints(op.perm)
        in_strides = _row_major_strides(x.shape)
        dims, (src,) = _coalesce(out.shape, [tuple(in_strides[p] for p in perm)])
        if not dims:
            dims, src = [1], [1]
        if len(dims) > MAX_FREE_DIMS + 1:
            raise self.error(f"the permutation {list(perm)} needs {len(dims)} strided dimensions; "
                             f"a DMA has at most {MAX_FREE_DIMS + 1}")
        if len(dims) == 1:
            dims, src = [1] + dims, [0] + src
        inner = _prod(dims[1:])
        for _, r0, nr in self.b.tiles(dims[0], _MAX_DMA_ROWS):
            self.b.dma(out.var, ap(0, 1, r0.scaled(inner), [[nr * inner, 1]]),
                       x.var, ap(0, nr, r0.scaled(src[0]), list(zip(dims[1:], src[1:])), src[0]))


_LOWERINGS: dict[type[Operation], Callable[[_FunctionLowering, Operation, DramView], None]] = {
    kt.MatmulOp: _FunctionLowering.matmul,
    kt.Conv2dOp: _FunctionLowering.conv2d,
    kt.Pool2dOp: _FunctionLowering.pool2d,
    kt.ElementwiseOp: _FunctionLowering.elementwise,
    kt.ActivationOp: _FunctionLowering.activation,
    kt.CastOp: _FunctionLowering.cast,
    kt.SoftmaxOp: _FunctionLowering.softmax,
    kt.TransposeOp: _FunctionLowering.transpose,
    kt.ConcatOp: _FunctionLowering.concat,
    kt.PadOp: _FunctionLowering.pad,
    kt.ResizeNearestOp: _FunctionLowering.resize_nearest,
}


@dataclass(frozen=True)
class ConvertTensorToInferentiaPass(ModulePass):
    """Replace ``func.func @main`` of ktensor ops by ``inf.core 0``'s program."""

    name: ClassVar[str] = "convert-tensor-to-inferentia"

    core: int = 0
    # the target whose cost model prices the lowering's decisions (kaena.target.get_target)
    target: str = "inf1"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        mains = [f for f in op.ops if isinstance(f, func.FuncOp) and f.sym_name.data == "main"]
        if not mains:
            raise CompileError("convert-tensor-to-inferentia: the module has no func.func @main to lower")
        fn = mains[0]
        # the weights, when the module names a store (the bias table is a derived weight)
        store = module_store(op) if WEIGHTS_ATTR in op.attributes else None
        block = _FunctionLowering(fn, get_target(self.target), store).run()
        # Weights and scratch no instruction reads (e.g. biases gathered into a bias
        # table) must not reach the NEFF: they would cost bytes and mislead editors.
        for dram in [o for o in block.ops if isinstance(o, DramOp)]:
            if dram.kind.data in ("file", "tmp") and not dram.result.uses:
                block.erase_op(dram)
        core = CoreOp(self.core, Region(block))
        op.body.block.insert_op_before(core, fn)
        fn.detach()
        fn.erase()
