"""A first-layer conv that does its input's FP32 -> BF16 cast itself (``kaena.plan.fuse_input``
on a folded conv): its bands are DMAed from the FP32 model input into staging tiles and
rounded into the band tile, exactly as the cast would round them."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from test_tensor_to_inferentia import _bf, _conv_ref, _conv_txt, _ctx, _program, _run_backend, _t
from xdsl.parser import Parser

from kaena import weights as kweights
from kaena.dialects import inferentia as inf
from kaena.passes.conversions.tensor_to_inferentia import ConvertTensorToInferentiaPass
from kaena.target import INF1, set_target


def _stem(rng, C=3, H=40, W=36, O=16, also_cast=False):
    """cast(x) -> 3x3 stride-2 conv (relu); ``also_cast``: the cast is a function result too
    (a second user: the conv cannot do it itself)."""
    x = rng.standard_normal((1, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((O, C, 3, 3)) * 0.3).astype(ml_dtypes.bfloat16)
    y = np.maximum(_conv_ref(_bf(x), w.astype(np.float32), np.zeros(O, np.float32), (2, 2), (1, 1, 1, 1),
                             (1, 1)), 0)
    body = (f'  %w = ktensor.weight "w" : {_t(w.shape, "bf16")}\n'
            f'  %xb = ktensor.cast %x : ({_t(x.shape)}) -> {_t(x.shape, "bf16")}\n'
            + _conv_txt("y", "xb", x.shape, "w", w.shape, y.shape, s=(2, 2), p=(1, 1, 1, 1), act="relu",
                        dt="bf16").rstrip("\n"))
    outs = [("y", y.shape)] + ([("xb", x.shape, "bf16")] if also_cast else [])
    return _program([("x", x.shape)], outs, body), {"w": w}, {"x": x}, y


def _run(text, store, inputs, target):
    ctx = _ctx()
    module = Parser(ctx, text).parse_module()
    ws = kweights.WeightStore(store)
    kweights.attach(module, ws)
    set_target(module, target)
    ConvertTensorToInferentiaPass().apply(ctx, module)
    module.verify()
    staged = [op for op in module.walk() if isinstance(op, inf.AllocOp) and op.result.name_hint == "x_stage"]
    return _run_backend(module, ws, inputs)["y"], len(staged)


@pytest.mark.parametrize("hw,bands", [((40, 36), 1), ((224, 224), 2)])
def test_fused_first_layer_cast_is_exact(hw, bands):
    """The fused conv (a small image: one band; MobileNetV2's: many bands through the two
    staging tiles and the one band tile) gives bit for bit the result of the cast lowered
    on its own, and matches numpy."""
    text, store, inputs, ref = _stem(np.random.default_rng(5), H=hw[0], W=hw[1], O=8)
    fused, stages = _run(text, store, inputs, INF1)
    assert stages == bands  # staging tiles: one per band buffer
    text2, _, _, _ = _stem(np.random.default_rng(5), H=hw[0], W=hw[1], O=8, also_cast=True)
    plain, stages2 = _run(text2, store, inputs, INF1)
    assert stages2 == 0
    np.testing.assert_array_equal(fused, plain)
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(ref))))
