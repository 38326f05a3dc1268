"""``ktensor.matmul`` on the PE array: output tiles transposed (features on PSUM
partitions) so that the bias and the activation are one scalar-engine
instruction per tile."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace

from xdsl.dialects.builtin import f32
from xdsl.ir import Block, Operation, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap
from kaena.target.tiling import balanced, cdiv

from . import decisions as d
from .builder import single_rounding
from .epilogues import OutLayout, planned_epilogue
from .function import FunctionLowering
from .head_tiles import HeadTiles, head_tile_block, head_tile_fits, head_tile_token_major
from .interface import OpFamily
from .ktensor_plan_attention import planned_blocks
from .matmul_tiles import MatmulTiles, epilogue_length, matmul_tiles, planned_tiles, streamable
from .normalization import param_rows
from .planning import FunctionPlan, itemsize
from .utils import E, accumulate
from .token_tiles import TokenTile, transpose_lhs
from .views import DramView


def weight_block_counts(plan: FunctionPlan, op: kt.MatmulOp) -> tuple[int, ...]:
    """The column-block counts ``op`` can stream its weights in: the divisors of its output
    tiles' count (of tile pairs when its result is chained), 1 unless ``streamable``."""
    if not streamable(plan, op):
        return (1,)
    N = op.rhs.type.get_shape()[-1]
    T = N // planned_tiles(plan, op).ntw // (2 if d.has_flag(op, d.CHAIN_ATTR) else 1)
    return tuple(n for n in range(1, T + 1) if T % n == 0)


def chain_consumer(plan: FunctionPlan, op: kt.MatmulOp) -> kt.MatmulOp | None:
    """The matmul reading ``op``'s result as its lhs^T straight from SBUF, if one can: the result
    (through reshapes and a cast) is ``op``'s plain [M, N] matrix, only that matmul's lhs,
    N in whole 128-row K tiles; both ``streamable``. ``op`` then drains its out^T tiles in
    pairs onto all partitions: exactly the consumer's lhs^T tile."""
    t = plan.target
    v = plan.materialized(op)
    if v in plan.direct or not v.has_one_use() or not streamable(plan, op):
        return None
    user = next(iter(v.uses)).operation
    if not isinstance(user, kt.MatmulOp) or user.lhs is not v or user not in plan.order \
            or plan.fused_input(user) is not None or not streamable(plan, user):
        return None
    M, N = op.lhs.type.get_shape()[-2], op.rhs.type.get_shape()[-1]
    ep = planned_epilogue(plan, op, op.bias is None and op.activation.data == "none")
    tl, tu = planned_tiles(plan, op), planned_tiles(plan, user)
    if ep.layout != OutLayout.row_major(M, N) or len(op.lhs.type.get_shape()) != 2 or ep.bias is not None:
        return None
    if 2 * tl.ntw != t.partitions or tl.ntw not in t.psum_matmul_partition_starts \
            or N % t.partitions or tu.P != t.partitions or tu.Kr:
        return None
    return user


def token_major_matmul(fl: FunctionLowering, tl: MatmulTiles, views, tiles, dims, blocks: int,
                       x_in: SSAValue | None, slots: int = 0) -> None:
    """A head-tiled V projection: out [M tokens on partitions, N] = x w, the lhs^T tile's token
    columns as stationaries (``pe_columns`` tokens at a time, PSUM partitions from there), the
    weight columns of each streamed block moving (in chunks of a PSUM bank); the drain adds the
    bias row (on every partition) on the vector engine, or copies, into the v tile."""
    b, t = fl.b, fl.target
    lhs, rhs, bias, out = views
    w_t, x_t = tiles
    M, K, N = dims
    if not isinstance(lhs, ChainedTiles):
        load_lhs_t(fl, tl, lhs, (x_t, x_in), E(0), M, K)
    per = N // blocks
    nc = balanced(per, min(t.pe_max_moving, t.psum_bank_entries))
    ps = b.alloc(PsumType, M, nc, f32, "ps_v")
    rows = param_rows(fl, bias, M, N, "bias_rows") if bias is not None else None
    for c, n0, base in weight_block_bases(b, tl, N, per, slots):
        load_weight_columns(fl, tl, rhs, w_t, (base, n0, per), N)
        for _, j0, nw in b.tiles(per, nc):
            for t0 in range(0, M, t.pe_columns):
                tw = min(t.pe_columns, M - t0)
                for kk, _, kw in b.tiles(K, tl.P):
                    b.load_stationary(x_t, ap(0, kw, kk.scaled(M) + t0, [[tw, 1]]))
                    b.matmul(ps, ap(t0, tw, 0, [[nw, 1]]), w_t, ap(0, kw, kk.scaled(per) + base + j0, [[nw, 1]]),
                             accumulate=accumulate(kk))
            dst, src = ap(0, M, n0 + j0, [[nw, 1]]), ap(0, M, 0, [[nw, 1]])
            if rows is not None:
                b.tensor_tensor("add", out.tile, dst, ps, src, rows, ap(0, M, n0 + j0, [[nw, 1]]))
            else:
                b.activation("identity", out.tile, dst, ps, src)


