"""Ops that only move data: weights and reshapes (views of a DRAM variable), and
``concat``, ``pad``, ``resize_nearest``, ``transpose`` (strided DRAM-to-DRAM DMAs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap
from kaena.isa import AP_DTYPE, MAX_FREE_DIMS

from . import decisions as d
from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan
from .utils import MAX_DMA_ROWS, E, coalesce, ints, prod, row_major_strides
from .token_tiles import TokenTile
from .views import DramView


class WeightFamily(OpFamily):
    """A weight: its ``file`` variable (declared once per name)."""

    op_types = (kt.WeightOp,)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return 0

    def lower(self, fl: FunctionLowering, op: kt.WeightOp) -> None:
        var = fl.weight(op.weight_name.data, op.result.type)
        fl.views[op.result] = DramView(var, tuple(op.result.type.get_shape()))


class ReshapeFamily(OpFamily):
    """A reshape: the same DRAM variable seen with another shape (no instruction)."""

    op_types = (kt.ReshapeOp,)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return 0

    def lower(self, fl: FunctionLowering, op: kt.ReshapeOp) -> None:
        src = fl.view(op.input)
        shape = tuple(op.result.type.get_shape())
        if op.result in fl.direct:
            # the reshape is itself returned but its source has other users
            out = fl.direct[op.result]
            n = src.size
            fl.b.dma(out.var, ap(0, 1, 0, [[n, 1]]), src.var, ap(0, 1, 0, [[n, 1]]))
            fl.views[op.result] = out
        elif isinstance(src, TokenTile):
            fl.views[op.result] = src.reshaped(shape)
        else:
            fl.views[op.result] = DramView(src.var, shape)


def copy(fl: FunctionLowering, dst: SSAValue, dst_off: int, dst_strides: Sequence[int], src: SSAValue,
         src_off: int, src_strides: Sequence[int], shape: Sequence[int]) -> None:
    """Copy the strided block ``shape`` of ``src`` into ``dst`` with DMAs: one
    per 5 dims (a DRAM row dim plus 4 free dims), loops over the rest."""
    dims, (ds, ss) = coalesce(shape, [dst_strides, src_strides])
    if not dims:
        dims, ds, ss = [1], [1], [1]
    if len(dims) == 1:
        dims, ds, ss = [1] + dims, [0] + ds, [0] + ss
    b = fl.b

    def rec(k: int, d_off: E, s_off: E) -> None:
        if len(dims) - k > MAX_FREE_DIMS + 1:
            with b.loop(dims[k]) as i:
                rec(k + 1, d_off + i.scaled(ds[k]), s_off + i.scaled(ss[k]))
            return
        free = list(range(k + 1, len(dims)))
        for _, r0, nr in b.tiles(dims[k], MAX_DMA_ROWS):
            b.dma(dst, ap(0, nr, d_off + r0.scaled(ds[k]), [[dims[i], ds[i]] for i in free], ds[k]),
                  src, ap(0, nr, s_off + r0.scaled(ss[k]), [[dims[i], ss[i]] for i in free], ss[k]))

    rec(0, E(dst_off), E(src_off))


class ConcatFamily(OpFamily):
    """Each operand copied into its slot; an operand that is a transpose (through reshapes,
    ``kaena.plan.fuse_transposes``) read from the transpose's input with permuted strides."""

    op_types = (kt.ConcatOp,)

    def reads_through_transposes(self, op: kt.ConcatOp, plan: FunctionPlan) -> bool:
        return True

    def emit(self, fl: FunctionLowering, op: kt.ConcatOp, out: DramView) -> None:
        axis = op.axis.value.data
        strides = row_major_strides(out.shape)
        through = fl.plan.read_through(op) if d.has_flag(op, d.FUSE_TRANSPOSES_ATTR) else [None] * len(op.inputs)
        at = 0
        for v, chain in zip(op.inputs, through):
            n_axis = v.type.get_shape()[axis]
            if chain is None:
                x = fl.view(v)
                copy(fl, out.var, at * strides[axis], strides, x.var, 0, row_major_strides(x.shape), x.shape)
            else:
                # the slot, per leading index, is the transposed value row-major
                t = chain[0]
                x = fl.view(t.input)
                if not isinstance(x, DramView):
                    raise fl.error("a transposed concat operand must be read from DRAM")
                shape = tuple(t.results[0].type.get_shape())
                perm = ints(t.perm)
                x_strides = row_major_strides(x.shape)
                dst = tuple(strides[:axis]) + row_major_strides(shape[axis:])
                copy(fl, out.var, at * strides[axis], dst, x.var, 0, [x_strides[p] for p in perm], shape)
            at += n_axis


