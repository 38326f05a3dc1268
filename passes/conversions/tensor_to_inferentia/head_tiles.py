"""Head tiles (``kaena.plan.head_tile``): a Q, K or V projection whose result only its
attention block reads drains each head's features straight into the block's q^T, k or v
SBUF tile instead of writing DRAM for the block to read back. Which projections can, and
whether it pays; the matmul lowering writes the tiles, the attention lowering reads them."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt

from . import decisions as d
from .epilogues import OutLayout, planned_epilogue
from .ktensor_plan_attention import AttentionBlock, planned_blocks
from .matmul_tiles import planned_tiles, streamable
from .planning import FunctionPlan, itemsize


@dataclass(frozen=True)
class HeadTiles:
    """A Q or K projection's result kept in SBUF for its attention block (``kaena.plan.head_tile``):
    [D partitions, (head, row)], feature d of head h, row m at partition d, column h * rows + m."""

    tile: SSAValue
    shape: tuple[int, int, int]  # (heads, rows, D)
    element_type: object
    token_major: bool = False  # v: [rows on partitions, (head, D)]

    @property
    def itemsize(self) -> int:
        return itemsize(self.element_type)



def head_tile_block(plan: FunctionPlan, op: Operation) -> AttentionBlock | None:
    """The planned attention block that can read ``op``'s result from SBUF as its q^T or k
    tile ([D, (head, row)]), if one can: ``op`` a ``streamable`` [M, K] x [K, N] matmul whose
    result (through its epilogue: reshapes, the head transpose, a cast) only that block's
    scores read, as q [heads, M, D] or k [heads, D, M], N = heads x D, D dividing the output
    tiles. Its drain then writes each head's D features on partitions 0..D straight into
    that tile."""
    if not isinstance(op, kt.MatmulOp) or plan.is_absorbed(op) or len(op.lhs.type.get_shape()) != 2 \
            or not streamable(plan, op):
        return None
    v = plan.materialized(op)
    if v in plan.direct or not v.has_one_use():
        return None
    user = next(iter(v.uses)).operation
    blk = planned_blocks(plan).get(user)
    if blk is None:
        return None
    M, N = op.lhs.type.get_shape()[-2], op.rhs.type.get_shape()[-1]
    ep = planned_epilogue(plan, op, op.bias is None and op.activation.data == "none")
    lo, t = ep.layout, plan.target
    if blk.context is user and user.rhs is v:  # v [heads, Lk, Dv]: token-major, keys on partitions
        Dv = blk.Dv
        if N == blk.B * Dv and M == blk.Lk and M <= t.partitions and op.activation.data == "none" \
                and ep.scale is None and ep.bias is None \
                and all(t0 in t.psum_matmul_partition_starts for t0 in range(0, M, t.pe_columns)) \
                and _lands(lo, M, N, lambda m, n: (n // Dv) * M * Dv + m * Dv + n % Dv):
            return blk
        return None
    if blk.scores is not user:
        return None
    D = blk.D
    if N != blk.B * D or planned_tiles(plan, op).ntw % D or D > plan.target.partitions:
        return None
    if user.lhs is v and M == blk.Lq and _lands(lo, M, N, lambda m, n: (n // D) * M * D + m * D + n % D):
        return blk  # q [heads, M, D]
    if user.rhs is v and user.lhs is not v and M == blk.Lk \
            and _lands(lo, M, N, lambda m, n: (n // D) * D * M + (n % D) * M + m):
        return blk  # k [heads, D, M]
    return None


def _lands(lo: OutLayout, M: int, N: int, where) -> bool:
    """Whether ``lo`` puts element (m, n) of an [M, N] result where ``where(m, n)`` says."""
    return all(m * lo.sm + (n // lo.D) * lo.sh + (n % lo.D) * lo.sd == where(m, n)
               for m in {0, 1, M - 1} for n in range(N))


def head_tile_fits(plan: FunctionPlan, op: kt.MatmulOp) -> bool:
    """Whether ``op``'s head tile pays and fits: the DRAM write and read it saves (cost model)
    outweigh the PE time of D-column output tiles instead of full ones, and the block's q^T
    and k tiles, live from the first projection to the attention, fit the SBUF headroom the
    single-op budgets leave (less the bias table)."""
    blk = head_tile_block(plan, op)
    if blk is None:
        return False
    cm, t, b = plan.cm, plan.target, plan.budget
    *_, M, K = op.lhs.type.get_shape()
    N = op.rhs.type.get_shape()[-1]
    osz = itemsize(plan.materialized(op).type.element_type)
    dt = str(op.lhs.type.element_type)
    saved = 2 * cm.dma(M * N * osz)
    if head_tile_token_major(plan, op):  # tokens stationary, weights moving
        extra = cm.gemm(K=K, M=M, N=N, dtype=dt).cycles - cm.gemm(K=K, M=N, N=M, dtype=dt).cycles
    else:
        extra = blk.B * cm.gemm(K=K, M=blk.D, N=M, dtype=dt).cycles - cm.gemm(K=K, M=N, N=M, dtype=dt).cycles
    tiles = blk.B * (blk.Lq + blk.Lk + blk.Dv) * osz  # q^T, k and v of every head
    table = d.get_int(plan.fn, d.BIAS_TABLE_BYTES_ATTR) or 0
    return saved > extra and tiles <= b.sbuf - b.big - b.mid - b.out - table and t.partitions >= blk.D


def head_tile_token_major(plan: FunctionPlan, op: kt.MatmulOp) -> bool:
    """Whether ``op``'s head tile is its block's v ([Lk, (head, Dv)]: keys on partitions)."""
    blk = head_tile_block(plan, op)
    return blk is not None and blk.context.rhs is plan.materialized(op)
