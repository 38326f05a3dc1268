"""A planned attention block (``ktensor-plan-attention``) as one loop over heads with its
intermediates in SBUF: q^T, k and v of every head loaded by one DMA each, per head the
scores with queries on PSUM partitions (q^T columns as stationaries, k moving), the
scale in their drain and the per-key mask added on the vector engine, the softmax along
the free dim (``softmax.softmax_rows``), the probabilities transposed on the PE array
(times an identity: exact), the context^T matmul (v stationary), and every head's
context^T written back by one DMA in the layout the context's epilogue planned."""

from __future__ import annotations

from xdsl.dialects.builtin import f32
from xdsl.ir import Attribute, SSAValue

from kaena.dialects.inferentia import PsumType, SbufType, ap

from .function import FunctionLowering
from .head_tiles import HeadTiles
from .matmul import ChainedTiles
from .ktensor_plan_attention import AttentionBlock, block_sources, planned_head_groups
from .normalization import param_rows
from .softmax import softmax_rows
from .views import DramView


def square_identity(fl: FunctionLowering, dtype: Attribute) -> SSAValue:
    """A [partitions, partitions] identity tile, built once per dtype: a DRAM scratch row of
    zeros with a one in the middle, read back with a partition stride of -1 (row p starts p
    elements earlier)."""
    key = f"square {dtype}"
    if key in fl.identity:
        return fl.identity[key]
    b, P = fl.b, fl.target.partitions
    L = 2 * P - 1
    row = b.alloc(SbufType, 1, L, dtype, "eye_row")
    b.memset(row, ap(0, 1, 0, [[L, 1]]), 0.0)
    b.memset(row, ap(0, 1, P - 1, [[1, 1]]), 1.0)
    var = fl.scratch([L], dtype)
    b.dma(var, ap(0, 1, 0, [[L, 1]]), row, ap(0, 1, 0, [[L, 1]]))
    eye = b.alloc(SbufType, P, P, dtype, "eye_sq", resident=True)
    b.dma(eye, ap(0, P, 0, [[P, 1]]), var, ap(0, P, P - 1, [[P, 1]], -1))
    fl.identity[key] = eye
    return eye


def emit_attention(fl: FunctionLowering, blk: AttentionBlock, out: DramView) -> None:
    """Emit ``blk`` writing the context's epilogue result into ``out``."""
    with fl.b.lowering(block_sources(fl.plan, blk)):
        _emit(fl, blk, out)


