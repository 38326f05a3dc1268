"""Lower ``ktensor`` to the Inferentia dialect: one ``inf.core`` program.

Every ktensor value lives in DRAM in its logical row-major layout (function
arguments in ``input`` variables, results in ``output`` variables, weights in
``file`` variables, everything else in ``tmp`` scratch). Each ktensor op DMAs
its operands into SBUF tiles in the layout its engine wants (strided access
patterns do transposes and broadcasts), computes, and DMAs the result back.
The emitted program is correct executed one instruction at a time; SCHED's
passes place the tiles and add the semaphores. Tile grids are ``inf.loop``
nests with affine offsets, remainders peeled into separate copies.

This is a whole-function translation (one ordered program out of one
function), so it walks the function once in order rather than applying
independent rewrite patterns.
"""

from __future__ import annotations

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
from kaena.errors import CompileError
from kaena.isa import AP_DTYPE, MAX_FREE_DIMS, DType
from kaena.target import INF1

NAME_ATTR = "kaena.name"

# Policy, not hardware: the share of one SBUF partition the tiles of a single
# ktensor op may take (the program is sequential, so one op's tiles are live
# at a time; the rest is headroom for the allocator and later pipelining).
_SBUF = INF1.sbuf_bytes_per_partition
_BUDGET_BIG = _SBUF * 3 // 8  # the big operand (weights, padded image)
_BUDGET_MID = _SBUF // 4  # the moving operand
_BUDGET_OUT = _SBUF // 8  # results waiting for their DMA
# DRAM rows one DMA access pattern can address (the ISA's num_partitions field).
_MAX_DMA_ROWS = int(np.iinfo(AP_DTYPE["num_partitions"]).max)

_ACT_FUNC = {"none": "identity", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
             "gelu": "gelu", "exp": "exp"}


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


@dataclass(frozen=True)
class DramView:
    """A ktensor value: a DRAM variable seen with a logical row-major shape."""

    var: SSAValue
    shape: tuple[int, ...]

    @property
    def element_type(self) -> Attribute:
        t = self.var.type
        assert isinstance(t, DramType)
        return t.element_type

    @property
    def itemsize(self) -> int:
        return DType.from_name(str(self.element_type)).itemsize

    @property
    def size(self) -> int:
        return _prod(self.shape)


