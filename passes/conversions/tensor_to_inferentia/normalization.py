"""``ktensor.layer_norm`` (with the residual add before it, when planned so): rows on partitions (up to the target's partitions per
tile, one ``inf.loop`` over row tiles), D along the free dim. Per tile: the mean
by one vector ``reduce`` with scale 1/D, the centred rows ``x - mean`` (a
per-partition scalar), the biased variance as the mean of their squares (scalar
engine square, vector reduce with scale 1/D: two passes, exact to FP32),
``rsqrt(var + eps)`` on the scalar engine (eps as the immediate bias), the
normalised rows by a per-partition multiply, then gamma and beta along the free
dim from tiles loaded once (by a stride-0 DMA, or for long rows one row by DMA
copied onto the partitions by the PE array)."""

from __future__ import annotations

from xdsl.dialects.builtin import f32

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap
from kaena.isa import DType
from kaena.target.tiling import balanced

from . import decisions as d
from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan
from .utils import prod
from .token_tiles import TokenTile, can_stay_token_major
from .views import DramView

F32_BYTES = DType.FP32.itemsize


def _tile_bytes(D: int, in_size: int, out_size: int, params: int) -> int:
    """Bytes per partition: x, centred (f32), squares/normalised (f32), params (f32), y."""
    return D * (in_size + 2 * F32_BYTES + params * F32_BYTES + out_size) + 2 * F32_BYTES


class LayerNormFamily(OpFamily):
    op_types = (kt.LayerNormOp,)

    def fuses_input(self, op: kt.LayerNormOp, plan: FunctionPlan) -> bool:
        """The residual add before it (``a + b``, one shape, no activation): both operands
        loaded into its row tiles and added by the vector engine, as the add would."""
        add = op.input.owner
        if not isinstance(add, kt.ElementwiseOp) or add.kind.data != "add" or add.activation.data != "none":
            return False
        t = add.result.type
        return all(v.type == t for v in (add.lhs, add.rhs)) and add.lhs is not add.rhs

    def scratch_bytes(self, op: kt.LayerNormOp, plan: FunctionPlan, resident) -> int:
        D = op.input.type.get_shape()[-1]
        isz = DType.from_name(str(op.input.type.element_type)).itemsize
        osz = DType.from_name(str(op.result.type.element_type)).itemsize
        extra = D * isz if plan.fused_input(op) is not None else 0
        return _tile_bytes(D, isz, osz, 1 + (op.bias is not None)) + extra

    def token_major_result(self, op: kt.LayerNormOp, plan: FunctionPlan) -> bool:
        return can_stay_token_major(plan, op)

    def lower(self, fl: FunctionLowering, op: kt.LayerNormOp) -> None:
        """A token-major result (``kaena.plan.token_tile``) is written into its SBUF tile only."""
        if not d.has_flag(op, d.TOKEN_TILE_ATTR):
            super().lower(fl, op)
            return
        shape = tuple(op.result.type.get_shape())
        tile = fl.b.alloc(SbufType, prod(shape[:-1]), shape[-1], op.result.type.element_type, "tok_sb")
        out = TokenTile(tile, shape, op.result.type.element_type)
        fl.views[op.result] = out
        self.emit(fl, op, out)

    def emit(self, fl: FunctionLowering, op: kt.LayerNormOp, out: DramView | TokenTile) -> None:
        b = fl.b
        add = fl.plan.fused_input(op)
        x, x2 = (fl.view(op.input), None) if add is None else (fl.view(add.lhs), fl.view(add.rhs))
        if isinstance(x, TokenTile):  # the add is commutative: the SBUF operand second
            x, x2 = x2, x
        gamma = fl.view(op.scale)
        beta = fl.view(op.bias) if op.bias is not None else None
        for v in (x, x2, gamma, beta, out):
            if v is not None and not isinstance(v, DramView | TokenTile):
                raise fl.error("layer_norm operands and result must live in DRAM")
        if isinstance(x, TokenTile) or isinstance(gamma, TokenTile) or isinstance(beta, TokenTile):
            raise fl.error("a layer norm reads its input and parameters from DRAM")
        *lead, D = x.shape
        R = prod(lead)
        need = _tile_bytes(D, x.itemsize, out.itemsize, 1 + (beta is not None)) + (D * x.itemsize if x2 else 0)
        if need > fl.budget.sbuf - fl.budget.out:
            raise fl.error(f"a layer norm over D = {D} does not fit in one SBUF partition "
                           f"({need} bytes of tiles per partition)")
        eps = float(op.epsilon.value.data)
        pp = balanced(R, fl.target.partitions)
        g_t, be_t = (None if v is None else param_rows(fl, v, pp, D, name)
                     for name, v in (("gamma_t", gamma), ("beta_t", beta)))
        x_t = b.alloc(SbufType, pp, D, x.element_type, "x_t")
        if isinstance(x2, TokenTile) and prod(x2.shape[:-1]) != pp:
            raise fl.error("a token-major residual must be one row tile")
        x2_t = (x2.tile if isinstance(x2, TokenTile) else b.alloc(SbufType, pp, D, x2.element_type, "x2_t")) \
            if x2 else None
        c_t = b.alloc(SbufType, pp, D, f32, "xc_t")
        n_t = b.alloc(SbufType, pp, D, f32, "xn_t")
        m_t = b.alloc(SbufType, pp, 1, f32, "mean_t")
        r_t = b.alloc(SbufType, pp, 1, f32, "rstd_t")
        y_t = out.tile if isinstance(out, TokenTile) else b.alloc(SbufType, pp, D, out.element_type, "y_t")
        for _, r0, rw in b.tiles(R, pp):
            row, one = ap(0, rw, 0, [[D, 1]]), ap(0, rw, 0, [[1, 1]])
            b.dma(x_t, row, x.var, ap(0, rw, r0.scaled(D), [[D, 1]], D))
            if x2 is not None:  # the fused residual add
                if not isinstance(x2, TokenTile):
                    b.dma(x2_t, row, x2.var, ap(0, rw, r0.scaled(D), [[D, 1]], D))
                b.tensor_tensor("add", x_t, row, x_t, row, x2_t, row)
            # shifted by each row's first value, then centred: exact for a constant row (a
            # mean scaled by 1/D rounds, and 1/sqrt(eps) would amplify what it leaves)
            b.tensor_scalar("sub", c_t, row, x_t, row, x_t, one)
            b.reduce("add", m_t, one, c_t, row, 1, scale=1.0 / D)
            b.tensor_scalar("sub", c_t, row, c_t, row, m_t, one)
            b.activation("square", n_t, row, c_t, row)
            b.reduce("add", r_t, one, n_t, row, 1, scale=1.0 / D)
            b.activation("rsqrt", r_t, one, r_t, one, imm=eps)
            last = y_t if g_t is None else n_t
            b.tensor_scalar("mul", last, row, c_t, row, r_t, one)
            if g_t is not None:
                b.tensor_tensor("mul", y_t if be_t is None else n_t, row, n_t, row, g_t, row)
            if be_t is not None:
                b.tensor_tensor("add", y_t, row, n_t, row, be_t, row)
            if not isinstance(out, TokenTile):
                b.dma(out.var, ap(0, rw, r0.scaled(D), [[D, 1]], D), y_t, row)


