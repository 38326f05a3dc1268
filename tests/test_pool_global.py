"""A global average pool over a resident input, its result stored by one DMA per image
for all the full channel tiles and one for the partial tile: numbers match numpy."""

from __future__ import annotations

import ml_dtypes
import numpy as np
from test_tensor_to_inferentia import _bf, _conv_ref, _conv_txt, _ctx, _program, _run_backend, _t
from xdsl.parser import Parser

from kaena import weights as kweights
from kaena.dialects import inferentia as inf
from kaena.passes.conversions.tensor_to_inferentia import ConvertTensorToInferentiaPass


def test_global_pool_of_three_channel_tiles_in_two_dmas():
    rng = np.random.default_rng(2)
    N, C, O, H = 2, 16, 320, 7
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((O, C, 1, 1)) * 0.3).astype(ml_dtypes.bfloat16)
    c = np.maximum(_conv_ref(_bf(x), w.astype(np.float32), np.zeros(O, np.float32), (1, 1), (0, 0, 0, 0),
                             (1, 1)), 0)
    ref = c.mean(axis=(2, 3), keepdims=True)
    body = (f'  %w = ktensor.weight "w" : {_t(w.shape, "bf16")}\n'
            f'  %xb = ktensor.cast %x : ({_t(x.shape)}) -> {_t(x.shape, "bf16")}\n'
            + _conv_txt("c", "xb", x.shape, "w", w.shape, c.shape, act="relu", dt="bf16")
            + f'  %y = ktensor.pool2d "avg" %c {{kernel = array<i64: {H}, {H}>, strides = array<i64: 1, 1>, '
              f'pads = array<i64: 0, 0, 0, 0>}} : ({_t(c.shape)}) -> {_t(ref.shape)}')
    text = _program([("x", x.shape)], [("y", ref.shape)], body)
    ctx = _ctx()
    module = Parser(ctx, text).parse_module()
    ws = kweights.WeightStore({"w": w})
    kweights.attach(module, ws)
    ConvertTensorToInferentiaPass().apply(ctx, module)
    stores = [op for op in module.walk() if isinstance(op, inf.DmaOp) and op.dst.name_hint == "y"]
    assert len(stores) == 2  # per image (a loop over the batch): the full tiles, the partial one
    got = _run_backend(module, ws, {"x": x})["y"]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(ref))))