E = AffineExpr


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

    def tiles(self, size: int, tile: int) -> Iterator[tuple[AffineExpr, AffineExpr, int]]:
        """(tile index, start, extent) over [0, size) in steps of ``tile``: one
        loop over the full tiles, then the remainder peeled."""
        full, rem = divmod(size, tile)
        if full:
            with self.loop(full) as d:
                yield d, d.scaled(tile), tile
        if rem:
            yield E(full), E(full * tile), rem

    # --- instructions ---------------------------------------------------------
    def dma(self, dst: SSAValue, dst_ap: AccessPatternAttr, src: SSAValue, src_ap: AccessPatternAttr):
        self.add(DmaOp(dst, _squeeze(dst_ap), src, _squeeze(src_ap)))

    def activation(self, func_name: str, out: SSAValue, out_ap: AccessPatternAttr, inp: SSAValue,
                   in_ap: AccessPatternAttr, bias: SSAValue | None = None,
                   bias_ap: AccessPatternAttr | None = None, scale: float | None = None):
        props: dict[str, Attribute | None] = {
            "func": StringAttr(func_name), "out_ap": out_ap, "in_ap": in_ap, "bias_ap": bias_ap,
            "scale": None if scale is None else FloatAttr(scale, f32),
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


class _FunctionLowering:
    """Lowers one ``func.func`` of ktensor ops into the body of an ``inf.core``."""

    def __init__(self, fn: func.FuncOp):
        self.fn = fn
        self.block = Block()
        self.b = _Builder(self.block)
        self.drams: list[Operation] = []
        self.views: dict[SSAValue, DramView] = {}
        self.weights: dict[str, SSAValue] = {}
        self.tmp_count = 0
        self.op_desc = ""

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
        for op in fn.body.block.ops:
            if op is ret:
                break
            self.op_desc = self._describe(op)
            self._lower_op(op, direct)
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
        out = direct.get(res) or self.tmp(res)
        self.views[res] = out
        lower(self, op, out)

    def view(self, v: SSAValue) -> DramView:
        return self.views[v]

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
        NT, MT = INF1.pe_columns, INF1.pe_max_moving
        P = _balanced(K, INF1.pe_rows)  # rows of one K tile
        KT, Kp, KTf, Kr = _cdiv(K, P), min(K, P), K // P, K % P
        # moving tile: all of K for Mt rows of lhs
        Mt = _balanced(M, MT)
        while KT * Mt * isz > _BUDGET_MID and Mt > 1:
            Mt = _cdiv(Mt, 2)
        ntw = _balanced(N, NT)
        while KT * ntw * isz > _BUDGET_BIG and ntw > 1:
            ntw = _cdiv(ntw, 2)
        if KT * Mt * isz > _BUDGET_MID or KT * ntw * isz > _BUDGET_BIG:
            raise self.error(f"K = {K} is too long for SBUF tiles ({KT} tiles of {P} rows); "
                             "split the contraction in the model")
        ntb = max(1, min(_cdiv(N, ntw), _BUDGET_BIG // (KT * ntw * isz), _BUDGET_OUT // (Mt * osz)))
        Nb = min(N, ntb * ntw)
        ntb = _cdiv(Nb, ntw)
        w_t = b.alloc(SbufType, Kp, KT * Nb, rhs.element_type, "w_t")
        x_t = b.alloc(SbufType, Kp, KT * Mt, lhs.element_type, "x_t")
        ps = b.alloc(PsumType, ntw, Mt, f32, "ps")
        o_t = b.alloc(SbufType, ntw, ntb * Mt, out.element_type, "o_t")
        b_t = b.alloc(SbufType, ntw, ntb, bias.element_type, "b_t") if bias else None
        func_name = _ACT_FUNC[op.activation.data]
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
                    b.activation(func_name, o_t, ap(0, nw, jt.scaled(mt), [[mt, 1]]),
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

    # --- ktensor.conv2d -----------------------------------------------------------
    def conv2d(self, op: kt.Conv2dOp, out: DramView) -> None:
        b = self.b
        x, w = self.view(op.input), self.view(op.weight)
        bias = self.view(op.bias) if op.bias is not None else None
        if op.groups.value.data != 1:
            raise self.error(f"groups = {op.groups.value.data} is not supported yet (only groups = 1)")
        if x.element_type != w.element_type:
            raise self.error(
                f"input and weight have different element types ({x.element_type} and "
                f"{w.element_type}); run auto-cast so both are the same"
            )
        N, C, H, W = x.shape
        O, _, KH, KW = w.shape
        _, _, OH, OW = out.shape
        sh, sw = kt._ints(op.strides)
        pt, pl, pb, pr = kt._ints(op.pads)
        dh, dw = kt._ints(op.dilations)
        Hp, Wp = H + pt + pb, W + pl + pr
        plane, taps = Hp * Wp, KH * KW
        isz, osz = x.itemsize, out.itemsize
        NT, MT = INF1.pe_columns, INF1.pe_max_moving
        P = _balanced(C, INF1.pe_rows)  # channels of one C tile
        CT, Cp, CTf, Cr = _cdiv(C, P), min(C, P), C // P, C % P
        if CT * plane * isz > _BUDGET_BIG:
            raise self.error(
                f"the padded input planes ({CT} x {Hp}x{Wp} {x.element_type}) need "
                f"{CT * plane * isz} bytes per SBUF partition, more than the {_BUDGET_BIG} a "
                "convolution input may use; reduce the image size"
            )
        otw = _balanced(O, NT)
        while CT * otw * taps * isz > _BUDGET_MID and otw > 1:
            otw = _cdiv(otw, 2)
        if CT * otw * taps * isz > _BUDGET_MID:
            raise self.error(f"a {KH}x{KW} kernel over {C} channels does not fit in SBUF tiles")
        otb = max(1, min(_cdiv(O, otw), _BUDGET_MID // (CT * otw * taps * isz)))
        Ob = min(O, otb * otw)
        cols = _balanced(OW, MT)
        rows = _balanced(OH, max(1, MT // cols))
        plane_out = OH * OW * osz <= _BUDGET_OUT
        x_t = b.alloc(SbufType, Cp, CT * plane, x.element_type, "x_t")
        w_t = b.alloc(SbufType, Cp, CT * Ob * taps, w.element_type, "w_t")
        ps = b.alloc(PsumType, otw, rows * cols, f32, "ps")
        o_t = b.alloc(SbufType, otw, OH * OW if plane_out else rows * cols, out.element_type, "o_t")
        OTn = _cdiv(O, otw)
        b_t = b.alloc(SbufType, otw, OTn, bias.element_type, "b_t") if bias else None
        func_name = _ACT_FUNC[op.activation.data]

        def load_weights(o0: AffineExpr, ob: int) -> None:
            # weight [O, C, KH, KW] -> [c partitions, (ct, o, tap)]
            if CTf:
                b.dma(w_t, ap(0, P, 0, [[CTf * ob * taps, 1]]),
                      w.var, ap(0, P, o0.scaled(C * taps), [[CTf, P * taps], [ob, C * taps], [taps, 1]], taps))
            if Cr:
                b.dma(w_t, ap(0, Cr, CTf * ob * taps, [[ob * taps, 1]]),
                      w.var, ap(0, Cr, o0.scaled(C * taps) + CTf * P * taps, [[ob, C * taps], [taps, 1]], taps))

        if bias:
            bf, br = divmod(O, otw)
            if bf:
                b.dma(b_t, ap(0, otw, 0, [[bf, 1]]), bias.var, ap(0, otw, 0, [[bf, otw]], 1))
            if br:
                b.dma(b_t, ap(0, br, bf, [[1, 1]]), bias.var, ap(0, br, bf * otw, [[1, 1]], 1))
        single_block = Ob == O
        if single_block:
            load_weights(E(0), O)
        if Hp != H or Wp != W:
            b.memset(x_t, ap(0, Cp, 0, [[CT * plane, 1]]), 0.0)
        for n, _, _ in b.tiles(N, 1):
            xin = n.scaled(C * H * W)
            interior = pt * Wp + pl
            if CTf:
                b.dma(x_t, ap(0, P, interior, [[CTf, plane], [H, Wp], [W, 1]]),
                      x.var, ap(0, P, xin, [[CTf, P * H * W], [H * W, 1]], H * W))
            if Cr:
                b.dma(x_t, ap(0, Cr, CTf * plane + interior, [[H, Wp], [W, 1]]),
                      x.var, ap(0, Cr, xin + CTf * P * H * W, [[H * W, 1]], H * W))
            for _, o0, ob in b.tiles(O, Ob):
                if not single_block:
                    load_weights(o0, ob)
                for _, j0, ow_ in b.tiles(ob, otw):
                    b_ap = ap(0, ow_, self._bias_col(o0 + j0, otw), [[1, 1]]) if b_t else None
                    for _, r0, nr in b.tiles(OH, rows):
                        for _, c0, nc in b.tiles(OW, cols):
                            for ct, _, cw in b.tiles(C, P):
                                with b.loop(KH) as kh, b.loop(KW) as kw:
                                    tap = kh.scaled(KW) + kw
                                    b.add(LoadStationaryOp(
                                        w_t, ap(0, cw, ct.scaled(ob * taps) + j0.scaled(taps) + tap,
                                                [[ow_, taps]])))
                                    mv_off = (ct.scaled(plane) + (r0.scaled(sh) + kh.scaled(dh)).scaled(Wp)
                                              + c0.scaled(sw) + kw.scaled(dw))
                                    b.add(MatmulOp(
                                        ps, ap(0, ow_, 0, [[nr * nc, 1]]),
                                        x_t, ap(0, cw, mv_off, [[nr, sh * Wp], [nc, sw]]),
                                        accumulate=_acc(ct + kh + kw)))
                            if plane_out:
                                o_ap = ap(0, ow_, r0.scaled(OW) + c0, [[nr, OW], [nc, 1]])
                            else:
                                o_ap = ap(0, ow_, 0, [[nr * nc, 1]])
                            b.activation(func_name, o_t, o_ap, ps, ap(0, ow_, 0, [[nr * nc, 1]]),
                                         b_t, b_ap)
                            if not plane_out:
                                dst = (n.scaled(O) + o0 + j0).scaled(OH * OW) + r0.scaled(OW) + c0
                                b.dma(out.var, ap(0, ow_, dst, [[nr, OW], [nc, 1]], OH * OW),
                                      o_t, ap(0, ow_, 0, [[nr * nc, 1]]))
                    if plane_out:
                        dst = (n.scaled(O) + o0 + j0).scaled(OH * OW)
                        b.dma(out.var, ap(0, ow_, dst, [[OH * OW, 1]], OH * OW),
                              o_t, ap(0, ow_, 0, [[OH * OW, 1]]))

    @staticmethod
    def _bias_col(o_start: AffineExpr, otw: int) -> AffineExpr:
        """Column of the bias tile holding output channel ``o_start`` (a multiple of ``otw``)."""
        assert o_start.const % otw == 0 and all(c % otw == 0 for c in o_start.coeffs)
        return AffineExpr(o_start.const // otw, tuple(c // otw for c in o_start.coeffs))

    # --- ktensor.pool2d -------------------------------------------------------------
    def pool2d(self, op: kt.Pool2dOp, out: DramView) -> None:
        b = self.b
        x = self.view(op.input)
        N, C, H, W = x.shape
        _, _, OH, OW = out.shape
        KH, KW = kt._ints(op.kernel)
        sh, sw = kt._ints(op.strides)
        pt, pl, pb, pr = kt._ints(op.pads)
        Hp, Wp = H + pt + pb, W + pl + pr
        is_max = op.kind.data == "max"
        need = Hp * Wp * x.itemsize + OH * OW * out.itemsize
        if need > _BUDGET_BIG + _BUDGET_MID + _BUDGET_OUT:
            raise self.error(
                f"a {Hp}x{Wp} input plane and its {OH}x{OW} result need {need} bytes per SBUF "
                f"partition, more than the {_BUDGET_BIG + _BUDGET_MID + _BUDGET_OUT} pooling may use; "
                "reduce the image size"
            )
        P = INF1.partitions
        planes = N * C
        pp = _balanced(planes, P)
        x_t = b.alloc(SbufType, pp, Hp * Wp, x.element_type, "x_t")
        o_t = b.alloc(SbufType, pp, OH * OW, out.element_type, "o_t")
        if Hp != H or Wp != W:
            b.memset(x_t, ap(0, pp, 0, [[Hp * Wp, 1]]), float("-inf") if is_max else 0.0)
        for _, p0, pw in b.tiles(planes, pp):
            b.dma(x_t, ap(0, pw, pt * Wp + pl, [[H, Wp], [W, 1]]),
                  x.var, ap(0, pw, p0.scaled(H * W), [[H, W], [W, 1]], H * W))
            b.reduce("max" if is_max else "add", o_t, ap(0, pw, 0, [[OH * OW, 1]]),
                     x_t, ap(0, pw, 0, [[OH, sh * Wp], [OW, sw], [KH, Wp], [KW, 1]]), 2,
                     scale=None if is_max else 1.0 / (KH * KW))
            b.dma(out.var, ap(0, pw, p0.scaled(OH * OW), [[OH * OW, 1]], OH * OW),
                  o_t, ap(0, pw, 0, [[OH * OW, 1]]))

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
        P = INF1.partitions
        per_elem = sum(v.itemsize for v in operands) + out.itemsize
        cap = max(1, _BUDGET_BIG // per_elem)
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
        P = INF1.partitions
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

    def elementwise(self, op: kt.ElementwiseOp, out: DramView) -> None:
        kind, func_name = op.kind.data, _ACT_FUNC[op.activation.data]

        def compute(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.b.tensor_tensor(kind, o_t, a, tiles[0], a, tiles[1], a)
            if func_name != "identity":
                self.b.activation(func_name, o_t, a, o_t, a)

        self._pointwise([self.view(op.lhs), self.view(op.rhs)], out, compute)

    def activation(self, op: kt.ActivationOp, out: DramView) -> None:
        func_name = _ACT_FUNC[op.func.data]

        def compute(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.b.activation(func_name, o_t, a, tiles[0], a)

        self._pointwise([self.view(op.input)], out, compute)

    def cast(self, op: kt.CastOp, out: DramView) -> None:
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
        if L * (x.itemsize + 4 + out.itemsize) > _BUDGET_BIG:
            raise self.error(f"a softmax over {L} elements does not fit in one SBUF partition")
        P = INF1.partitions
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
        perm = kt._ints(op.perm)
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
}


@dataclass(frozen=True)
class ConvertTensorToInferentiaPass(ModulePass):
    """Replace ``func.func @main`` of ktensor ops by ``inf.core 0``'s program."""

    name: ClassVar[str] = "convert-tensor-to-inferentia"

    core: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        mains = [f for f in op.ops if isinstance(f, func.FuncOp) and f.sym_name.data == "main"]
        if not mains:
            raise CompileError("convert-tensor-to-inferentia: the module has no func.func @main to lower")
        fn = mains[0]
        block = _FunctionLowering(fn).run()
        core = CoreOp(self.core, Region(block))
        op.body.block.insert_op_before(core, fn)
        fn.detach()
        fn.erase()