class PadFamily(OpFamily):
    op_types = (kt.PadOp,)

    def emit(self, fl: FunctionLowering, op: kt.PadOp, out: DramView) -> None:
        b = fl.b
        x = fl.view(op.input)
        r = len(x.shape)
        pads = ints(op.pads)
        before, after = pads[:r], pads[r:]
        ost = row_major_strides(out.shape)
        mode = op.mode.data
        if mode == "constant" and any(pads):
            # fill everything from one memset element (a stride-0 DMA source), then the interior
            fill = b.alloc(SbufType, 1, 1, out.element_type, "fill_t")
            b.memset(fill, ap(0, 1, 0, [[1, 1]]), float(op.value.value.data) if op.value else 0.0)
            for _, f0, fw in b.tiles(out.size, max(1, int(np.iinfo(AP_DTYPE["counts"].base).max))):
                b.dma(out.var, ap(0, 1, f0, [[fw, 1]]), fill, ap(0, 1, 0, [[fw, 0]]))
        interior = sum(bf * s for bf, s in zip(before, ost))
        copy(fl, out.var, interior, ost, x.var, 0, row_major_strides(x.shape), x.shape)
        if mode == "constant":
            return
        # edge / reflect / wrap: dim by dim, copy border slices from the already-filled part
        for i in range(r):
            lo_i, n_i = before[i], x.shape[i]
            shape = [out.shape[j] if j < i else x.shape[j] for j in range(r)]
            shape[i] = 1
            base = sum(before[j] * ost[j] for j in range(i + 1, r))
            for k in range(before[i]):
                src = {"edge": lo_i, "reflect": 2 * lo_i - k,
                       "wrap": lo_i + (k - lo_i) % n_i}[mode]
                copy(fl, out.var, base + k * ost[i], ost, out.var, base + src * ost[i], ost, shape)
            for k in range(after[i]):
                dst = lo_i + n_i + k
                src = {"edge": lo_i + n_i - 1, "reflect": lo_i + n_i - 2 - k,
                       "wrap": lo_i + k % n_i}[mode]
                copy(fl, out.var, base + dst * ost[i], ost, out.var, base + src * ost[i], ost, shape)


class ResizeNearestFamily(OpFamily):
    op_types = (kt.ResizeNearestOp,)

    def emit(self, fl: FunctionLowering, op: kt.ResizeNearestOp, out: DramView) -> None:
        x = fl.view(op.input)
        N, C, H, W = x.shape
        s_h, s_w = ints(op.scales)
        OW = W * s_w
        # out viewed as [N*C, H, s_h, W, s_w]; the source repeats with stride 0
        copy(fl, out.var, 0, (H * s_h * OW, s_h * OW, OW, s_w, 1),
             x.var, 0, (H * W, W, 0, 1, 0), (N * C, H, s_h, W, s_w))


class TransposeFamily(OpFamily):
    op_types = (kt.TransposeOp,)

    def emit(self, fl: FunctionLowering, op: kt.TransposeOp, out: DramView) -> None:
        x = fl.view(op.input)
        perm = ints(op.perm)
        in_strides = row_major_strides(x.shape)
        dims, (src,) = coalesce(out.shape, [tuple(in_strides[p] for p in perm)])
        if not dims:
            dims, src = [1], [1]
        if len(dims) > MAX_FREE_DIMS + 1:
            raise fl.error(f"the permutation {list(perm)} needs {len(dims)} strided dimensions; "
                           f"a DMA has at most {MAX_FREE_DIMS + 1}")
        if len(dims) == 1:
            dims, src = [1] + dims, [0] + src
        inner = prod(dims[1:])
        for _, r0, nr in fl.b.tiles(dims[0], MAX_DMA_ROWS):
            fl.b.dma(out.var, ap(0, 1, r0.scaled(inner), [[nr * inner, 1]]),
                     x.var, ap(0, nr, r0.scaled(src[0]), list(zip(dims[1:], src[1:])), src[0]))
