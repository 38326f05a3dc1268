"""Banded image ops (convs and pools): the window geometry, how many output rows a
band takes, and the band loops with their input DMAs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xdsl.ir import SSAValue

from kaena.dialects.inferentia import ap
from kaena.target.tiling import cdiv

from .builder import Builder
from .utils import E
from .views import DramView


@dataclass(frozen=True)
class Geom:
    """Geometry of a sliding-window op over NCHW planes; pads are [top, left, bottom, right]."""

    H: int
    W: int
    KH: int
    KW: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pl: int
    pb: int
    pr: int
    OH: int
    OW: int

    @staticmethod
    def of(x_shape, kernel, strides, pads, dilations, out_shape) -> "Geom":
        return Geom(x_shape[2], x_shape[3], kernel[0], kernel[1], strides[0], strides[1],
                    dilations[0], dilations[1], *pads, out_shape[2], out_shape[3])

    @property
    def Wp(self) -> int:
        return self.W + self.pl + self.pr

    def rows_in(self, nr: int) -> int:
        """Padded input rows that ``nr`` consecutive output rows read."""
        return (nr - 1) * self.sh + (self.KH - 1) * self.dh + 1

    def clean(self, r0: int, nr: int) -> bool:
        """Whether output rows [r0, r0 + nr) read only in-bounds input rows."""
        top = r0 * self.sh - self.pt
        return top >= 0 and top + self.rows_in(nr) <= self.H


def band_rows(g: Geom, unit: int, fits: Callable[[int], bool], error: Callable[[str], Exception]) -> int:
    """Output rows per band: the whole image if it fits the SBUF budgets, else
    the largest multiple of ``unit`` (moving-tile rows) that does."""
    if fits(g.OH):
        return g.OH
    rb = (g.OH // unit) * unit
    while rb > unit and not fits(rb):
        rb -= unit
    if rb >= 1 and fits(rb):
        return rb
    if fits(1):
        return 1
    raise error(
        f"one output row of {g.OW} columns (an input row band of {g.rows_in(1)} x {g.Wp}) "
        "does not fit the SBUF tiles of one operation; reduce the image width"
    )


def band_plan(g: Geom, unit: int, fits: Callable[[int, int], bool], cost: Callable[[int, int], int],
              error: Callable[[str], Exception]) -> tuple[int, int]:
    """(output rows per band, input buffers) of a banded op whose input comes from
    DRAM: among the band heights that fit the SBUF budgets (multiples of ``unit``,
    or the whole image) with one or two buffers, the one ``cost`` (the cost model's
    modelled cycles) prices lowest; on a tie fewer buffers, then fewer bands."""
    best: tuple[tuple[int, int, int], int, int] | None = None
    for k in range(1, cdiv(g.OH, unit) + 1):
        rb = min(g.OH, cdiv(cdiv(g.OH, k), unit) * unit)
        if cdiv(g.OH, rb) != k:
            continue  # the same bands as a smaller k
        for nb in (1, 2) if k > 1 else (1,):
            if fits(rb, nb):
                key = (cost(rb, nb), nb, k)
                if best is None or key < best[0]:
                    best = (key, rb, nb)
    if best is None:
        return band_rows(g, unit, fits, error), 1  # raises: not even one row fits
    return best[1], best[2]


def prefetched_bands(b: Builder, g: Geom, rb: int, load: Callable[..., None]) -> Iterator[tuple[E, int, int]]:
    """(first output row, rows, buffer) per band of ``rb`` rows, double-buffered:
    ``load(r0, rows, clean, first, buffer)`` DMAs band i + 1 into the other buffer
    before band i is yielded (the in-order DMA queue then fetches it while band i
    computes). Runs of clean bands become a loop over pairs of bands."""
    bands = [(r0, min(rb, g.OH - r0)) for r0 in range(0, g.OH, rb)]
    bands = [(r0, nr, nr == rb and g.clean(r0, nr)) for r0, nr in bands]
    filled = [False, False]  # a buffer's padding columns are filled before its first load

    def issue(i: int, r0: E) -> None:
        load(r0, bands[i][1], bands[i][2], not filled[i % 2], i % 2)
        filled[i % 2] = True

    issue(0, E(bands[0][0]))
    i = 0
    while i < len(bands):
        pairs = 0
        while i > 0 and i + 2 * pairs + 2 < len(bands) and all(
                bands[j][2] for j in range(i + 2 * pairs, i + 2 * pairs + 3)):
            pairs += 1
        if pairs >= 2:
            with b.loop(pairs) as d:
                for h in (0, 1):
                    r0 = E(bands[i][0]) + d.scaled(2 * rb) + h * rb
                    issue(i + h + 1, r0 + rb)
                    yield r0, rb, (i + h) % 2
            i += 2 * pairs
            continue
        if i + 1 < len(bands):
            issue(i + 1, E(bands[i + 1][0]))
        yield E(bands[i][0]), bands[i][1], i % 2
        i += 1


def bands(b: Builder, g: Geom, rb: int) -> Iterator[tuple[E, int, bool]]:
    """(first output row, rows, clean) per band of ``rb`` rows. A run of full
    bands whose input rows are all in bounds ("clean") becomes one loop; the
    bands touching the top/bottom padding are peeled."""
    segs: list[list] = []
    for r0 in range(0, g.OH, rb):
        nr = min(rb, g.OH - r0)
        clean = nr == rb and g.clean(r0, nr)
        if clean and segs and segs[-1][3] and segs[-1][0] + segs[-1][2] * rb == r0:
            segs[-1][2] += 1
        else:
            segs.append([r0, nr, 1, clean])
    for r0, nr, count, clean in segs:
        with b.loop(count) as d:
            yield E(r0) + d.scaled(rb), nr, clean


def in_bounds_rows(g: Geom, r0: E, nin: int, clean: bool) -> tuple[int, int]:
    """[first, last) of the ``nin`` input rows of a band at output row ``r0`` inside the image."""
    if clean:
        return 0, nin
    top = r0.const * g.sh - g.pt
    return max(0, -top), min(nin, g.H - top)


def load_band(b: Builder, g: Geom, x: DramView, x_t: SSAValue, pw: int, plane: E,
              r0: E, nr: int, clean: bool, fill: float, first: bool,
              ct: tuple[int, int, int] = (1, 0, 0), dst_off: int = 0) -> None:
    """DMA the padded input rows of output rows [r0, r0 + nr) into ``x_t``
    (partition = image plane, free = [ct][row][padded column]): rows out of
    bounds and the padding columns hold ``fill``. ``plane`` is the element
    offset of the first plane in ``x``; ``ct`` = (tiles, dst stride, src
    stride) stacks several plane tiles in one DMA."""
    fill_band(b, g, x_t, pw, nr, clean, fill, first)
    j_lo, j_hi = in_bounds_rows(g, r0, g.rows_in(nr), clean)
    if j_hi <= j_lo:
        return
    nj = j_hi - j_lo
    row0 = r0.scaled(g.sh) + (j_lo - g.pt)
    n_ct, dst_ct, src_ct = ct
    cdims = [[n_ct, dst_ct]] if n_ct > 1 else []
    sdims = [[n_ct, src_ct]] if n_ct > 1 else []
    b.dma(x_t, ap(0, pw, dst_off + j_lo * g.Wp + g.pl, cdims + [[nj, g.Wp], [g.W, 1]]),
          x.var, ap(0, pw, plane + row0.scaled(g.W), sdims + [[nj * g.W, 1]], g.H * g.W))


def fill_band(b: Builder, g: Geom, x_t: SSAValue, pw: int, nr: int, clean: bool, fill: float,
              first: bool) -> None:
    """Fill a band tile's padding: before every band that has padding rows
    (they may hold the previous band's data), except for a single band
    covering the image, whose padding no DMA ever overwrites: filled once,
    before the op's loops."""
    if not (g.pt or g.pb or g.pl or g.pr) or not (first or not clean):
        return
    a = ap(0, pw, 0, [[x_t.type.free_elements, 1]])
    if nr == g.OH:
        if first:
            b.memset(x_t, a, fill, hoisted=True)
        return
    b.memset(x_t, a, fill)
