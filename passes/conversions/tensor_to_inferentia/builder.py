"""The one place that constructs ``inf`` ops: instructions, tiles, loops, DRAM variables.

Every op the builder adds carries the ``kaena.source`` names of the ktensor op
being lowered (``lowering``), so source locations need no per-family code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from xdsl.dialects.builtin import UnitAttr
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from kaena.dialects.attributes import RESIDENT_ATTR, SCALAR_ATTR, set_sources
from kaena.dialects.inferentia import (
    AccessPatternAttr,
    ActivationOp,
    AllocOp,
    CoreOp,
    DmaGatherOp,
    DmaOp,
    DramOp,
    DramType,
    LoadStationaryOp,
    LoopOp,
    MatmulOp,
    MemsetOp,
    PsumType,
    ReduceOp,
    SelectOp,
    SbufType,
    TensorScalarOp,
    TensorTensorOp,
    TransposeOp,
    ap,
)

from kaena.errors import CompileError

from .utils import E, hint

# ktensor activation -> the scalar engine's function of the same name
_ACT_FUNC = {"none": "identity", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
             "gelu": "gelu", "exp": "exp", "gelu_tanh": "gelu_tanh", "erf": "erf", "log": "log",
             "sqrt": "sqrt", "rsqrt": "rsqrt", "reciprocal": "reciprocal", "square": "square",
             "neg": "neg"}


def single_rounding(func: str) -> bool:
    """Whether ``act(func, ...)`` rounds once to its output dtype (so it may write a cast's
    dtype directly): one scalar-engine instruction, or relu then an exact clamp at 6."""
    return func in _ACT_FUNC or func == "relu6"


def _squeeze(attr: AccessPatternAttr) -> AccessPatternAttr:
    """Drop unit free dims of a DMA pattern (a DMA only counts elements)."""
    a = attr.data
    dims = [d for d in a.dims if d[0] != 1] or [(1, 1)]
    if len(dims) == len(a.dims):
        return attr
    return ap(a.partition, a.partitions, a.offset, dims, a.partition_stride)


class Builder:
    """Appends instructions in program order; ``loop`` opens an ``inf.loop``
    whose index is returned as an affine expression. DRAM variables are
    collected apart and declared at the top of the program by ``finish``."""

    def __init__(self) -> None:
        self.top = Block()
        self.cur = self.top
        self.depth = 0
        self.outer_loop: Operation | None = None
        self.drams: list[DramOp] = []
        self.sources: tuple[str, ...] = ()

    @contextmanager
    def lowering(self, sources: Iterable[str]) -> Iterator[None]:
        """Stamp every op added meanwhile with ``sources`` (the ktensor op's nodes)."""
        saved, self.sources = self.sources, tuple(sources)
        try:
            yield
        finally:
            self.sources = saved

    def _stamp(self, op: Operation) -> Operation:
        if self.sources:
            set_sources(op, self.sources)
        return op

    def _add(self, op: Operation) -> Operation:
        self.cur.add_op(self._stamp(op))
        return op

    def _before_nest(self, op: Operation) -> Operation:
        """Place ``op`` before the loop nest being built (once, not per trip)."""
        self._stamp(op)
        if self.outer_loop is None:
            self.top.add_op(op)
        else:
            self.top.insert_op_before(op, self.outer_loop)
        return op

    # --- storage ------------------------------------------------------------------
    def dram(self, kind: str, name: str, shape: Sequence[int], element_type: Attribute) -> SSAValue:
        """A DRAM variable; only ``tmp`` scratch belongs to the op being lowered."""
        op = DramOp(name, kind, DramType(list(shape) or [1], element_type))
        if not shape:
            op.attributes[SCALAR_ATTR] = UnitAttr()
        op.result.name_hint = hint(name)
        if kind == "tmp":
            self._stamp(op)
        self.drams.append(op)
        return op.result

    def alloc(self, kind: type[SbufType] | type[PsumType], partitions: int, free: int,
              element_type: Attribute, name: str, resident: bool = False) -> SSAValue:
        """An unallocated tile, placed before the loop nest being built."""
        op = AllocOp(kind([partitions, max(1, free)], element_type))
        op.result.name_hint = name
        if resident:
            op.attributes[RESIDENT_ATTR] = UnitAttr()
        self._before_nest(op)
        return op.result

    @staticmethod
    def placeholder(partitions: int, element_type: Attribute) -> SSAValue:
        """A detached SBUF tile standing in for one ``prepend_resident_load`` builds later."""
        return AllocOp(SbufType([partitions, 1], element_type)).result

    def prepend_resident_load(self, placeholder: SSAValue, var: SSAValue, name: str) -> None:
        """Replace ``placeholder`` by a resident tile of ``var``'s [P, cols] shape, loaded by one
        DMA at the start of the program (before everything emitted so far)."""
        P, cols = var.type.get_shape()
        alloc = AllocOp(SbufType([P, cols], placeholder.type.element_type))
        alloc.result.name_hint = name
        alloc.attributes[RESIDENT_ATTR] = UnitAttr()
        placeholder.replace_all_uses_with(alloc.result)
        a = ap(0, P, 0, [[cols, 1]])
        dma = DmaOp(alloc.result, _squeeze(a), var, _squeeze(ap(0, P, 0, [[cols, 1]], cols)))
        first = self.top.first_op
        for new in (alloc, dma):
            if first is None:
                self.top.add_op(new)
            else:
                self.top.insert_op_before(new, first)

    def finish(self, core: int) -> CoreOp:
        """The ``inf.core``: DRAM declarations first, minus weights and scratch no instruction
        reads (e.g. biases gathered into a bias table: they would cost NEFF bytes and mislead
        editors)."""
        block = self.top
        for op in reversed(self.drams):
            if op.kind.data in ("file", "tmp") and not op.result.uses:
                continue
            if block.first_op is None:
                block.add_op(op)
            else:
                block.insert_op_before(op, block.first_op)
        return CoreOp(core, Region(block))

    # --- loops --------------------------------------------------------------------
    @contextmanager
    def loop(self, trips: int) -> Iterator[E]:
        if trips == 1:
            yield E(0)
            return
        body = Block()
        loop = LoopOp(trips, Region(body))
        self._add(loop)
        saved = (self.cur, self.outer_loop, self.depth)
        if self.depth == 0:
            self.outer_loop = loop
        self.cur = body
        self.depth += 1
        try:
            yield E.dim(saved[2])
        finally:
            self.cur, self.outer_loop, self.depth = saved

    def tiles(self, size: int, tile: int) -> Iterator[tuple[E, E, int]]:
        """(tile index, start, extent) over [0, size) in steps of ``tile``: one
        loop over the full tiles, then the remainder peeled."""
        full, rem = divmod(size, tile)
        if full:
            with self.loop(full) as d:
                yield d, d.scaled(tile), tile
        if rem:
            yield E(full), E(full * tile), rem

    def pingpong(self, size: int, tile: int, buffers: int) -> Iterator[tuple[E, E, int, int]]:
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
        self._add(DmaOp(dst, _squeeze(dst_ap), src, _squeeze(src_ap)))

    def dma_gather(self, dst: SSAValue, dst_ap: AccessPatternAttr, table: SSAValue,
                   table_ap: AccessPatternAttr, index: SSAValue, index_ap: AccessPatternAttr) -> None:
        """Rows of the DRAM ``table`` at the int32 indices of ``index`` (one per partition)."""
        self._add(DmaGatherOp(dst, dst_ap, table, table_ap, index, index_ap))

    def select(self, out: SSAValue, out_ap: AccessPatternAttr, pred: SSAValue, pred_ap: AccessPatternAttr,
               on_true: SSAValue, on_true_ap: AccessPatternAttr) -> None:
        """``out = pred != 0 ? on_true : out`` (``out`` holds the on-false values first)."""
        self._add(SelectOp(out, out_ap, pred, pred_ap, on_true, on_true_ap))

    def load_stationary(self, stationary: SSAValue, stationary_ap: AccessPatternAttr) -> None:
        self._add(LoadStationaryOp(stationary, stationary_ap))

    def matmul(self, acc: SSAValue, acc_ap: AccessPatternAttr, moving: SSAValue,
               moving_ap: AccessPatternAttr, accumulate: E | None = None) -> None:
        self._add(MatmulOp(acc, acc_ap, moving, moving_ap, accumulate=accumulate))

    def activation(self, func_name: str, out: SSAValue, out_ap: AccessPatternAttr, inp: SSAValue,
                   in_ap: AccessPatternAttr, bias: SSAValue | None = None,
                   bias_ap: AccessPatternAttr | None = None, scale: float | None = None,
                   imm: float | None = None):
        self._add(ActivationOp(func_name, out, out_ap, inp, in_ap, bias, bias_ap, scale=scale, imm=imm))

    def tensor_tensor(self, alu: str, out, out_ap, lhs, lhs_ap, rhs, rhs_ap):
        self._add(TensorTensorOp(alu, out, out_ap, lhs, lhs_ap, rhs, rhs_ap))

    def tensor_scalar(self, alu: str, out, out_ap, inp, in_ap, scalar=None, scalar_ap=None,
                      imm: float | None = None):
        self._add(TensorScalarOp(alu, out, out_ap, inp, in_ap, scalar, scalar_ap, imm=imm))

    def transpose(self, out, out_ap, inp, in_ap) -> None:
        """Vector engine: ``out[f, p] = in[p, f]`` (a tile of at most 128 x 128)."""
        self._add(TransposeOp(out, out_ap, inp, in_ap))

    def reduce(self, alu: str, out, out_ap, inp, in_ap, axes: int, scale: float | None = None):
        self._add(ReduceOp(alu, out, out_ap, inp, in_ap, axes, scale=scale))

    def memset(self, out, out_ap, value: float, hoisted: bool = False):
        """Fill ``out_ap`` with ``value``; ``hoisted``: once, before the loop nest being built."""
        op = MemsetOp(out, out_ap, value)
        if hoisted:
            self._before_nest(op)
        else:
            self._add(op)

    def act(self, func: str, out, out_ap, inp, in_ap, bias=None, bias_ap=None,
            alpha: float | None = None, beta: float | None = None, scale: float | None = None) -> None:
        """``out = func(inp * scale + bias)`` for every ktensor activation (fused or
        standalone): the scalar engine's table where it has the function, else
        a short scalar/vector sequence (clamps are vector min/max; no scale)."""
        if func in _ACT_FUNC:
            self.activation(_ACT_FUNC[func], out, out_ap, inp, in_ap, bias, bias_ap, scale=scale)
            return
        if scale is not None:
            raise CompileError(f"{', '.join(self.sources) or 'an op'}: activation '{func}' takes no scale")
        if func == "relu6":
            self.activation("relu", out, out_ap, inp, in_ap, bias, bias_ap)
            self.tensor_scalar("min", out, out_ap, out, out_ap, imm=6.0)
            return
        if bias is not None or func not in ("leaky_relu", "clip", "hard_sigmoid", "hard_swish"):
            names = ", ".join(self.sources) or "an op"
            raise CompileError(f"{names}: the scalar engine has no activation '{func}'"
                               + (" with a fused bias" if bias is not None else ""))
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

