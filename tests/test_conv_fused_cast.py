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


def _stem(rng, C=3, H=40, W=36, O=16, also_cast=False, s=2):
    """cast(x) -> 3x3 stride-2 conv (relu); ``also_cast``: the cast is a function result too
    (a second user: the conv cannot do it itself)."""
    x = rng.standard_normal((1, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((O, C, 3, 3)) * 0.3).astype(ml_dtypes.bfloat16)
    y = np.maximum(_conv_ref(_bf(x), w.astype(np.float32), np.zeros(O, np.float32), (s, s), (1, 1, 1, 1),
                             (1, 1)), 0)
    body = (f'  %w = ktensor.weight "w" : {_t(w.shape, "bf16")}\n'
            f'  %xb = ktensor.cast %x : ({_t(x.shape)}) -> {_t(x.shape, "bf16")}\n'
            + _conv_txt("y", "xb", x.shape, "w", w.shape, y.shape, s=(s, s), p=(1, 1, 1, 1), act="relu",
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
    convs = [op for op in module.walk() if isinstance(op, inf.MatmulOp)]
    k = {op.moving_ap.data.partitions for op in convs}
    return _run_backend(module, ws, inputs)["y"], [op.result.type.partitions for op in staged], k


@pytest.mark.parametrize("hw,bands", [((40, 36), 1), ((224, 224), 2)])
def test_fused_first_layer_cast_is_exact(hw, bands):
    """The fused conv (a small image: one band; MobileNetV2's: many bands through the two
    staging tiles and the one band tile) rounds its input exactly as the cast lowered on its
    own, and matches numpy. Its rows are shared (kaena.plan.shared_rows): a staging group per
    row residue (partitions 0-2 and 32-34), each kernel row's band on partitions from 32 kh,
    so its matmuls contract K = 67 partitions (zeros between) where the plain conv's contract
    the 9 (kh, c) ones; the simulator's FP32 dot sums the same nine products in another order,
    so the two agree to FP32 rounding rather than bit for bit."""
    text, store, inputs, ref = _stem(np.random.default_rng(5), H=hw[0], W=hw[1], O=8)
    fused, stages, k = _run(text, store, inputs, INF1)
    assert stages == [35] * bands  # staging tiles: one per band buffer, 2 residue groups
    assert k == {67}
    text2, _, _, _ = _stem(np.random.default_rng(5), H=hw[0], W=hw[1], O=8, also_cast=True)
    plain, stages2, k2 = _run(text2, store, inputs, INF1)
    assert stages2 == [] and k2 == {9}
    np.testing.assert_allclose(fused, plain, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(plain))))
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(ref))))


def test_shared_rows_stride_one():
    """A 3x3 stride-1 fused conv: its three kernel rows read one row residue, shifted 0, 1
    and 2 band rows: one staging group (3 partitions), three roundings into partitions 0, 32
    and 64 (the vector engine, the scalar engine, the vector engine); the result matches
    the plain conv to FP32 rounding and numpy."""
    text, store, inputs, ref = _stem(np.random.default_rng(7), H=48, W=40, O=8, s=1)
    fused, stages, k = _run(text, store, inputs, INF1)
    assert stages and set(stages) == {3} and k == {67}
    text2, _, _, _ = _stem(np.random.default_rng(7), H=48, W=40, O=8, also_cast=True, s=1)
    plain, _, k2 = _run(text2, store, inputs, INF1)
    assert k2 == {9}
    np.testing.assert_allclose(fused, plain, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(plain))))
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(ref))))
