"""Pointwise ops (``ktensor.elementwise``, ``activation``, ``cast``): streamed
through SBUF in [partitions, free] chunks with their operands broadcast by DMA
access patterns, or computed in place between resident tiles of one shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects.builtin import TensorType, i1, i32
from xdsl.ir import SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import AccessPatternAttr, SbufType, ap
from kaena.target.tiling import balanced, row_length

from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan, itemsize
from .utils import E, broadcast_strides, coalesce, row_major_strides
from .views import DramView, SbufView, View

Tile = tuple[SSAValue, AccessPatternAttr]


class PointwiseFamily(OpFamily):
    """What the pointwise families share: any operand may be resident when it has the
    result's shape, but an op keeps all its operands and its result on one side."""

    def can_write_resident(self, op, plan: FunctionPlan) -> bool:
        return True

    def can_read_resident(self, op, value: SSAValue, plan: FunctionPlan) -> bool:
        return not plan.is_absorbed(op) and value.type.get_shape() == op.results[0].type.get_shape()

    def settle_residency(self, op, plan: FunctionPlan, resident: set[SSAValue]) -> bool:
        values = list(op.operands) + [plan.materialized(op)]
        inside = [v in resident for v in values]
        if all(inside[:-1]) and not inside[-1] and _writes_join(op, plan):
            return False
        if any(inside) and not all(inside):
            resident.difference_update(values)
            return True
        return False

    def scratch_bytes(self, op, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        out = plan.materialized(op)
        if out not in resident and _writes_join(op, plan) and all(v in resident for v in op.operands):
            _, _, H, W = out.type.get_shape()
            return H * W * itemsize(out.type.element_type)  # the staging tile of _resident_to_dram
        return super().scratch_bytes(op, plan, resident)

    def emit(self, fl: FunctionLowering, op, out: View) -> None:
        operands = [fl.view(v) for v in op.operands]
        if isinstance(out, SbufView):
            _resident(fl, operands, out, lambda ins, o: self.compute(fl, op, ins, o))
            return
        if operands and all(isinstance(v, SbufView) for v in operands):
            _resident_to_dram(fl, operands, out, lambda ins, o: self.compute(fl, op, ins, o))
            return

        def chunk(tiles, o_t, pw, fw):
            a = ap(0, pw, 0, [[fw, 1]])
            self.compute(fl, op, [(t, a) for t in tiles], (o_t, a))

        stream_chunks(fl, operands, out, chunk)

    def compute(self, fl: FunctionLowering, op, ins: list[Tile], out: Tile) -> None:
        """The engine work of one chunk: ``out = op(ins)``."""
        raise NotImplementedError


class ElementwiseFamily(PointwiseFamily):
    op_types = (kt.ElementwiseOp,)

    def fuses_cast(self, op: kt.ElementwiseOp) -> bool:
        return op.activation.data in kt.PIECEWISE_LINEAR_ACTIVATIONS

    def nonnegative(self, op: kt.ElementwiseOp, plan: FunctionPlan) -> bool:
        return op.activation.data in ("relu", "relu6")

    def compute(self, fl, op: kt.ElementwiseOp, ins, out) -> None:
        (l_t, l_ap), (r_t, r_ap) = ins
        fl.b.tensor_tensor(op.kind.data, out[0], out[1], l_t, l_ap, r_t, r_ap)
        if op.activation.data != "none":
            fl.b.act(op.activation.data, out[0], out[1], out[0], out[1])


class ActivationFamily(PointwiseFamily):
    op_types = (kt.ActivationOp,)

    def nonnegative(self, op: kt.ActivationOp, plan: FunctionPlan) -> bool:
        return op.func.data in ("relu", "relu6")

    def compute(self, fl, op: kt.ActivationOp, ins, out) -> None:
        alpha = None if op.alpha is None else float(op.alpha.value.data)
        beta = None if op.beta is None else float(op.beta.value.data)
        fl.b.act(op.func.data, out[0], out[1], ins[0][0], ins[0][1], alpha=alpha, beta=beta)


class CastFamily(PointwiseFamily):
    """A standalone cast: the scalar engine's identity, rounding once to the output dtype.
    Masks (i1) are stored as f32 0.0/1.0 (``utils.MASK_STORAGE``): i1 -> float is that
    copy, float/int -> i1 is ``x != 0`` (two vector comparisons), kept in DRAM. Casts to
    i32 from a float are refused: the ISA defines no float-to-int conversion."""

    op_types = (kt.CastOp,)

    def can_write_resident(self, op: kt.CastOp, plan: FunctionPlan) -> bool:
        return op.result.type.element_type != i1

    def can_read_resident(self, op: kt.CastOp, value: SSAValue, plan: FunctionPlan) -> bool:
        return op.result.type.element_type != i1 and super().can_read_resident(op, value, plan)

    def lower(self, fl: FunctionLowering, op: kt.CastOp) -> None:
        src, dst = op.input.type.element_type, op.result.type.element_type
        if dst == i32 and src not in (i32, i1) and isinstance(op.input.owner, kt.WeightOp):
            _fold_weight_to_i32(fl, op)
            return
        if dst == i32 and src not in (i32, i1):
            raise fl.error(f"a cast from {src} to i32 (float-to-int conversion is not defined on the device)")
        if dst == i32 and src == i1:
            raise fl.error("a cast from i1 to i32 (masks are stored as f32; cast them to f32)")
        if dst == i1:
            from .masks import lower_to_dram

            lower_to_dram(self, fl, op)
            return
        super().lower(fl, op)

    def compute(self, fl, op: kt.CastOp, ins, out) -> None:
        if op.result.type.element_type == i1:
            # x != 0 as (x == 0) == 0
            fl.b.tensor_scalar("equal", out[0], out[1], ins[0][0], ins[0][1], imm=0.0)
            fl.b.tensor_scalar("equal", out[0], out[1], out[0], out[1], imm=0.0)
            return
        if out[0].type.element_type == ins[0][0].type.element_type == i32:
            fl.b.tensor_scalar("bypass", out[0], out[1], ins[0][0], ins[0][1])
            return
        fl.b.activation("identity", out[0], out[1], ins[0][0], ins[0][1])


def _fold_weight_to_i32(fl: FunctionLowering, op: kt.CastOp) -> None:
    """A cast of a constant to i32 (integer constants are imported as f32 weights): done at
    compile time, truncating toward zero as ONNX does, into an int32 file variable."""
    import numpy as np

    from kaena.weights import module_store

    from .views import DramView

    store = module_store(fl.plan.module)
    name = op.input.owner.weight_name.data
    value = np.trunc(np.asarray(store[name], np.float64)).astype(np.int32)
    derived = store.add_derived(name, value)
    var = fl.weight(derived, op.result.type)
    fl.views[op.result] = DramView(var, tuple(op.result.type.get_shape()))


def stream_chunks(fl: FunctionLowering, operands: Sequence[DramView], out: DramView,
            compute: Callable[[list[SSAValue], SSAValue, int, int], None]) -> None:
    """Stream ``out`` through SBUF in [partitions, free] chunks, operands
    broadcast by their DMA access patterns; ``compute(in_tiles, out_tile,
    partitions, free)`` emits the engine work of one chunk."""
    b = fl.b
    shape = out.shape
    strides = [broadcast_strides(v.shape, shape) for v in operands]
    strides.append(row_major_strides(shape))
    dims, st = coalesce(shape, strides)
    P = fl.target.partitions
    per_elem = sum(v.itemsize for v in operands) + out.itemsize
    cap = max(1, fl.budget.big // per_elem)
    blocks: list[tuple[list[int], list[list[int]], list[int]]] = []
    if len(dims) <= 1:
        n = dims[0] if dims else 1
        s = [x[0] if x else 0 for x in st]
        f = row_length(n, P, cap)
        rows, tail = divmod(n, f)
        blocks.append(([rows, f], [[si * f, si] for si in s], [0] * len(s)))
        if tail:
            blocks.append(([1, tail], [[0, si] for si in s], [si * rows * f for si in s]))
    else:
        blocks.append((dims, st, [0] * len(st)))
    free_max = max(balanced(d[-1], cap) for d, _, _ in blocks)
    part_max = max(balanced(d[-2], P) for d, _, _ in blocks)
    tiles = [b.alloc(SbufType, part_max, free_max, v.element_type, f"in{i}_t") for i, v in enumerate(operands)]
    o_t = b.alloc(SbufType, part_max, free_max, out.element_type, "o_t")
    drams = [v.var for v in operands] + [out.var]
    for d, s, base in blocks:
        _stream_block(fl, d, s, base, drams, tiles, o_t, cap, compute)


def _stream_block(fl: FunctionLowering, dims, strides, base, drams, tiles, o_t, cap, compute) -> None:
    b = fl.b
    P = fl.target.partitions

    def rec(k: int, offs: list[E]) -> None:
        if k < len(dims) - 2:
            with b.loop(dims[k]) as d:
                rec(k + 1, [o + d.scaled(s[k]) for o, s in zip(offs, strides)])
            return
        for _, p0, pw in b.tiles(dims[-2], balanced(dims[-2], P)):
            for _, f0, fw in b.tiles(dims[-1], balanced(dims[-1], cap)):
                at = [o + p0.scaled(s[-2]) + f0.scaled(s[-1]) for o, s in zip(offs, strides)]
                for t, var, a, s in zip(tiles, drams, at, strides):
                    b.dma(t, ap(0, pw, 0, [[fw, 1]]), var, ap(0, pw, a, [[fw, s[-1]]], s[-2]))
                compute(tiles, o_t, pw, fw)
                b.dma(drams[-1], ap(0, pw, at[-1], [[fw, strides[-1][-1]]], strides[-1][-2]),
                      o_t, ap(0, pw, 0, [[fw, 1]]))

    rec(0, [E(x) for x in base])


def _writes_join(op, plan: FunctionPlan) -> bool:
    """Whether ``op``'s result (resident operands, 4-d, of its shape) goes to a join of a
    split batch (``ktensor-split-batch``: a concat along the batch), so to DRAM anyway,
    which it may write while its operands stay in SBUF (``_resident_to_dram``); its other
    readers then read it from DRAM."""
    out = plan.materialized(op)
    shape = out.type.get_shape() if isinstance(out.type, TensorType) else ()
    users = [u.operation for u in out.uses]
    return (len(shape) == 4 and any(isinstance(u, kt.ConcatOp) and u.axis.value.data == 0 for u in users)
            and all(isinstance(v.type, TensorType) and v.type.get_shape() == shape for v in op.operands))


def _resident_to_dram(fl: FunctionLowering, operands: Sequence[SbufView], out: DramView,
                      compute: Callable[[list[Tile], Tile], None]) -> None:
    """Pointwise work from resident tiles into a DRAM result (a value a split batch joins):
    per (image, channel tile) into one staging tile, then one DMA."""
    N, C, H, W = out.shape
    pc = operands[0].pc
    stage = fl.b.alloc(SbufType, pc, H * W, out.element_type, "o_t")
    for n, _, _ in fl.b.tiles(N, 1):
        for ct, _, cw in fl.b.tiles(C, pc):
            dims = [[H * W, 1]] if all(v.Wp == W for v in operands) else [[H, W], [W, 1]]
            plane = ap(0, cw, 0, dims)
            compute([(v.tile, v.interior(0, cw, ct, n)) for v in operands], (stage, plane))
            fl.b.dma(out.var, ap(0, cw, (n.scaled(C) + ct.scaled(pc)).scaled(H * W), dims, H * W),
                     stage, plane)


def _resident(fl: FunctionLowering, operands: Sequence[SbufView], out: SbufView,
              compute: Callable[[list[Tile], Tile], None]) -> None:
    """Pointwise work between resident tiles of one shape: one instruction
    sequence per (image, channel tile) over the interiors, no DMA."""
    N, C, _, _ = out.shape
    for n, _, _ in fl.b.tiles(N, 1):
        for ct, _, cw in fl.b.tiles(C, out.pc):
            compute([(v.tile, v.interior(0, cw, ct, n)) for v in operands],
                    (out.tile, out.interior(0, cw, ct, n)))
