"""Resize as separable interpolation matrices (``kaena/frontends/onnx/resize.py``).

The matrices reproduce ONNX's reference Resize for every mode and transform; a
bilinear upsample at FPN size (1x256x32x32 -> 64x64) compiles to one matmul per
axis (compact IR) and matches onnxruntime in FP32 and, in BF16, stays within
twice a faithful BF16 emulation's error.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from xdsl.context import Context

import kaena
from kaena.errors import KaenaError
from kaena.frontends.onnx import import_onnx
from kaena.frontends.onnx.resize import Interpolation, interpolation_matrix
from kaena.passes.conversions.framework_to_tensor import ConvertFrameworkToTensorPass
from kaena.testing.reference import assert_within_bf16_bar, error_metrics, random_inputs, run_onnxruntime


def _resize_model(shape, out_or_scales, *, sizes=False, opset=19, **attributes):
    key = "sizes" if sizes else "scales"
    arr = np.asarray(out_or_scales, np.int64 if sizes else np.float32)
    inputs = ["x", "", "", "sizes"] if sizes else ["x", "", "scales"]
    node = helper.make_node("Resize", inputs, ["y"], name="up", **attributes)
    g = helper.make_graph([node], "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(arr, key)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


CONFIGS = [
    dict(mode=m, coordinate_transformation_mode=t)
    for m, t in itertools.product(("nearest", "linear", "cubic"),
                                  ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                   "align_corners", "asymmetric"))
] + [
    dict(mode="nearest", nearest_mode=n, coordinate_transformation_mode="half_pixel")
    for n in ("round_prefer_ceil", "floor", "ceil")
] + [
    dict(mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1),
    dict(mode="linear", antialias=1),
    dict(mode="cubic", antialias=1),
]


@pytest.mark.parametrize("attributes", CONFIGS, ids=lambda a: "-".join(str(v) for v in a.values()))
@pytest.mark.parametrize("scales", [(1, 1, 2.0, 1.5), (1, 1, 0.6, 0.8), (1, 1, 1.7, 0.5)])
def test_matrices_reproduce_the_reference(attributes, scales):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6)).astype(np.float32)
    want = ReferenceEvaluator(_resize_model(x.shape, scales, **attributes)).run(None, {"x": x})[0]
    interp = Interpolation(attributes["mode"], attributes.get("coordinate_transformation_mode", "half_pixel"),
                           attributes.get("nearest_mode", "round_prefer_floor"),
                           attributes.get("cubic_coeff_a", -0.75), bool(attributes.get("exclude_outside")),
                           bool(attributes.get("antialias")))
    sh, sw = (float(np.float32(s)) for s in scales[2:])  # the model holds float32 scales
    mh, _ = interpolation_matrix(interp, 5, want.shape[2], sh)
    mw, _ = interpolation_matrix(interp, 6, want.shape[3], sw)
    # (the reference and onnxruntime differ by ~1.3e-6 on antialiased cubic: float32 rounding)
    np.testing.assert_allclose(np.einsum("oh,nchw,pw->ncop", mh, x, mw), want, rtol=1e-5, atol=3e-6)


def test_crop_marks_the_extrapolated_rows():
    interp = Interpolation("linear", "tf_crop_and_resize")
    m, outside = interpolation_matrix(interp, 4, 5, 5 / 4, roi=(0.4, 1.3))
    assert outside.tolist() == [False, False, False, True, True]
    assert not m[outside].any() and np.allclose(m[~outside].sum(axis=1), 1.0)


def _fpn(c=256, h=32):
    """An FPN merge: lateral 1x1 convs, the coarse level upsampled bilinearly and added."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array((rng.standard_normal((c, c, 1, 1)) / np.sqrt(c)).astype(np.float32), "w4"),
             numpy_helper.from_array((rng.standard_normal((c, c // 2, 1, 1)) / np.sqrt(c // 2))
                                     .astype(np.float32), "w3"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    nodes = [helper.make_node("Conv", ["c4", "w4"], ["p4"], name="lat4"),
             helper.make_node("Resize", ["p4", "", "scales"], ["up"], name="up", mode="linear"),
             helper.make_node("Conv", ["c3", "w3"], ["l3"], name="lat3"),
             helper.make_node("Add", ["up", "l3"], ["p3"], name="merge")]
    g = helper.make_graph(nodes, "fpn", [
        helper.make_tensor_value_info("c4", TensorProto.FLOAT, [1, c, h, h]),
        helper.make_tensor_value_info("c3", TensorProto.FLOAT, [1, c // 2, 2 * h, 2 * h])],
        [helper.make_tensor_value_info("p3", TensorProto.FLOAT, [1, c, 2 * h, 2 * h])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def fpn_case():
    model = _fpn()
    inputs = random_inputs(model, seed=1)
    return model, inputs, run_onnxruntime(model, inputs)


def test_fpn_upsample_is_one_matmul_per_axis(fpn_case):
    module = import_onnx(fpn_case[0])
    ConvertFrameworkToTensorPass().apply(Context(), module)
    names = [op.name for op in module.walk()]
    # two lateral convs, two resampling matmuls (H, W), the transposes around H, the add
    assert names.count("ktensor.matmul") == 2 and names.count("ktensor.transpose") == 2
    assert len(names) < 30


def test_fpn_upsample_fp32_matches_onnxruntime(fpn_case):
    model, inputs, ref = fpn_case
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast="none")).run(inputs), ref)
    assert err.max_rel <= 1e-5, err


def test_fpn_upsample_bf16_within_twice_the_emulation(fpn_case):
    model, inputs, ref = fpn_case
    assert_within_bf16_bar(model, inputs, ref, kaena.load(kaena.compile(model)).run(inputs))


def test_cubic_antialiased_downsample_matches_onnxruntime():
    model = _resize_model([1, 8, 40, 48], [1, 8, 15, 20], sizes=True, mode="cubic", antialias=1)
    inputs = random_inputs(model, seed=2)
    got = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    want = ReferenceEvaluator(model).run(None, inputs)[0]
    assert error_metrics(got, {"y": want}).max_rel <= 1e-5


def test_interpolating_integer_data_is_refused_in_one_line():
    model = _resize_model([1, 1, 4, 4], (1, 1, 1.5, 1.5), mode="linear")
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.INT32
    with pytest.raises(KaenaError, match="only float32 is interpolated") as info:
        kaena.compile(model, auto_cast="none")
    assert "\n" not in str(info.value).strip()


def test_upsample_linear_matches_onnxruntime():
    """Upsample (opset 9): linear with the asymmetric transform, as Resize-10 defines it."""
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], name="up", mode="linear")
    g = helper.make_graph([node], "upsample", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 10, 21])],
                          [numpy_helper.from_array(np.array([1, 1, 2, 3], np.float32), "scales")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)])
    inputs = random_inputs(model, seed=3)
    got = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert error_metrics(got, run_onnxruntime(model, inputs)).max_rel <= 1e-5


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [(1, 1, 1.5, 0.5), (1, 1, 0.6, 3), (1, 1, 0.75, 1.7)])
def test_resize_10_matches_onnxruntime(mode, scales):
    """Resize-10 (asymmetric; nearest rounds down when upsampling, up when downsampling)."""
    node = helper.make_node("Resize", ["x", "scales"], ["y"], name="up", mode=mode)
    g = helper.make_graph([node], "resize10", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.array(scales, np.float32), "scales")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)])
    inputs = random_inputs(model, seed=4)
    got = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert error_metrics(got, run_onnxruntime(model, inputs)).max_rel <= 1e-5
