"""Token-major values kept in SBUF between ops (``kaena.plan.token_tile``, planned by
``ktensor-plan-residency``): a layer norm's [S, H] result as one [S partitions, H] tile,
read by the residual add the next layer norm does and by the matmuls it feeds, whose
lhs^T tiles the PE array transposes out of it (times an identity: exact) instead of a
strided DMA from DRAM. The value never goes through DRAM."""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.dialects.builtin import f32
from xdsl.ir import Attribute, Operation, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap

from . import decisions as d
from .function import FunctionLowering
from .matmul_tiles import planned_tiles, streamable
from .planning import FunctionPlan, itemsize
from .utils import prod


@dataclass(frozen=True)
class TokenTile:
    """A value resident in SBUF token-major: row r (all leading dims flattened) on partition r."""

    tile: SSAValue
    shape: tuple[int, ...]
    element_type: Attribute

    @property
    def itemsize(self) -> int:
        return itemsize(self.element_type)

    def reshaped(self, shape) -> "TokenTile":
        return replace(self, shape=tuple(shape))


def _terminal_users(v: SSAValue):
    """The users of ``v`` through chains of reshapes (None if a reshape is returned)."""
    for use in v.uses:
        u = use.operation
        if isinstance(u, kt.ReshapeOp):
            yield from _terminal_users(u.result)
        else:
            yield u


def can_stay_token_major(plan: FunctionPlan, op: Operation) -> bool:
    """Whether ``op`` (a layer norm) can keep its result token-major in SBUF: at most one row
    tile of rows, every reader (through reshapes) the residual add a layer norm does itself
    or the f32 -> bf16 cast a matmul does itself on lhs^T tiles it can transpose on the PE
    array (K in whole partition tiles, every row in one moving tile), none a result."""
    t = plan.target
    v = op.results[0]
    *lead, D = v.type.get_shape()
    R = prod(lead)
    if R > t.partitions or v in plan.direct or not v.uses or v.type.element_type != f32:
        return False
    stack = [v]
    while stack:  # no reshape of it may be a result either
        w = stack.pop()
        for use in w.uses:
            if isinstance(use.operation, kt.ReshapeOp):
                if use.operation.result in plan.direct:
                    return False
                stack.append(use.operation.result)
    for u in _terminal_users(v):
        reader = next((r.operation for r in u.results[0].uses), None) if u.results and \
            u.results[0].has_one_use() else None
        if isinstance(u, kt.ElementwiseOp) and isinstance(reader, kt.LayerNormOp) \
                and plan.fused_input(reader) is u:
            continue
        if isinstance(u, kt.CastOp) and isinstance(reader, kt.MatmulOp) and plan.fused_input(reader) is u \
                and streamable(plan, reader):
            tl = planned_tiles(plan, reader)
            if tl.P == t.partitions and not tl.Kr and 2 * t.pe_columns == t.partitions \
                    and t.pe_columns in t.psum_matmul_partition_starts:
                continue
        return False
    return True


def planned_token_major(plan: FunctionPlan, op: Operation) -> bool:
    return d.has_flag(op, d.TOKEN_TILE_ATTR)


def transpose_lhs(fl: FunctionLowering, tok: TokenTile, x_t: SSAValue, dtype: Attribute, M: int, K: int) -> None:
    """lhs^T [partitions, (kt, M)] in ``dtype`` from the token-major tile: rounded once on the
    scalar engine (the fused cast), then each [M, partitions] column tile transposed on the
    PE array in two halves of ``pe_columns`` (PSUM partitions 0 and ``pe_columns``)."""
    from .attention import square_identity

    b, t = fl.b, fl.target
    P, C = t.partitions, t.pe_columns
    xb = b.alloc(SbufType, M, K, dtype, "xb_t")
    ps = b.alloc(PsumType, P, M, f32, "ps_xt")
    eye = square_identity(fl, dtype)
    b.activation("identity", xb, ap(0, M, 0, [[K, 1]]), tok.tile, ap(0, M, 0, [[K, 1]]))
    for k, _, _ in b.tiles(K, P):
        for half in range(P // C):
            b.load_stationary(xb, ap(0, M, k.scaled(P) + half * C, [[C, 1]]))
            b.matmul(ps, ap(half * C, C, 0, [[M, 1]]), eye, ap(0, M, 0, [[M, 1]]))
        b.activation("identity", x_t, ap(0, P, k.scaled(M), [[M, 1]]), ps, ap(0, P, 0, [[M, 1]]))
