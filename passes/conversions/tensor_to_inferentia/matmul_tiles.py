"""The tiles of a ``ktensor.matmul`` on the PE array: K tiles on the PE rows, moving rows,
output features per PSUM tile and weight blocks, within the SBUF budgets. The planning
passes and the lowerings that read a matmul's tiles (attention, token tiles, batch
matmul) share these without the matmul lowering itself."""

from __future__ import annotations

from dataclasses import dataclass

from kaena.dialects import ktensor as kt
from kaena.target.tiling import balanced, cdiv

from .epilogues import OutLayout, epilogue_of
from .planning import FunctionPlan, itemsize


@dataclass(frozen=True)
class MatmulTiles:
    """K tiles of P rows (KTf full, Kr remainder), Mt moving rows, ntw output features per
    PSUM tile, Nb per weight block."""

    P: int
    KT: int
    KTf: int
    Kr: int
    Mt: int
    ntw: int
    Nb: int
    ntb: int


def matmul_tiles(t, budget, M: int, K: int, N: int, isz: int, osz: int, error) -> MatmulTiles:
    """The tiles of an [M, K] x [K, N] matmul within the SBUF budgets (``error(why)`` when
    K cannot fit)."""
    P = balanced(K, t.pe_rows)  # rows of one K tile
    KT = cdiv(K, P)
    # moving tile: all of K for Mt rows of lhs
    Mt = balanced(M, t.pe_max_moving)
    while KT * Mt * isz > budget.mid and Mt > 1:
        Mt = cdiv(Mt, 2)
    ntw = balanced(N, t.pe_columns)
    while KT * ntw * isz > budget.big and ntw > 1:
        ntw = cdiv(ntw, 2)
    if KT * Mt * isz > budget.mid or KT * ntw * isz > budget.big:
        raise error(f"K = {K} is too long for SBUF tiles ({KT} tiles of {P} rows); "
                    "split the contraction in the model")
    ntb = max(1, min(cdiv(N, ntw), budget.big // (KT * ntw * isz), budget.out // (Mt * osz)))
    Nb = min(N, ntb * ntw)
    return MatmulTiles(P, KT, K // P, K % P, Mt, ntw, Nb, cdiv(Nb, ntw))


def epilogue_length(plan: FunctionPlan, op, drain_math: bool) -> int:
    """How many of ``op``'s next users its drain writes through, given its tiles."""
    lhs_t, rhs_t = op.lhs.type, op.rhs.type
    *_, M, K = lhs_t.get_shape()
    N = rhs_t.get_shape()[-1]

    def fits(layout: OutLayout, element_type) -> bool:
        tl = matmul_tiles(plan.target, plan.budget, M, K, N, itemsize(lhs_t.element_type),
                          itemsize(element_type), lambda why: plan.error(op, why))
        return layout.fits(N, tl.ntw, tl.Nb)

    return len(epilogue_of(plan, op, drain_math, fits=fits).ops)


def planned_tiles(plan: FunctionPlan, op: kt.MatmulOp) -> MatmulTiles:
    *_, M, K = op.lhs.type.get_shape()
    N = op.rhs.type.get_shape()[-1]
    return matmul_tiles(plan.target, plan.budget, M, K, N, itemsize(op.lhs.type.element_type),
                        itemsize(plan.materialized(op).type.element_type), lambda why: plan.error(op, why))


def streamable(plan: FunctionPlan, op: kt.MatmulOp) -> bool:
    """All of N in one weight tile, all M rows in one moving tile, whole output tiles."""
    M, N = op.lhs.type.get_shape()[-2], op.rhs.type.get_shape()[-1]
    tl = planned_tiles(plan, op)
    return tl.Nb == N and M <= tl.Mt and N % tl.ntw == 0
