"""Tiling arithmetic shared by the lowering and the cost model.

``convert-tensor-to-inferentia`` cuts every op into tiles with these functions
and ``kaena.target.costmodel`` prices the same tiles with them, so an estimate
can never drift from what is emitted. Pure integers and the target's sizes:
no IR here.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaena.target.description import NeuronCoreTarget


def cdiv(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers."""
    return -(-a // b)


def balanced(n: int, cap: int) -> int:
    """The tile size <= cap that splits n into the fewest, most even tiles."""
    return cdiv(n, cdiv(n, cap))


def split(total: int, cap: int) -> list[tuple[int, int]]:
    """(size, count) of the tiles ``balanced`` cuts ``total`` into: full tiles, then the remainder."""
    size = balanced(total, cap)
    full, rest = divmod(total, size)
    return [(size, full)] + ([(rest, 1)] if rest else [])


def row_length(n: int, rows: int, cap: int) -> int:
    """Elements per row when ``n`` flat elements are cut into rows of at most
    ``cap`` for ``rows`` partitions: the shortest that fills the partitions,
    preferring one that divides ``n`` (no ragged tail)."""
    lo = min(cap, cdiv(n, rows))
    candidates = range(lo, min(cap, 2 * lo) + 1) if lo < cap else range(cap, cap // 2, -1)
    return next((f for f in candidates if n % f == 0), lo)


@dataclass(frozen=True)
class Budgets:
    """Policy, not hardware: the share of one SBUF partition of the target that
    the tiles of a single ktensor op may take (one op's tiles are live at a
    time; the rest is headroom for the allocator and the next ops' prefetch)."""

    sbuf: int  # bytes per partition
    big: int  # the big operand (weights, padded image)
    mid: int  # the moving operand
    out: int  # results waiting for their DMA

    @staticmethod
    def of(target: NeuronCoreTarget) -> "Budgets":
        s = target.sbuf_bytes_per_partition
        return Budgets(s, s * 3 // 8, s // 4, s // 8)


# A contraction whose weights alone take more than 1/RESIDENT_SHARE of a core's SBUF is
# split by output columns across pipeline stages (``ktensor-plan-column-split``): a part
# then leaves its stage room for its neighbours' layers.
RESIDENT_SHARE = 2


def pinned_weight_budget(target: NeuronCoreTarget, working: int = 0) -> int:
    """Bytes per SBUF partition a pipeline stage's weights may be pinned in (loaded once,
    at model load): the partition less ``working``, the stage's working set beside its
    weights (bytes per partition, ``ktensor_partition_pipeline.working_set``). The
    partitioner prices each stage's resident weights by it, ``ktensor-plan-matmul-streams``
    keeps the weights within it in one pinnable DMA each, and ``inf-allocate-sram``
    (``working`` 0) pins them, dropping the smallest where the placement finds no room."""
    return max(0, target.sbuf_bytes_per_partition - working)


def headroom_limit(sbuf_per_partition: int) -> int:
    """Bytes of an SBUF partition the values and tiles live at one op may take: less
    headroom for alignment and fragmentation (the residency planner's and the batch
    splitter's bound)."""
    return sbuf_per_partition - sbuf_per_partition // 8


def resident_partitions(target: NeuronCoreTarget, channels: int) -> int:
    """Channels per partition tile of a value resident in SBUF (channel-major)."""
    return min(channels, target.partitions)


def moving_chunk(target: NeuronCoreTarget, out_rows: int, out_cols: int) -> tuple[int, int]:
    """(rows, columns) of one PE moving tile over an output plane: the most even
    column tiles of <= ``pe_max_moving``, then as many rows as still fit."""
    cols = balanced(out_cols, target.pe_max_moving)
    return balanced(out_rows, max(1, target.pe_max_moving // cols)), cols


def conv_tiling(target: NeuronCoreTarget, Cg: int, Og: int, KH: int, KW: int, isz: int, fold: bool,
                pc: int | None = None, pco: int | None = None, block: int | None = None) -> tuple[int, int, int]:
    """(Pc, otw, Ob) of a PE convolution: contraction rows per channel tile,
    output channels per PSUM tile and per weight block (the big-operand budget, or
    ``block`` bytes per partition when smaller: a weight block a batch plan narrowed,
    at least one PSUM tile's). With a
    resident result (``pco`` channels per partition tile) the PSUM tiles must
    land on aligned partitions of whole channel tiles: the largest aligned
    width dividing ``pco`` when the balanced one does not; with one channel tile
    (``Og <= pco``) the widest aligned one, the last PSUM tile narrower (96
    channels: 64 + 32, not 3 x 32)."""
    if fold:
        Pc, CT, taps_s = Cg, 1, KW
    else:
        Pc = pc if pc is not None else balanced(Cg, target.pe_rows)
        CT, taps_s = cdiv(Cg, Pc), KH * KW
    otw = balanced(Og, target.pe_columns)
    align = target.partition_alignment
    if pco is not None and not (pco % otw == 0 and (otw == pco or otw % align == 0)):
        widest = target.pe_columns // align * align
        otw = widest if Og <= pco and widest else \
            next((m for m in range(widest, 0, -align) if pco % m == 0), otw)
    per = CT * otw * taps_s * isz
    if block is None:
        otb = max(1, min(cdiv(Og, otw), Budgets.of(target).big // per))
    else:  # the fewest, most even blocks within it
        otb = balanced(cdiv(Og, otw), max(1, min(block, Budgets.of(target).big) // per))
    return Pc, otw, min(Og, otb * otw)


def weight_bytes_per_output(Cg: int, Pc: int, KH: int, KW: int, isz: int, fold: bool) -> int:
    """Bytes per partition one output channel's weights take in a weight block: a column per
    channel tile and tap, or per kernel column when the (kh, c) pairs are folded onto the
    partitions."""
    return (1 if fold else cdiv(Cg, Pc)) * (KW if fold else KH * KW) * isz


def weight_blocks(target: NeuronCoreTarget, Cg: int, Og: int, KH: int, KW: int, isz: int, fold: bool,
                  pc: int | None = None, pco: int | None = None,
                  block: int | None = None) -> tuple[int, int, int, int]:
    """(Pc, otw, Ob, buffers): ``conv_tiling`` with the buffers of its weight blocks. Weights
    that do not fit their budget (the big-operand one, or ``block``) in one block stream
    through two buffers of at most half of it, the next block loading while the PE array
    runs over this one, when such halves are whole blocks (of whole channel tiles of ``pco``
    channels, a resident layout); else through one buffer of the budget's size."""
    Pc, otw, Ob = conv_tiling(target, Cg, Og, KH, KW, isz, fold, pc, pco, block)
    if Ob >= Og:
        return Pc, otw, Og, 1
    per = weight_bytes_per_output(Cg, Pc, KH, KW, isz, fold)
    cap = Budgets.of(target).big if block is None else min(block, Budgets.of(target).big)
    if pco is None:
        _, _, half = conv_tiling(target, Cg, Og, KH, KW, isz, fold, pc, pco, cap // 2)
    else:  # the fewest, most even blocks of whole channel tiles
        Ob, tiles = Ob // pco * pco, cap // 2 // (per * pco)
        half = balanced(cdiv(Og, pco), tiles) * pco if tiles else 0
    if half and 2 * half * per <= cap:
        return Pc, otw, half, 2
    return Pc, otw, Ob, 1


__all__ = ["Budgets", "balanced", "cdiv", "conv_tiling", "moving_chunk", "resident_partitions",
           "row_length", "split", "weight_blocks", "weight_bytes_per_output"]