def lhs_root(plan: FunctionPlan, op: kt.MatmulOp) -> SSAValue:
    """The value ``op``'s lhs^T tile is loaded from: its lhs (a fused cast's input), through reshapes."""
    cast = plan.fused_input(op)
    v = op.lhs if cast is None else cast.input
    while isinstance(v.owner, kt.ReshapeOp):
        v = v.owner.input
    return v


def lhs_provider(plan: FunctionPlan, op: kt.MatmulOp) -> kt.MatmulOp | None:
    """An earlier matmul whose lhs^T tile ``op`` can read instead of loading its own: the same
    lhs (the same value through reshapes, the same operand type), both ``streamable`` (one
    moving tile holds every row), neither reading a chained result."""
    if not isinstance(op, kt.MatmulOp) or not streamable(plan, op) or _chained_lhs(plan, op):
        return None
    root = lhs_root(plan, op)
    for other in plan.ops[:plan.order[op]]:
        if isinstance(other, kt.MatmulOp) and not plan.is_absorbed(other) and other.lhs.type == op.lhs.type \
                and lhs_root(plan, other) is root and streamable(plan, other) and not _chained_lhs(plan, other) \
                and (plan.fused_input(other) is None) == (plan.fused_input(op) is None):
            return other
    return None


def _chained_lhs(plan: FunctionPlan, op: kt.MatmulOp) -> bool:
    owner = op.lhs.owner
    while isinstance(owner, kt.ReshapeOp | kt.CastOp) and plan.is_absorbed(owner):
        owner = owner.input.owner
    if isinstance(owner, kt.BatchMatmulOp):  # an attention block's context, chained (context_chain)
        blk = planned_blocks(plan).get(owner)
        return blk is not None and blk.context is owner and d.has_flag(blk.scores, d.CONTEXT_CHAIN_ATTR)
    return isinstance(owner, kt.MatmulOp) and d.has_flag(owner, d.CHAIN_ATTR)


# the lhs^T tiles loaded so far, per lowering: (root value, operand type) -> tile
_LHS_TILES: "weakref.WeakKeyDictionary[FunctionLowering, dict]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ChainedTiles:
    """A matmul result kept in SBUF for the next matmul: [partitions, (kt, M)] bf16 out^T tile
    pairs, feature f on partition f % partitions, column (f // partitions) * M + m."""

    tile: SSAValue
    shape: tuple[int, int]
    element_type: object

    @property
    def itemsize(self) -> int:
        return itemsize(self.element_type)


def prefetchable(plan: FunctionPlan, op: Operation) -> bool:
    """A matmul whose weights can load ahead of it, into its one weight tile: a model weight
    or argument, all of N in one block (no ``weight_blocks``), its lhs^T loaded plainly
    (not chained, shared nor token-major) and its result not chained."""
    if not isinstance(op, kt.MatmulOp) or plan.is_absorbed(op) or len(op.lhs.type.get_shape()) != 2:
        return False
    if not isinstance(op.rhs.owner, kt.WeightOp | Block) or (d.get_int(op, d.WEIGHT_BLOCKS_ATTR) or 1) > 1:
        return False
    if any(d.has_flag(op, a) for a in (d.CHAIN_ATTR, d.SHARED_LHS_ATTR, d.HEAD_TILE_ATTR)) or _chained_lhs(plan, op) \
            or _token_major_lhs(plan, op):
        return False
    N = op.rhs.type.get_shape()[-1]
    return planned_tiles(plan, op).Nb == N


def _token_major_lhs(plan: FunctionPlan, op: kt.MatmulOp) -> bool:
    owner = lhs_root(plan, op).owner
    return isinstance(owner, Operation) and d.has_flag(owner, d.TOKEN_TILE_ATTR)


