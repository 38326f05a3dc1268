"""``ktensor.reduce`` (sum, mean, max, min over any axes): one output element per
partition, its reduced elements along the free dim. The DMA access pattern
moves the reduced axes to the free dims whatever their place (kept dims
coalesced: the innermost on partitions in tiles of the target's partitions,
the others an ``inf.loop`` nest), then one vector ``reduce`` per tile (ADD,
MAX or MIN, with scale 1/L for a mean) writes the result in its dtype."""

from __future__ import annotations


from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap
from kaena.isa import DType
from kaena.target.tiling import balanced

from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan
from .utils import E, coalesce, ints, prod, row_major_strides
from .views import DramView

_ALU = {"sum": "add", "mean": "add", "max": "max", "min": "min"}
MAX_AP_DIMS = 4  # free dims of one access pattern (docs/isa.md)


def _reduced_elements(op: kt.ReduceOp) -> int:
    shape, axes = op.input.type.get_shape(), ints(op.axes)
    return prod([shape[a] for a in axes])


class ReduceFamily(OpFamily):
    op_types = (kt.ReduceOp,)

    def fuses_cast(self, op: kt.ReduceOp) -> bool:
        return True  # the reduce rounds once into its destination

    def scratch_bytes(self, op: kt.ReduceOp, plan: FunctionPlan, resident) -> int:
        isz = DType.from_name(str(op.input.type.element_type)).itemsize
        return _reduced_elements(op) * isz + DType.FP32.itemsize

    def emit(self, fl: FunctionLowering, op: kt.ReduceOp, out: DramView) -> None:
        b = fl.b
        x = fl.view(op.input)
        if not isinstance(x, DramView) or not isinstance(out, DramView):
            raise fl.error("reduce operands and result must live in DRAM")
        shape, axes, kind = x.shape, set(ints(op.axes)), op.kind.data
        in_st, out_st = row_major_strides(shape), row_major_strides(out.shape)
        kept = [i for i in range(len(shape)) if i not in axes]
        red = sorted(axes)
        kdims, (kin, kout) = coalesce([shape[i] for i in kept], [[in_st[i] for i in kept],
                                                                  [out_st[i] for i in kept]])
        rdims, (rin,) = coalesce([shape[i] for i in red], [[in_st[i] for i in red]])
        if not kdims:
            kdims, kin, kout = [1], [0], [0]
        if not rdims:
            rdims, rin = [1], [1]
        if len(rdims) > MAX_AP_DIMS:
            raise fl.error(f"the reduced axes {red} are {len(rdims)} strided dims; "
                           f"one access pattern has {MAX_AP_DIMS}")
        L = prod(rdims)
        if L * (x.itemsize + out.itemsize) > fl.budget.big:
            raise fl.error(f"a reduction over {L} elements does not fit in one SBUF partition")
        rows, ps_in, ps_out = kdims[-1], kin[-1], kout[-1]
        pp = balanced(rows, fl.target.partitions)
        x_t = b.alloc(SbufType, pp, L, x.element_type, "x_t")
        o_t = b.alloc(SbufType, pp, 1, out.element_type, "red_t")
        free = [[n, s] for n, s in zip(rdims, rin)]
        scale = 1.0 / L if kind == "mean" else None

        def body(ibase: E, obase: E) -> None:
            for _, p0, pw in b.tiles(rows, pp):
                row, one = ap(0, pw, 0, [[L, 1]]), ap(0, pw, 0, [[1, 1]])
                b.dma(x_t, row, x.var, ap(0, pw, ibase + p0.scaled(ps_in), free, ps_in))
                b.reduce(_ALU[kind], o_t, one, x_t, row, 1, scale=scale)
                b.dma(out.var, ap(0, pw, obase + p0.scaled(ps_out), [[1, 1]], ps_out), o_t, one)

        def nest(level: int, ibase: E, obase: E) -> None:
            if level == len(kdims) - 1:
                body(ibase, obase)
                return
            for i, _, _ in b.tiles(kdims[level], 1):
                nest(level + 1, ibase + i.scaled(kin[level]), obase + i.scaled(kout[level]))

        nest(0, E(0), E(0))
