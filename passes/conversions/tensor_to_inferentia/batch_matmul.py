"""``ktensor.batch_matmul`` on the PE array: per batch index (one ``inf.loop``
over the flattened batch dims) the tiled matmul of ``matmul.py`` -- rhs [K, N]
blocks as stationaries (K on partitions), lhs^T [K, M] moving tiles DMA'd
through a strided access pattern, FP32 PSUM accumulation over K tiles, the
drain (identity on the scalar engine) rounding to the result dtype, output
tiles transposed back by the result DMA's access pattern."""

from __future__ import annotations


from xdsl.dialects.builtin import f32

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType

from .attention import emit_attention
from .epilogues import planned_epilogue
from .function import FunctionLowering
from .interface import OpFamily
from .ktensor_plan_attention import planned_blocks, planned_context_chain
from .matmul import ChainedTiles, Drain, load_bias, load_weights, matmul_block
from .matmul_tiles import epilogue_length, matmul_tiles
from .planning import FunctionPlan
from .utils import E, prod
from .views import DramView


class BatchMatmulFamily(OpFamily):
    op_types = (kt.BatchMatmulOp,)

    def fuses_cast(self, op: kt.BatchMatmulOp) -> bool:
        return True  # the drain is one rounding to the destination dtype

    def epilogue_length(self, op: kt.BatchMatmulOp, plan: FunctionPlan) -> int:
        return epilogue_length(plan, op, True)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return plan.budget.big + plan.budget.mid + plan.budget.out

    def lower(self, fl: FunctionLowering, op: kt.BatchMatmulOp) -> None:
        """A planned attention block's scores emit the whole block (its context's result
        is the one value written); its context emits nothing itself."""
        blk = planned_blocks(fl.plan).get(op)
        if blk is None:
            super().lower(fl, op)
        elif blk.scores is op:
            value = fl.plan.materialized(blk.context)
            if planned_context_chain(fl.plan, blk) is not None:  # the consumer's lhs^T tile
                Lq, N = value.type.get_shape()
                P = fl.target.partitions
                tile = fl.b.alloc(SbufType, P, (N // P) * Lq, value.type.element_type, "chain_t")
                out = ChainedTiles(tile, (Lq, N), value.type.element_type)
            else:
                out = fl.destination(value)
            fl.views[value] = fl.views[blk.context.results[0]] = out
            emit_attention(fl, blk, out)

    def emit(self, fl: FunctionLowering, op: kt.BatchMatmulOp, out: DramView) -> None:
        b = fl.b
        lhs, rhs = fl.view(op.lhs), fl.view(op.rhs)
        if not isinstance(lhs, DramView) or not isinstance(rhs, DramView) or not isinstance(out, DramView):
            raise fl.error("batch_matmul operands and result must live in DRAM")
        if op.transpose_lhs.value.data or op.transpose_rhs.value.data:
            raise fl.error("transposed batch_matmul operands are not lowered (the conversion emits none)")
        if lhs.element_type != rhs.element_type:
            raise fl.error(
                f"operands have different element types ({lhs.element_type} and {rhs.element_type}); "
                "run auto-cast so both are the same")
        ep = planned_epilogue(fl.plan, op, True)
        bias = fl.view(ep.bias) if ep.bias is not None else None
        *batch, M, K = lhs.shape
        N = rhs.shape[-1]
        B = prod(batch)
        tl = matmul_tiles(fl.target, fl.budget, M, K, N, lhs.itemsize, out.itemsize, fl.error)
        Kp = min(K, tl.P)
        w_t = b.alloc(SbufType, Kp, tl.KT * tl.Nb, rhs.element_type, "w_t")
        x_t = b.alloc(SbufType, Kp, tl.KT * tl.Mt, lhs.element_type, "x_t")
        ps = b.alloc(PsumType, tl.ntw, tl.Mt, f32, "ps")
        o_t = b.alloc(SbufType, tl.ntw, tl.ntb * tl.Mt, out.element_type, "o_t")
        b_t = b.alloc(SbufType, tl.ntw, tl.ntb, bias.element_type, "b_t") if bias else None
        one_block = tl.Nb == N
        if bias and one_block:  # the same per-feature bias for every batch: loaded once
            load_bias(fl, tl, bias, b_t, E(0), N)
        for bi, _, _ in b.tiles(B, 1):
            drain = Drain("none", ep.scale, ep.layout, bi.scaled(ep.layout.sb))
            for blk, n0, nb in b.tiles(N, tl.Nb):
                # rhs[bi] is rows bi*K.. of a [B*K, N] matrix
                load_weights(fl, tl, rhs, w_t, n0 + bi.scaled(K * N), nb, N)
                if bias and not one_block:
                    load_bias(fl, tl, bias, b_t, n0, nb)
                for _, m0, mt in b.tiles(M, tl.Mt):
                    # lhs[bi] is rows bi*M.. of [B*M, K]; the drain places out[bi] by its layout
                    matmul_block(fl, drain, tl, (lhs, out), (w_t, x_t, ps, o_t, b_t),
                                 (B * M, K, N), (blk, n0, nb), m0, mt, bi.scaled(M))