def weight_loaders(plan: FunctionPlan, op: Operation) -> list[Operation]:
    """The ops before ``op`` that load weights of their own (a weight operand of rank 2 or
    more; biases aside), in program order: where the DMA queue runs ahead of the compute."""
    return [o for o in plan.ops[:plan.order[op]] if weight_bytes(o) and not plan.is_absorbed(o)]


def weight_bytes(op: Operation) -> int:
    """Bytes of ``op``'s weight operands of rank 2 or more."""
    return sum(math.prod(v.type.get_shape()) * itemsize(v.type.element_type) for v in op.operands
               if isinstance(v.owner, kt.WeightOp) and len(v.type.get_shape()) >= 2)


def prefetch_anchors(plan: FunctionPlan, op: kt.MatmulOp) -> list[tuple[Operation, int]]:
    """(op, K tiles) pairs of ``kaena.plan.weight_prefetch``: the K tiles of ``op``'s weights
    loaded just before each of the last weight loaders ahead of it, checked."""
    counts = d.get_ints(op, d.WEIGHT_PREFETCH_ATTR) or ()
    if not counts:
        return []
    loaders = weight_loaders(plan, op)
    if not prefetchable(plan, op) or len(counts) > len(loaders) or min(counts) < 1 \
            or sum(counts) != planned_tiles(plan, op).KT:
        raise plan.error(op, f"{d.WEIGHT_PREFETCH_ATTR} = {list(counts)}, but it needs one positive K tile "
                             f"count per weight-loading op ahead of it (at most {len(loaders)}), summing "
                             f"to its {planned_tiles(plan, op).KT} K tiles, and weights in one tile")
    return list(zip(loaders[len(loaders) - len(counts):], counts))


def prefetch_weights(fl: FunctionLowering, op: kt.MatmulOp, kt0: int, nk: int) -> None:
    """K tiles [kt0, kt0 + nk) of ``op``'s weights into its weight tile (allocated with the
    first), ahead of ``op`` in program order: the in-order DMA queue moves them while
    earlier ops compute."""
    tiles = _PREFETCHED.setdefault(fl, {})
    rhs = fl.views.get(op.rhs)
    if rhs is None:  # a weight op later in program order than the anchor: declare it now
        rhs = DramView(fl.weight(op.rhs.owner.weight_name.data, op.rhs.type), tuple(op.rhs.type.get_shape()))
    tl = planned_tiles(fl.plan, op)
    K, N = rhs.shape
    if op not in tiles:
        tiles[op] = fl.b.alloc(SbufType, min(K, tl.P), tl.KT * N, rhs.element_type, "w_pre")
    w_t, P = tiles[op], tl.P
    full = max(0, min(kt0 + nk, tl.KTf) - kt0)
    if full:
        fl.b.dma(w_t, ap(0, P, kt0 * N, [[full * N, 1]]),
                 rhs.var, ap(0, P, kt0 * P * N, [[full, P * N], [N, 1]], N))
    if tl.Kr and kt0 + nk > tl.KTf:
        fl.b.dma(w_t, ap(0, tl.Kr, tl.KTf * N, [[N, 1]]),
                 rhs.var, ap(0, tl.Kr, tl.KTf * P * N, [[N, 1]], N))


# the weight tiles prefetched so far, per lowering: matmul -> tile
_PREFETCHED: "weakref.WeakKeyDictionary[FunctionLowering, dict]" = weakref.WeakKeyDictionary()


def planned_weight_slots(plan: FunctionPlan, op: kt.MatmulOp, blocks: int) -> int:
    """``kaena.plan.weight_slots`` (0 when absent: one block-major slot per block, the whole
    weight in SBUF), checked: 2 slots that consecutive blocks alternate between, for weights
    streamed in more than 2 blocks."""
    n = d.get_int(op, d.WEIGHT_SLOTS_ATTR) or 0
    if n and (n != 2 or blocks <= 2):
        raise plan.error(op, f"{d.WEIGHT_SLOTS_ATTR} = {n}, but only 2 slots for weights streamed in more "
                             f"than 2 blocks are supported (it streams {blocks})")
    return n


def weight_block_bases(b, tl: MatmulTiles, N: int, per: int, slots: int):
    """(block index, first column, base in the weight tile) of each streamed column block:
    block-major over a tile holding every block, or alternating between ``slots`` = 2 (the
    blocks in pairs, so each base is a constant: block i + 2 reuses block i's slot)."""
    if not slots:
        for c, n0, _ in b.tiles(N, per):
            yield c, n0, c.scaled(tl.KT * per)
        return
    for c, n0, _, slot in b.pingpong(N, per, slots):
        yield c, n0, E(slot * tl.KT * per)