def param_rows(fl: FunctionLowering, v: DramView, pp: int, D: int, name: str):
    """A [pp, D] tile of ``v``'s row on every partition, by whichever of a stride-0 DMA
    (pp * D values cross DMA) or ``_broadcast_rows`` the target's costs price lower."""
    t = fl.target
    chunk = balanced(D, min(t.pe_max_moving, t.psum_bank_entries))
    chunks, halves = -(-D // chunk), -(-pp // t.pe_columns)
    pe = chunks * (halves * (t.pe_stationary_load_cycles + max(chunk, t.pe_min_matmul_cycles))
                   + t.pe_drain_cycles + t.act_fixed_cycles + chunk)
    if t.dma_cycles(pp * D * v.itemsize) <= t.dma_cycles(D * v.itemsize) + pe:
        tile = fl.b.alloc(SbufType, pp, D, v.element_type, name)
        fl.b.dma(tile, ap(0, pp, 0, [[D, 1]]), v.var, ap(0, pp, 0, [[D, 1]], 0))
        return tile
    return _broadcast_rows(fl, v, pp, D, name)


def _broadcast_rows(fl: FunctionLowering, v: DramView, pp: int, D: int, name: str):
    """A [pp, D] tile holding the D values of ``v`` on every partition. One DMA of the row
    to one partition, then copied onto the partitions by the PE array (a ones stationary
    [1, M] times the row: exact), drained by the scalar engine: D values cross DMA instead
    of pp * D (a stride-0 broadcast DMA moves every copy)."""
    b, t = fl.b, fl.target
    row_t = b.alloc(SbufType, 1, D, v.element_type, name.replace("_t", "_row"))
    ones_t = b.alloc(SbufType, 1, t.pe_columns, v.element_type, "ones_t")
    chunk = balanced(D, min(t.pe_max_moving, t.psum_bank_entries))
    ps = b.alloc(PsumType, pp, chunk, f32, name.replace("_t", "_ps"))
    out = b.alloc(SbufType, pp, D, v.element_type, name)
    b.memset(ones_t, ap(0, 1, 0, [[t.pe_columns, 1]]), 1.0)
    b.dma(row_t, ap(0, 1, 0, [[D, 1]]), v.var, ap(0, 1, 0, [[D, 1]], D))
    for _, c0, cw in b.tiles(D, chunk):
        for p0 in range(0, pp, t.pe_columns):
            pw = min(t.pe_columns, pp - p0)
            b.load_stationary(ones_t, ap(0, 1, 0, [[pw, 1]]))
            b.matmul(ps, ap(p0, pw, 0, [[cw, 1]]), row_t, ap(0, 1, c0, [[cw, 1]]))
        b.activation("identity", out, ap(0, pp, c0, [[cw, 1]]), ps, ap(0, pp, 0, [[cw, 1]]))
    return out
