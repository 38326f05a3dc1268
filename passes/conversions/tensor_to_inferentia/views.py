"""Where a ktensor value lives during the lowering: a DRAM variable or a resident SBUF tile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdsl.ir import Attribute, SSAValue

from kaena.dialects.inferentia import AccessPatternAttr, AffineExpr, DramType, SbufType, ap
from kaena.isa import DType

from .utils import E, prod

if TYPE_CHECKING:
    from .builder import Builder


class _ValueView:
    """Dtype and size of a ktensor value, wherever it lives (``buffer``)."""

    shape: tuple[int, ...]

    @property
    def buffer(self) -> SSAValue:
        raise NotImplementedError

    @property
    def element_type(self) -> Attribute:
        t = self.buffer.type
        assert isinstance(t, DramType | SbufType)
        return t.element_type

    @property
    def itemsize(self) -> int:
        return DType.from_name(str(self.element_type)).itemsize

    @property
    def size(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True)
class DramView(_ValueView):
    """A ktensor value: a DRAM variable seen with a logical row-major shape."""

    var: SSAValue
    shape: tuple[int, ...]

    @property
    def buffer(self) -> SSAValue:
        return self.var


@dataclass(frozen=True)
class SbufView(_ValueView):
    """An NCHW ktensor value resident in SBUF (channel-major): channel ``c`` on
    partition ``c % pc``; free dims [c // pc][n][Hp][Wp], the plane stored with
    zero padding ``pads`` = [top, left, bottom, right] that its consumers read."""

    tile: SSAValue
    shape: tuple[int, int, int, int]
    pc: int
    pads: tuple[int, int, int, int]

    @property
    def buffer(self) -> SSAValue:
        return self.tile

    @property
    def Hp(self) -> int:
        return self.shape[2] + self.pads[0] + self.pads[2]

    @property
    def Wp(self) -> int:
        return self.shape[3] + self.pads[1] + self.pads[3]

    @property
    def plane(self) -> int:
        return self.Hp * self.Wp

    @property
    def ct_stride(self) -> int:
        return self.shape[0] * self.plane

    def base(self, ct: AffineExpr, n: AffineExpr) -> AffineExpr:
        """Offset of element (n, ct * pc, 0, 0) (inside the padding)."""
        return (ct.scaled(self.shape[0]) + n).scaled(self.plane) + self.pads[0] * self.Wp + self.pads[1]

    def interior(self, p0: int, cw: int, ct: AffineExpr, n: AffineExpr) -> AccessPatternAttr:
        """The H x W plane of channels [ct * pc + p0, + cw) of image ``n``."""
        _, _, H, W = self.shape
        dims = [[H * W, 1]] if self.Wp == W else [[H, self.Wp], [W, 1]]
        return ap(p0, cw, self.base(ct, n), dims)


View = DramView | SbufView


def _dram_plane(view: DramView, n: E, ct: E, pc: int, cw: int, padded_w: int | None):
    """The access pattern of channels [ct * pc, + cw) of image ``n`` of an NCHW DRAM value,
    one channel per row; ``padded_w`` splits the plane into rows to match a padded tile."""
    _, C, H, W = view.shape
    dims = [[H * W, 1]] if padded_w is None else [[H, W], [W, 1]]
    return ap(0, cw, (n.scaled(C) + ct.scaled(pc)).scaled(H * W), dims, H * W)


def into_sbuf(b: Builder, x: View, out: SbufView, at: int) -> None:
    """Copy the images of ``x`` (DRAM or another tile) into the resident tile ``out`` from
    image ``at`` on: a batch join, a pipeline stage's input."""
    for n, _, _ in b.tiles(x.shape[0], 1):
        for ct, _, cw in b.tiles(x.shape[1], out.pc):
            dst = out.interior(0, cw, ct, n + E(at))
            if isinstance(x, SbufView):
                b.activation("identity", out.tile, dst, x.tile, x.interior(0, cw, ct, n))
            else:
                padded = None if out.Wp == out.shape[3] else out.Wp
                b.dma(out.tile, dst, x.var, _dram_plane(x, n, ct, out.pc, cw, padded))


def sbuf_to_dram(b: Builder, x: SbufView, out: DramView, at: int) -> None:
    """Store the images of the resident tile ``x`` into the NCHW DRAM value ``out`` from
    image ``at`` on."""
    for n, _, _ in b.tiles(x.shape[0], 1):
        for ct, _, cw in b.tiles(x.shape[1], x.pc):
            padded = None if x.Wp == x.shape[3] else x.Wp
            b.dma(out.var, _dram_plane(out, n + E(at), ct, x.pc, cw, padded), x.tile, x.interior(0, cw, ct, n))
