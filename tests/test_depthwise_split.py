"""A depthwise conv split by output rows between the PE array and the vector engine
(``kaena.plan.vector_rows``, ``depthwise_split``): planned by the cost model, exact
to the all-PE lowering, refused where the split cannot be honoured."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from test_tensor_to_inferentia import (
    _bf,
    _conv_grouped_ref,
    _conv_ref,
    _conv_txt,
    _ctx,
    _dw_txt,
    _program,
    _run_backend,
    _t,
)
from xdsl.parser import Parser

from kaena import weights as kweights
from kaena.dialects import inferentia as inf
from kaena.errors import CompileError
from kaena.passes.conversions.tensor_to_inferentia import ConvertTensorToInferentiaPass
from kaena.target.costmodel import CostModel

VECTOR_ROWS = "kaena.plan.vector_rows"
VECTOR_TILES = "kaena.plan.vector_tiles"


def _case(rng, C=160, H=14, W=12, s=(1, 1), act="relu6", vector_rows=None, vector_tiles=None):
    """conv 1x1 (relu) -> depthwise 3x3 with a bias (bf16, resident in and out) -> conv 1x1;
    ``vector_rows`` / ``vector_tiles`` written by hand on the depthwise conv when given."""
    bf = ml_dtypes.bfloat16
    x = rng.standard_normal((1, C, H, W)).astype(np.float32)
    w1 = (rng.standard_normal((C, C, 1, 1)) * 0.1).astype(bf)
    wd = rng.standard_normal((C, 1, 3, 3)).astype(bf)
    bd = rng.standard_normal(C).astype(np.float32)
    w2 = (rng.standard_normal((16, C, 1, 1)) * 0.1).astype(bf)
    z = lambda n: np.zeros(n, np.float32)  # noqa: E731
    f = lambda a: a.astype(np.float32)  # noqa: E731
    c1 = _bf(np.maximum(_conv_ref(_bf(x), f(w1), z(C), (1, 1), (0, 0, 0, 0), (1, 1)), 0))
    dr = _conv_grouped_ref(c1, f(wd), bd, s, (1, 1, 1, 1), (1, 1), C)
    d = _bf({"relu6": np.clip(dr, 0, 6), "relu": np.maximum(dr, 0), "none": dr}[act])
    y = _conv_ref(d, f(w2), z(16), (1, 1), (0, 0, 0, 0), (1, 1))
    sh, ds, ys = x.shape, d.shape, y.shape
    dw = _dw_txt("d", "c1b", sh, "wd", wd.shape, ds, s=s, act=act, bias="bd")
    for name, value in ((VECTOR_ROWS, vector_rows), (VECTOR_TILES, vector_tiles)):
        if value is not None:
            dw = dw.replace("{", f"{{{name} = {value} : i64, ", 1)
    body = (f'  %w1 = ktensor.weight "w1" : {_t(w1.shape, "bf16")}\n'
            f'  %wd = ktensor.weight "wd" : {_t(wd.shape, "bf16")}\n'
            f'  %bd = ktensor.weight "bd" : {_t((C,))}\n'
            f'  %w2 = ktensor.weight "w2" : {_t(w2.shape, "bf16")}\n'
            f'  %xb = ktensor.cast %x : ({_t(sh)}) -> {_t(sh, "bf16")}\n'
            + _conv_txt("c1", "xb", sh, "w1", w1.shape, sh, act="relu", dt="bf16")
            + f'  %c1b = ktensor.cast %c1 : ({_t(sh)}) -> {_t(sh, "bf16")}\n'
            + dw
            + f'  %db = ktensor.cast %d : ({_t(ds)}) -> {_t(ds, "bf16")}\n'
            + _conv_txt("y", "db", ds, "w2", w2.shape, ys, dt="bf16").rstrip("\n"))
    store = {"w1": w1, "wd": wd, "bd": bd, "w2": w2}
    return _program([("x", sh)], [("y", ys)], body), store, {"x": x}, {"y": y}


def _lower(text, store):
    ctx = _ctx()
    module = Parser(ctx, text).parse_module()
    ws = kweights.WeightStore(store)
    kweights.attach(module, ws)
    ConvertTensorToInferentiaPass().apply(ctx, module)
    module.verify()
    return module, ws


def _vector_taps(module) -> int:
    """Per-tap multiplies by a per-partition weight (the vector rows' work)."""
    return sum(1 for op in module.walk() if isinstance(op, inf.TensorScalarOp) and op.alu.data == "mul")


def test_cost_model_prices_the_split_below_either_engine_alone():
    cm = CostModel()
    cost = lambda r: cm.depthwise_split(32, 9, 112, 112, r, "bf16", group=3, vector_band_rows=13,  # noqa: E731
                                        epilogue_ops=3, clamps=1)
    pe_only = cm.depthwise_conv("pe", 32, 9, 112, 112, "bf16", group=3).cycles
    assert cost(0).pe == cm.depthwise_conv("pe", 32, 9, 112, 112, "bf16", group=3).pe
    assert cost(0).cycles >= pe_only
    best = min(range(112), key=lambda r: cost(r).cycles)
    assert 0 < best < 112 and cost(best).cycles < 0.85 * pe_only
    # the vector rows move work from the PE array to the vector engine
    assert cost(best).pe < cost(0).pe and cost(best).pool > cost(0).pool


def test_plan_records_vector_rows_on_resident_depthwise_convs():
    from kaena.passes.conversions.tensor_to_inferentia.ktensor_plan_conv_bands import KtensorPlanConvBandsPass

    text, store, _, _ = _case(np.random.default_rng(0), H=28, W=28)
    ctx = _ctx()
    planned = Parser(ctx, text).parse_module()
    kweights.attach(planned, kweights.WeightStore(store))
    KtensorPlanConvBandsPass().apply(ctx, planned)
    rows = [op.attributes[VECTOR_ROWS].value.data for op in planned.walk() if VECTOR_ROWS in op.attributes]
    assert len(rows) == 1 and 0 < rows[0] < 28


def _assert_exact_to_the_pe_array_alone(seed: int, split: dict, **case) -> None:
    """Lower ``case`` all on the PE array and with the hand-written vector ``split``: both
    sum the taps in the same order in fp32 and round once, so bit-identical, and match numpy."""
    outs = []
    for kw in ({"vector_rows": 0, "vector_tiles": 0}, split):
        text, store, inputs, expected = _case(np.random.default_rng(seed), **case, **kw)
        module, ws = _lower(text, store)
        assert (_vector_taps(module) > 0) == (kw is split)
        outs.append(_run_backend(module, ws, inputs)["y"])
    np.testing.assert_array_equal(outs[1], outs[0])
    ref = expected["y"]
    np.testing.assert_allclose(outs[1], ref, rtol=2e-2, atol=2e-2 * float(np.max(np.abs(ref))))


@pytest.mark.parametrize("act,s,rows", [("relu6", (1, 1), 5), ("relu", (2, 2), 3), ("none", (1, 1), 13)])
def test_split_is_exact_to_the_pe_array_alone(act, s, rows):
    """Vector rows beside the PE array's."""
    _assert_exact_to_the_pe_array_alone(3, {"vector_rows": rows}, s=s, act=act)


def test_vector_rows_need_resident_operands():
    """A hand-written split on a depthwise conv reading DRAM (a function argument) is refused
    with one line naming the attribute."""
    bf = ml_dtypes.bfloat16
    w = np.ones((8, 1, 3, 3), bf)
    body = (f'  %w = ktensor.weight "w" : {_t(w.shape, "bf16")}\n'
            + _dw_txt("y", "x", (1, 8, 6, 6), "w", w.shape, (1, 8, 6, 6)).replace(
                "{strides", f"{{kaena.plan.engine = \"pe\", {VECTOR_ROWS} = 2 : i64, strides", 1).rstrip("\n"))
    text = _program([("x", (1, 8, 6, 6), "bf16")], [("y", (1, 8, 6, 6))], body)
    with pytest.raises(CompileError, match=f"{VECTOR_ROWS} = 2 needs a resident input and result"):
        _lower(text, {"w": w})


def test_identity_is_one_constant_load():
    """With a weight store the depthwise diagonals' identity tile is a derived constant loaded
    by one DMA (no vector-engine memsets, no round trip through a DRAM scratch row), holding 1
    where column == partition % 64; the conv on the PE array (vector_rows = 0) still matches."""
    text, store, inputs, expected = _case(np.random.default_rng(3), vector_rows=0)
    module, ws = _lower(text, store)
    eyes = [op for op in module.walk() if isinstance(op, inf.AllocOp) and op.result.name_hint == "eye"]
    assert len(eyes) == 1 and not any(isinstance(op, inf.AllocOp) and op.result.name_hint == "eye_row"
                                      for op in module.walk())
    loads = [use.operation for use in eyes[0].result.uses if isinstance(use.operation, inf.DmaOp)]
    assert len(loads) == 1
    name = [n for n in ws if n.startswith("kaena.eye.")]
    assert len(name) == 1
    eye = np.asarray(ws[name[0]]).astype(np.float32)
    assert eye.shape == (128, 64)
    np.testing.assert_array_equal(eye, (np.arange(64)[None, :] == np.arange(128)[:, None] % 64).astype(np.float32))
    out = _run_backend(module, ws, inputs)["y"]
    ref = expected["y"]
    np.testing.assert_allclose(out, ref, rtol=2e-2, atol=2e-2 * float(np.max(np.abs(ref))))


def test_cost_model_prices_whole_vector_tiles_at_small_planes():
    """At 7x7 a vector tile costs the vector engine the same for 64 or 128 channels and needs
    no diagonals or stationary loads: two of 960 channels' tiles on it beat any row split."""
    cm = CostModel()
    cost = lambda k, r: cm.depthwise_split(960, 9, 7, 7, r, "bf16", vector_band_rows=7,  # noqa: E731
                                           epilogue_ops=3, clamps=1, vector_tiles=k)
    rows_only = min(cost(0, r).cycles for r in range(7))
    best = min(((k, r) for k in range(5) for r in range(7)), key=lambda kr: cost(*kr).cycles)
    assert best[0] > 0 and cost(*best).cycles < 0.85 * rows_only
    # a vector tile takes work off the PE array, costs the vector engine a whole tile
    assert cost(1, 0).pe < cost(0, 0).pe and cost(1, 0).pool > cost(0, 0).pool


@pytest.mark.parametrize("C,H,tiles,rows", [(384, 14, 1, 0), (576, 7, 2, 0), (448, 10, 1, 2)])
def test_vector_tiles_are_exact_to_the_pe_array_alone(C, H, tiles, rows):
    """The vector tiles (the last full ones), with or without vector rows beside."""
    _assert_exact_to_the_pe_array_alone(5, {"vector_rows": rows, "vector_tiles": tiles}, C=C, H=H, W=H)


def test_plan_records_vector_tiles():
    from kaena.passes.conversions.tensor_to_inferentia.ktensor_plan_conv_bands import KtensorPlanConvBandsPass

    text, store, _, _ = _case(np.random.default_rng(0), C=384, H=14, W=14)
    ctx = _ctx()
    planned = Parser(ctx, text).parse_module()
    kweights.attach(planned, kweights.WeightStore(store))
    KtensorPlanConvBandsPass().apply(ctx, planned)
    tiles = [op.attributes[VECTOR_TILES].value.data for op in planned.walk() if VECTOR_TILES in op.attributes]
    assert tiles == [1]


def test_vector_tiles_must_leave_the_pe_array_as_many():
    """Two of three tiles on the vector engine (more than stay on the PE array) are refused."""
    text, store, _, _ = _case(np.random.default_rng(0), C=384, H=14, W=14, vector_tiles=2)
    with pytest.raises(CompileError, match=f"{VECTOR_TILES} = 2 needs a resident input and result"):
        _lower(text, store)