def _emit(fl: FunctionLowering, blk: AttentionBlock, out: DramView) -> None:
    b = fl.b
    q, k, v = fl.view(blk.scores.lhs), fl.view(blk.scores.rhs), fl.view(blk.context.rhs)
    ep, cep = blk.scores_epilogue, blk.context_epilogue
    mask = fl.view(ep.bias) if ep.bias is not None else None
    q_in, k_in, v_in = (isinstance(x, HeadTiles) for x in (q, k, v))  # kaena.plan.head_tile: in SBUF
    paired = isinstance(out, ChainedTiles)  # kaena.plan.context_chain: the consumer's lhs^T tile
    if not all(isinstance(x, DramView) for x in (*([] if q_in else [q]), *([] if k_in else [k]), *([] if v_in else [v]),
                                                  *([] if paired else [out]), *([mask] if mask else []))):
        raise fl.error("a fused attention's operands and result must live in DRAM (q and k: or its head tiles)")
    B, Lq, Lk, D, Dv = blk.B, blk.Lq, blk.Lk, blk.D, blk.Dv
    pdt = blk.context.lhs.type.element_type  # the probabilities' dtype (the softmax's fused cast)
    q_t = q.tile if q_in else b.alloc(SbufType, D, B * Lq, q.element_type, "q_t")
    k_t = k.tile if k_in else b.alloc(SbufType, D, B * Lk, k.element_type, "k_t")
    v_t = v.tile if v_in else b.alloc(SbufType, Lk, B * Dv, v.element_type, "v_t")
    o_t = out.tile if paired else b.alloc(SbufType, Dv, B * Lq, out.element_type, "o_t")
    ps_s = b.alloc(PsumType, Lq, Lk, f32, "ps_s")
    s_t = b.alloc(SbufType, Lq, Lk, f32, "s_t")
    e_t = b.alloc(SbufType, Lq, Lk, f32, "e_t")
    m_t = b.alloc(SbufType, Lq, 1, f32, "max_t")
    sum_t = b.alloc(SbufType, Lq, 1, f32, "sum_t")
    p_t = b.alloc(SbufType, Lq, Lk, pdt, "p_t")
    ps_t = b.alloc(PsumType, Lk, Lq, f32, "ps_pt")
    pt_t = b.alloc(SbufType, Lk, Lq, pdt, "pt_t")
    ps_o = b.alloc(PsumType, 2 * Dv if paired else Dv, Lq, f32, "ps_o")
    eye = square_identity(fl, pdt)
    mask_t = param_rows(fl, mask, Lq, Lk, "mask_t") if mask is not None else None
    scratch = (ps_s, s_t, e_t, m_t, sum_t, p_t, ps_t, pt_t, ps_o, eye, mask_t)
    G = planned_head_groups(fl.plan, blk)
    hg = B // G
    row, one = ap(0, Lq, 0, [[Lk, 1]]), ap(0, Lq, 0, [[1, 1]])
    for g, h0, _ in b.tiles(B, hg):  # per group of heads: its q^T, k, v in, then its heads
        # q^T [D, (b, q)], k [D, (b, key)], v [key, (b, Dv)]: the queue moves the next
        # group's while the engines do this one's (disjoint columns of the same tiles)
        if not q_in:
            b.dma(q_t, ap(0, D, h0.scaled(Lq), [[hg * Lq, 1]]),
                  q.var, ap(0, D, h0.scaled(Lq * D), [[hg, Lq * D], [Lq, D]], 1))
        if not k_in:
            b.dma(k_t, ap(0, D, h0.scaled(Lk), [[hg * Lk, 1]]),
                  k.var, ap(0, D, h0.scaled(D * Lk), [[hg, D * Lk], [Lk, 1]], Lk))
        if not v_in:
            b.dma(v_t, ap(0, Lk, h0.scaled(Dv), [[hg * Dv, 1]]),
                  v.var, ap(0, Lk, h0.scaled(Lk * Dv), [[hg, Lk * Dv], [Dv, 1]], Dv))
        if paired:  # heads 2j and 2j + 1 on partitions 0.. and Dv.. of the pair's K tile, column j * Lq
            for hp, _, _ in b.tiles(hg // 2, 1):
                for half in (0, 1):
                    _head(fl, blk, (q_t, k_t, v_t, o_t), scratch, h0 + hp.scaled(2) + half, row, one,
                          (half * Dv, (g.scaled(hg // 2) + hp).scaled(Lq)))
            continue
        for hi, _, _ in b.tiles(hg, 1):
            _head(fl, blk, (q_t, k_t, v_t, o_t), scratch, h0 + hi, row, one)
    if paired:
        return
    lo = cep.layout  # element (b, q, f) at b*sb + q*sm + f*sd (D == Dv: find_block checks)
    b.dma(out.var, ap(0, Dv, 0, [[B, lo.sb], [Lq, lo.sm]], lo.sd), o_t, ap(0, Dv, 0, [[B * Lq, 1]]))


def _head(fl: FunctionLowering, blk: AttentionBlock, heads, scratch, bi, row, one, dest=None) -> None:
    """Head ``bi``: its scores, softmax, probabilities^T and context^T (into ``o_t``, at
    ``dest`` = (partition, column) when given: a chained context's pair tile)."""
    b, M = fl.b, fl.target.pe_columns
    Lq, Lk, D, Dv = blk.Lq, blk.Lk, blk.D, blk.Dv
    ep, cep = blk.scores_epilogue, blk.context_epilogue
    q_t, k_t, v_t, o_t = heads
    ps_s, s_t, e_t, m_t, sum_t, p_t, ps_t, pt_t, ps_o, eye, mask_t = scratch
    for q0 in range(0, Lq, M):  # scores [queries, keys]: query tiles on PSUM partitions
        qw = min(M, Lq - q0)
        b.load_stationary(q_t, ap(0, D, bi.scaled(Lq) + q0, [[qw, 1]]))
        b.matmul(ps_s, ap(q0, qw, 0, [[Lk, 1]]), k_t, ap(0, D, bi.scaled(Lk), [[Lk, 1]]))
    b.activation("identity", s_t, row, ps_s, row, scale=ep.scale)
    if mask_t is not None:
        b.tensor_tensor("add", s_t, row, s_t, row, mask_t, row)
    softmax_rows(b, s_t, (e_t, m_t, sum_t, p_t), row, one)
    for k0 in range(0, Lk, M):  # probabilities^T [keys, queries] = p[:, keys]^T x I
        kw = min(M, Lk - k0)
        b.load_stationary(p_t, ap(0, Lq, k0, [[kw, 1]]))
        b.matmul(ps_t, ap(k0, kw, 0, [[Lq, 1]]), eye, ap(0, Lq, 0, [[Lq, 1]]))
    b.activation("identity", pt_t, ap(0, Lk, 0, [[Lq, 1]]), ps_t, ap(0, Lk, 0, [[Lq, 1]]))
    # context^T [Dv, queries] = v[b]^T p^T
    p0, col = dest if dest is not None else (0, bi.scaled(Lq))
    b.load_stationary(v_t, ap(0, Lk, bi.scaled(Dv), [[Dv, 1]]))
    b.matmul(ps_o, ap(p0, Dv, 0, [[Lq, 1]]), pt_t, ap(0, Lk, 0, [[Lq, 1]]))
    b.activation("identity", o_t, ap(p0, Dv, col, [[Lq, 1]]), ps_o, ap(p0, Dv, 0, [[Lq, 1]]),
                 scale=cep.scale)