def planned_weight_blocks(plan: FunctionPlan, op: kt.MatmulOp) -> int:
    """``kaena.plan.weight_blocks`` (1 when absent), checked against what ``op`` can do."""
    n = d.get_int(op, d.WEIGHT_BLOCKS_ATTR) or 1
    if n not in weight_block_counts(plan, op):
        raise plan.error(op, f"{d.WEIGHT_BLOCKS_ATTR} = {n}, but it can stream its weights in "
                             f"{', '.join(map(str, weight_block_counts(plan, op)))} column blocks only")
    return n


class MatmulFamily(OpFamily):
    op_types = (kt.MatmulOp,)

    def fuses_cast(self, op: kt.MatmulOp) -> bool:
        return single_rounding(op.activation.data)

    def fuses_input(self, op: kt.MatmulOp, plan: FunctionPlan) -> bool:
        """An f32 -> bf16/f16 cast of the lhs: the lhs^T tiles are loaded in f32 and rounded
        on the scalar engine (once, as the cast would), not read back from a cast in DRAM."""
        cast = op.lhs.owner
        return (isinstance(cast, kt.CastOp) and cast.input.type.element_type == f32
                and str(cast.result.type.element_type) in ("bf16", "f16"))

    def epilogue_length(self, op: kt.MatmulOp, plan: FunctionPlan) -> int:
        return epilogue_length(plan, op, op.bias is None and op.activation.data == "none")

    def weight_blocks(self, op: kt.MatmulOp, plan: FunctionPlan) -> int:
        """The block count the cost model prices fastest (queue time plus the compute the
        queue does not hide), the fewest on a tie."""
        *_, M, K = op.lhs.type.get_shape()
        N = op.rhs.type.get_shape()[-1]
        cm = plan.cm
        # out^T [N, M] = w[K, N]^T x^T[K, M] (weights stationary), one drain per output tile
        compute = (cm.gemm(K=K, M=N, N=M, dtype=str(op.lhs.type.element_type)).cycles
                   + cdiv(N, plan.target.pe_columns) * cm.activation(M))
        wbytes = K * N * itemsize(op.rhs.type.element_type)
        return min(weight_block_counts(plan, op), key=lambda n: (cm.streamed_weights(wbytes, compute, n), n))

    def chains_output(self, op: kt.MatmulOp, plan: FunctionPlan) -> bool:
        return chain_consumer(plan, op) is not None

    def shares_input(self, op: kt.MatmulOp, plan: FunctionPlan) -> bool:
        return lhs_provider(plan, op) is not None

    def head_tile(self, op: kt.MatmulOp, plan: FunctionPlan) -> bool:
        return head_tile_block(plan, op) is not None

    def head_tile_pays(self, op: kt.MatmulOp, plan: FunctionPlan) -> bool:
        return head_tile_fits(plan, op)

    def prefetch_anchors(self, op: kt.MatmulOp, plan: FunctionPlan) -> list[tuple[Operation, int]]:
        return prefetch_anchors(plan, op)

    def prefetch(self, fl: FunctionLowering, op: kt.MatmulOp, kt0: int, nk: int) -> None:
        prefetch_weights(fl, op, kt0, nk)

    def lower(self, fl: FunctionLowering, op: kt.MatmulOp) -> None:
        """A chained result (``kaena.plan.chain``) goes to an SBUF tile its consumer reads, a
        head-tiled one (``kaena.plan.head_tile``) to the q^T or k tile of its attention block."""
        if d.has_flag(op, d.HEAD_TILE_ATTR) and not fl.plan.is_absorbed(op):
            blk = head_tile_block(fl.plan, op)
            if blk is None:
                raise fl.error(f"{d.HEAD_TILE_ATTR} is set, but its result is not the q, k or v of "
                               "an attention block that can read it from SBUF")
            value = fl.plan.materialized(op)
            M = op.lhs.type.get_shape()[-2]
            if head_tile_token_major(fl.plan, op):  # v [keys, (head, Dv)]
                tile = fl.b.alloc(SbufType, M, blk.B * blk.Dv, value.type.element_type, "head_v")
                out = HeadTiles(tile, (blk.B, M, blk.Dv), value.type.element_type, True)
            else:
                tile = fl.b.alloc(SbufType, blk.D, blk.B * M, value.type.element_type, "head_t")
                out = HeadTiles(tile, (blk.B, M, blk.D), value.type.element_type)
            fl.views[value] = fl.views[op.results[0]] = out
            self.emit(fl, op, out)
            return
        if not d.has_flag(op, d.CHAIN_ATTR) or fl.plan.is_absorbed(op):
            super().lower(fl, op)
            return
        if chain_consumer(fl.plan, op) is None:
            raise fl.error(f"{d.CHAIN_ATTR} is set, but its result is not the lhs of one matmul that can read it from SBUF")
        value = fl.plan.materialized(op)
        M, N = op.lhs.type.get_shape()[-2], op.rhs.type.get_shape()[-1]
        P = fl.target.partitions
        tile = fl.b.alloc(SbufType, P, (N // P) * M, value.type.element_type, "chain_t")
        out = ChainedTiles(tile, (M, N), value.type.element_type)
        fl.views[value] = fl.views[op.results[0]] = out
        self.emit(fl, op, out)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        if plan.materialized(op) in resident:
            return 0
        return plan.budget.big + plan.budget.mid + plan.budget.out

    def emit(self, fl: FunctionLowering, op: kt.MatmulOp, out: DramView) -> None:
        b = fl.b
        cast = fl.plan.fused_input(op)
        lhs, rhs = fl.view(op.lhs if cast is None else cast.input), fl.view(op.rhs)
        lhs_type = op.lhs.type.element_type  # the operand dtype (the fused cast's)
        ep = planned_epilogue(fl.plan, op, op.bias is None and op.activation.data == "none")
        bias = fl.view(op.bias) if op.bias is not None else (fl.view(ep.bias) if ep.bias is not None else None)
        M, K = lhs.shape
        N = rhs.shape[1]
        if lhs_type != rhs.element_type:
            raise fl.error(
                f"operands have different element types ({lhs_type} and {rhs.element_type}); "
                "run auto-cast so both are the same"
            )
        # the tiles of the operand dtype (as planned); a fused cast's f32 staging tile beside them
        tl = matmul_tiles(fl.target, fl.budget, M, K, N, itemsize(lhs_type), out.itemsize, fl.error)
        Kp = min(K, tl.P)
        prefetched = _PREFETCHED.get(fl, {}).get(op)
        blocks = planned_weight_blocks(fl.plan, op)
        slots = planned_weight_slots(fl.plan, op, blocks)
        w_cols = tl.KT * (slots * (N // blocks) if slots else tl.Nb)
        w_t = b.alloc(SbufType, Kp, w_cols, rhs.element_type, "w_t") if prefetched is None else prefetched
        chained_in, chained_out = isinstance(lhs, ChainedTiles), isinstance(out, ChainedTiles | HeadTiles)
        shared = d.has_flag(op, d.SHARED_LHS_ATTR)
        x_t = None if chained_in or shared else b.alloc(SbufType, Kp, tl.KT * tl.Mt, lhs_type, "x_t")
        token_major = isinstance(lhs, TokenTile)  # transposed on the PE array, not loaded
        x_in = b.alloc(SbufType, Kp, tl.KT * tl.Mt, lhs.element_type, "x_f32") \
            if cast is not None and not shared and not token_major else x_t
        ps = None if chained_out else b.alloc(PsumType, tl.ntw, tl.Mt, f32, "ps")
        o_t = None if chained_out else b.alloc(SbufType, tl.ntw, tl.ntb * tl.Mt, out.element_type, "o_t")
        b_t = b.alloc(SbufType, tl.ntw, tl.ntb, bias.element_type, "b_t") if bias and not chained_out else None
        drain = Drain(op.activation.data, ep.scale, ep.layout, E(0))
        if isinstance(lhs, ChainedTiles):
            x_t, x_in = lhs.tile, None
        loaded = _LHS_TILES.setdefault(fl, {})
        key = (lhs_root(fl.plan, op), op.lhs.type)
        if shared:
            if key not in loaded:
                raise fl.error(f"{d.SHARED_LHS_ATTR} is set, but no earlier matmul loaded its lhs^T tile")
            x_t, x_in = loaded[key], None
            lhs = ChainedTiles(x_t, (M, K), lhs_type)  # read, not loaded
        elif not chained_in and streamable(fl.plan, op):  # all rows in x_t: what lhs_provider assumes
            loaded.setdefault(key, x_t)
        if token_major and not shared:
            transpose_lhs(fl, lhs, x_t, lhs_type, M, K)
        if token_major:
            lhs = ChainedTiles(x_t, (M, K), lhs_type)  # in SBUF already
        if isinstance(out, HeadTiles) and out.token_major:
            token_major_matmul(fl, tl, (lhs, rhs, bias, out), (w_t, x_t), (M, K, N), blocks,
                               x_in if cast is not None else None, slots)
            return
        if isinstance(out, HeadTiles):  # D-feature output tiles, each drained into its head's columns
            D = out.shape[2]
            th = replace(tl, ntw=D, ntb=N // D)
            ps = b.alloc(PsumType, D, M, f32, "ps")
            b_t = b.alloc(SbufType, D, N // D, bias.element_type, "b_t") if bias else None
            if bias:
                load_bias(fl, th, bias, b_t, E(0), N)
            streamed_matmul(fl, drain, th, (lhs, rhs, out), (w_t, x_t, ps, out.tile, b_t), (M, K, N), blocks,
                            x_in if cast is not None else None, slots)
            return
        if isinstance(out, ChainedTiles):
            P = fl.target.partitions
            b_t = b.alloc(SbufType, P, N // P, bias.element_type, "b_t") if bias else None
            ps = b.alloc(PsumType, P, M, f32, "ps")
            if bias:
                b.dma(b_t, ap(0, P, 0, [[N // P, 1]]), bias.var, ap(0, P, 0, [[N // P, P]], 1))
            paired_matmul(fl, drain, tl, (lhs, rhs), (w_t, x_t, ps, out.tile, b_t), (M, K, N), blocks,
                          x_in if cast is not None else None, slots)
            return
        if blocks > 1 or isinstance(lhs, ChainedTiles):
            if bias:
                load_bias(fl, tl, bias, b_t, E(0), N)
            streamed_matmul(fl, drain, tl, (lhs, rhs, out), (w_t, x_t, ps, o_t, b_t), (M, K, N), blocks,
                            x_in if cast is not None else None, slots)
            return
        if prefetched is not None and tl.Nb != N:
            raise fl.error(f"{d.WEIGHT_PREFETCH_ATTR} is set, but its weights take more than one tile")
        for blk, n0, nb in b.tiles(N, tl.Nb):
            if prefetched is None:
                load_weights(fl, tl, rhs, w_t, n0, nb, N)
            if bias:
                load_bias(fl, tl, bias, b_t, n0, nb)
            for _, m0, mt in b.tiles(M, tl.Mt):
                matmul_block(fl, drain, tl, (lhs, out), (w_t, x_t, ps, o_t, b_t), (M, K, N),
                             (blk, n0, nb), m0, mt, x_in=x_in)


def load_weights(fl: FunctionLowering, tl: MatmulTiles, rhs: DramView, w_t: SSAValue, n0: E, nb: int, N: int):
    """weights [K, nb] -> [k partitions, (kt, n)]"""
    b, P = fl.b, tl.P
    if tl.KTf:
        b.dma(w_t, ap(0, P, 0, [[tl.KTf * nb, 1]]),
              rhs.var, ap(0, P, n0, [[tl.KTf, P * N], [nb, 1]], N))
    if tl.Kr:
        b.dma(w_t, ap(0, tl.Kr, tl.KTf * nb, [[nb, 1]]),
              rhs.var, ap(0, tl.Kr, n0 + tl.KTf * P * N, [[nb, 1]], N))


def load_bias(fl: FunctionLowering, tl: MatmulTiles, bias: DramView, b_t: SSAValue, n0: E, nb: int):
    b, ntw = fl.b, tl.ntw
    ft, fr = divmod(nb, ntw)
    if ft:
        b.dma(b_t, ap(0, ntw, 0, [[ft, 1]]), bias.var, ap(0, ntw, n0, [[ft, ntw]], 1))
    if fr:
        b.dma(b_t, ap(0, fr, ft, [[1, 1]]), bias.var, ap(0, fr, n0 + ft * ntw, [[1, 1]], 1))


@dataclass(frozen=True)
class Drain:
    """What the PSUM drain of a matmul does: ``activation(psum * scale + bias)`` (the bias
    tile is the block's), its tiles written with ``layout`` from ``base`` (the batch's offset)."""

    activation: str
    scale: float | None
    layout: OutLayout
    base: E


def matmul_block(fl: FunctionLowering, drain: Drain, tl: MatmulTiles, views, tiles, dims, block: tuple[E, E, int],
                 m0: E, mt: int, lhs_base: E = E(0), x_in: SSAValue | None = None) -> None:
    """One [mt rows from m0] x [nb features] block: lhs^T in (rows ``lhs_base + m0`` of the
    [rows, K] lhs; DMA'd into ``x_in`` and rounded into the moving tile by the scalar engine
    when the lhs is wider than the operands), PE tiles, epilogue (``drain``'s activation,
    scale and bias fused into the PSUM drain), out^T tiles to DRAM. Shared with
    ``batch_matmul.py``."""
    lhs, out = views
    w_t, x_t, ps, o_t, b_t = tiles
    M, K, N = dims
    _, _, nb = block
    load_lhs_t(fl, tl, lhs, (x_t, x_in), (lhs_base + m0).scaled(K), mt, K)
    for jt, j0, nw in fl.b.tiles(nb, tl.ntw):
        tile_product(fl, drain, tl, (w_t, x_t, ps, o_t, b_t), (nb, j0, nw), jt, mt, K)
    write_block(fl, drain, tl, out, o_t, block, m0, mt, N)


def load_lhs_t(fl: FunctionLowering, tl: MatmulTiles, lhs: DramView, x_tiles, row0: E, mt: int, K: int) -> None:
    """lhs^T [k partitions, (kt, m)] of ``mt`` rows from element ``row0``: DMA'd into ``x_in``,
    rounded into ``x_t`` on the scalar engine when they differ."""
    b, P = fl.b, tl.P
    x_t, x_in = x_tiles
    x_in = x_t if x_in is None else x_in
    if tl.KTf:
        b.dma(x_in, ap(0, P, 0, [[tl.KTf * mt, 1]]),
              lhs.var, ap(0, P, row0, [[tl.KTf, P], [mt, K]], 1))
        if x_in is not x_t:
            b.activation("identity", x_t, ap(0, P, 0, [[tl.KTf * mt, 1]]), x_in, ap(0, P, 0, [[tl.KTf * mt, 1]]))
    if tl.Kr:
        b.dma(x_in, ap(0, tl.Kr, tl.KTf * mt, [[mt, 1]]),
              lhs.var, ap(0, tl.Kr, row0 + tl.KTf * P, [[mt, K]], 1))
        if x_in is not x_t:
            b.activation("identity", x_t, ap(0, tl.Kr, tl.KTf * mt, [[mt, 1]]),
                         x_in, ap(0, tl.Kr, tl.KTf * mt, [[mt, 1]]))


def tile_product(fl: FunctionLowering, drain: Drain, tl: MatmulTiles, tiles, cols: tuple[int, E, int], jt: E,
                 mt: int, K: int) -> None:
    """Output tile ``jt``: ``nw`` features from column ``j0`` of the [k, (kt, nb)] weight tile,
    accumulated over the K tiles in PSUM, drained (activation, scale, bias) into ``o_t``."""
    b = fl.b
    w_t, x_t, ps, o_t, b_t = tiles
    nb, j0, nw = cols
    for kk, _, kw in b.tiles(K, tl.P):
        b.load_stationary(w_t, ap(0, kw, kk.scaled(nb) + j0, [[nw, 1]]))
        b.matmul(ps, ap(0, nw, 0, [[mt, 1]]), x_t, ap(0, kw, kk.scaled(mt), [[mt, 1]]),
                 accumulate=accumulate(kk))
    b.act(drain.activation, o_t, ap(0, nw, jt.scaled(mt), [[mt, 1]]),
          ps, ap(0, nw, 0, [[mt, 1]]),
          b_t, ap(0, nw, jt, [[1, 1]]) if b_t else None, scale=drain.scale)


def streamed_matmul(fl: FunctionLowering, drain: Drain, tl: MatmulTiles, views, tiles, dims, blocks: int,
                    x_in: SSAValue | None, slots: int = 0) -> None:
    """All M rows against weights streamed in ``blocks`` column blocks (``kaena.plan.weight_blocks``):
    lhs^T in once, then per block its weight DMA and its output tiles, so that the queue moves
    the next block while the PE array does this one; out^T to DRAM once."""
    b, ntw = fl.b, tl.ntw
    lhs, rhs, out = views
    w_t, x_t, ps, o_t, b_t = tiles
    M, K, N = dims
    per = N // blocks
    if not isinstance(lhs, ChainedTiles):
        load_lhs_t(fl, tl, lhs, (x_t, x_in), E(0), M, K)
    for c, n0, base in weight_block_bases(b, tl, N, per, slots):
        load_weight_columns(fl, tl, rhs, w_t, (base, n0, per), N)
        for jt, j0, nw in b.tiles(per, ntw):
            tile_product(fl, drain, tl, tiles, (per, base + j0, nw), c.scaled(per // ntw) + jt, M, K)
    if isinstance(out, HeadTiles):  # the drains wrote the attention's tile: nothing to store
        return
    write_block(fl, drain, tl, out, o_t, (E(0), E(0), N), E(0), M, N)


def paired_matmul(fl: FunctionLowering, drain: Drain, tl: MatmulTiles, views, tiles, dims, blocks: int,
                  x_in: SSAValue | None, slots: int = 0) -> None:
    """``streamed_matmul`` for a chained result (``kaena.plan.chain``): output tiles in pairs,
    the second on PSUM partitions from ``ntw``, each pair drained at once into the consumer's
    [partitions, (kt, M)] lhs^T tile; nothing written to DRAM."""
    b, ntw = fl.b, tl.ntw
    lhs, rhs = views
    w_t, x_t, ps, c_t, b_t = tiles
    M, K, N = dims
    per, pair = N // blocks, 2 * ntw
    if not isinstance(lhs, ChainedTiles):
        load_lhs_t(fl, tl, lhs, (x_t, x_in), E(0), M, K)
    for c, n0, base in weight_block_bases(b, tl, N, per, slots):
        load_weight_columns(fl, tl, rhs, w_t, (base, n0, per), N)
        for pt, j0, _ in b.tiles(per, pair):
            for half in (0, 1):
                for kk, _, kw in b.tiles(K, tl.P):
                    b.load_stationary(w_t, ap(0, kw, kk.scaled(per) + base + j0 + half * ntw, [[ntw, 1]]))
                    b.matmul(ps, ap(half * ntw, ntw, 0, [[M, 1]]), x_t, ap(0, kw, kk.scaled(M), [[M, 1]]),
                             accumulate=accumulate(kk))
            kt = c.scaled(per // pair) + pt
            b.act(drain.activation, c_t, ap(0, pair, kt.scaled(M), [[M, 1]]), ps, ap(0, pair, 0, [[M, 1]]),
                  b_t, ap(0, pair, kt, [[1, 1]]) if b_t else None, scale=drain.scale)


def load_weight_columns(fl: FunctionLowering, tl: MatmulTiles, rhs: DramView, w_t: SSAValue, cols: tuple[E, E, int],
                        N: int):
    """weights [K, nc columns from n0] -> [k partitions, (kt, nc)] at ``base`` of the weight tile."""
    b, P = fl.b, tl.P
    base, n0, nc = cols
    if tl.KTf:
        b.dma(w_t, ap(0, P, base, [[tl.KTf * nc, 1]]),
              rhs.var, ap(0, P, n0, [[tl.KTf, P * N], [nc, 1]], N))
    if tl.Kr:
        b.dma(w_t, ap(0, tl.Kr, base + tl.KTf * nc, [[nc, 1]]),
              rhs.var, ap(0, tl.Kr, n0 + tl.KTf * P * N, [[nc, 1]], N))


def write_block(fl: FunctionLowering, drain: Drain, tl: MatmulTiles, out: DramView, o_t: SSAValue,
                block: tuple[E, E, int], m0: E, mt: int, N: int) -> None:
    """out^T tiles [features, (tile, row)] of one block -> ``out`` at ``drain.layout``."""
    b, ntw, lo = fl.b, tl.ntw, drain.layout
    blk, n0, nb = block
    ft, fr = divmod(nb, ntw)
    rows = m0.scaled(lo.sm) + drain.base
    if lo.D == N:  # features contiguous at stride sd
        base = rows + n0.scaled(lo.sd)
        if ft:
            b.dma(out.var, ap(0, ntw, base, [[ft, ntw * lo.sd], [mt, lo.sm]], lo.sd),
                  o_t, ap(0, ntw, 0, [[ft * mt, 1]]))
        if fr:
            b.dma(out.var, ap(0, fr, base + ft * ntw * lo.sd, [[mt, lo.sm]], lo.sd),
                  o_t, ap(0, fr, ft * mt, [[mt, 1]]))
        return
    # groups of D features at stride sh, ntw | D, whole groups per block (OutLayout.fits)
    groups, per = nb // lo.D, lo.D // ntw
    base = rows + blk.scaled((tl.Nb // lo.D) * lo.sh)
    dims = ([[groups, lo.sh]] if groups > 1 else []) + ([[per, ntw * lo.sd]] if per > 1 else [])
    b.dma(out.var, ap(0, ntw, base, dims + [[mt, lo.sm]], lo.sd), o_t, ap(0, ntw, 0, [[ft * mt, 1]]))
