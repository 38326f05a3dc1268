"""ONNX import, fw -> ktensor lowering, bias/activation fusion and auto-cast.

Numerical checks run the lowered ktensor IR through a small numpy reference
evaluator (below) and compare with onnxruntime on the original model, so a
wrong fold (transposes, alpha/beta, reshapes) fails here, not on hardware.
"""

from __future__ import annotations

from collections import Counter

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import BFloat16Type, Float16Type, ModuleOp

from kaena.testing import modelzoo
from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.utils import ints
from kaena.errors import KaenaError, ModelImportError, UnsupportedOperatorError
from kaena.frontends import import_onnx
from kaena.frontends.onnx import CONTROL_FLOW_REASON
from kaena.passes import ALL_PASSES
from kaena.passes.conversions.framework_to_tensor import ConvertFrameworkToTensorPass
from kaena.passes.transforms.ktensor.ktensor_auto_cast import AutoCastPass
from kaena.passes.transforms.ktensor.ktensor_fuse_bias_activation import FuseBiasActivationPass
from kaena.weights import WeightStore, module_store

CTX = Context()


# --- helpers ---------------------------------------------------------------------------------


def op_counts(module: ModuleOp) -> Counter:
    return Counter(op.name for op in module.walk() if op.dialect_name() in ("fw", "ktensor"))


def lower(module: ModuleOp, fuse: bool = True, cast: str | None = None) -> ModuleOp:
    ConvertFrameworkToTensorPass().apply(CTX, module)
    module.verify()
    if fuse:
        FuseBiasActivationPass().apply(CTX, module)
        module.verify()
    if cast:
        AutoCastPass(mode=cast).apply(CTX, module)
        module.verify()
    return module


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


_NP = {BFloat16Type: ml_dtypes.bfloat16, Float16Type: np.float16}


def _np_dtype(t) -> type:
    return _NP.get(type(t.element_type), np.float32)


_ACT = {
    "none": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "exp": np.exp,
    "hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
}
_PARAM_ACT = {
    "leaky_relu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "clip": lambda x, a, b: np.minimum(np.maximum(x, a), b),
    "hard_sigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
}


def _conv2d(x, w, strides, pads, dil, groups):
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh = (h - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd - dil[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, o, oh, ow), np.float32)
    og = o // groups
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]: i * dil[0] + strides[0] * oh: strides[0],
                           j * dil[1]: j * dil[1] + strides[1] * ow: strides[1]]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch,
                                                         w[g * og:(g + 1) * og, :, i, j])
    return out


def _pool2d(x, kind, k, s, p, count_include_pad=True):
    fill = -np.inf if kind == "max" else 0.0
    pad = ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3]))
    ones = np.pad(np.ones_like(x), pad)
    x = np.pad(x, pad, constant_values=fill)
    oh = (x.shape[2] - k[0]) // s[0] + 1
    ow = (x.shape[3] - k[1]) // s[1] + 1

    def windows(a):
        return np.stack([a[:, :, i: i + s[0] * oh: s[0], j: j + s[1] * ow: s[1]]
                         for i in range(k[0]) for j in range(k[1])])

    if kind == "max":
        return windows(x).max(0)
    if count_include_pad:
        return windows(x).mean(0)
    return windows(x).sum(0) / windows(ones).sum(0)


def evaluate(module: ModuleOp, *inputs: np.ndarray) -> list[np.ndarray]:
    """Reference semantics of ktensor (see dialects/ktensor.py), in numpy."""
    store = module_store(module)
    main = next(o for o in module.walk() if isinstance(o, func.FuncOp))
    env = {arg: x.astype(np.float32) for arg, x in zip(main.body.blocks[0].args, inputs)}
    f = lambda v: env[v].astype(np.float32)  # noqa: E731
    for op in main.body.blocks[0].ops:
        if isinstance(op, func.ReturnOp):
            return [env[v] for v in op.operands]
        if isinstance(op, kt.WeightOp):
            r = store[op.weight_name.data]
        elif isinstance(op, kt.MatmulOp):
            r = f(op.lhs) @ f(op.rhs) + (f(op.bias) if op.bias is not None else 0)
            r = _ACT[op.activation.data](r)
        elif isinstance(op, kt.Conv2dOp):
            r = _conv2d(f(op.input), f(op.weight), ints(op.strides), ints(op.pads),
                        ints(op.dilations), op.groups.value.data)
            if op.bias is not None:
                r = r + f(op.bias)[None, :, None, None]
            r = _ACT[op.activation.data](r)
        elif isinstance(op, kt.ElementwiseOp):
            a, b = f(op.lhs), f(op.rhs)
            r = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                 "max": np.maximum, "min": np.minimum}[op.kind.data](a, b)
            r = _ACT[op.activation.data](r)
        elif isinstance(op, kt.ActivationOp):
            if op.func.data in _PARAM_ACT:
                a = op.alpha.value.data if op.alpha is not None else None
                b = op.beta.value.data if op.beta is not None else None
                r = _PARAM_ACT[op.func.data](f(op.input), a, b)
            else:
                r = _ACT[op.func.data](f(op.input))
        elif isinstance(op, kt.Pool2dOp):
            cip = op.count_include_pad is None or bool(op.count_include_pad.value.data)
            r = _pool2d(f(op.input), op.kind.data, ints(op.kernel), ints(op.strides),
                        ints(op.pads), cip)
        elif isinstance(op, kt.SoftmaxOp):
            x = f(op.input)
            e = np.exp(x - x.max(axis=op.axis.value.data, keepdims=True))
            r = e / e.sum(axis=op.axis.value.data, keepdims=True)
        elif isinstance(op, kt.ReshapeOp):
            r = env[op.input].reshape(op.result.type.get_shape())
        elif isinstance(op, kt.TransposeOp):
            r = env[op.input].transpose(ints(op.perm))
        elif isinstance(op, kt.CastOp):
            r = env[op.input]
        elif isinstance(op, kt.ConcatOp):
            r = np.concatenate([f(v) for v in op.inputs], axis=op.axis.value.data)
        elif isinstance(op, kt.PadOp):
            p = ints(op.pads)
            rank = len(p) // 2
            width = [(p[i], p[i + rank]) for i in range(rank)]
            if op.mode.data == "constant":
                r = np.pad(f(op.input), width, constant_values=op.value.value.data)
            else:
                r = np.pad(f(op.input), width, mode=op.mode.data)
        elif isinstance(op, kt.ResizeNearestOp):
            sh, sw = ints(op.scales)
            r = f(op.input).repeat(sh, axis=2).repeat(sw, axis=3)
        else:
            raise AssertionError(f"no reference for {op.name}")
        want = _np_dtype(op.results[0].type)
        env[op.results[0]] = np.asarray(r, np.float32).astype(want) if want is not np.float32 \
            else np.asarray(r).astype(np.float32)
        assert env[op.results[0]].shape == tuple(op.results[0].type.get_shape()), op.name
    raise AssertionError("no return")


def make_model(nodes, inputs, outputs, initializers=(), opset=17, name="test"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


RNG = np.random.default_rng(42)


# --- importer ------------------------------------------------------------------------------------


def test_import_mlp_structure():
    model = modelzoo.mlp()
    module = import_onnx(model)
    module.verify()
    assert module.attributes["kaena.model_name"].data == "mlp"
    assert op_counts(module) == {"fw.weight": 6, "fw.gemm": 3, "fw.relu": 2, "fw.softmax": 1}
    main = next(o for o in module.walk() if isinstance(o, func.FuncOp))
    assert main.arg_attrs.data[0].data["kaena.name"].data == "input"
    assert main.res_attrs.data[0].data["kaena.name"].data == "output"
    store = module_store(module)
    for t in model.graph.initializer:
        np.testing.assert_array_equal(store[t.name], numpy_helper.to_array(t))
    # The printed module parses back to the same text.
    from xdsl.parser import Parser
    from xdsl.dialects.builtin import Builtin
    ctx = Context()
    for d in (Builtin, func.Func, fw.Framework):
        ctx.load_dialect(d)
    assert str(Parser(ctx, str(module)).parse_module()) == str(module)


def test_import_lenet_structure():
    module = import_onnx(modelzoo.lenet())
    module.verify()
    assert op_counts(module) == {
        "fw.weight": 10, "fw.conv": 2, "fw.relu": 4, "fw.max_pool": 2, "fw.flatten": 1,
        "fw.gemm": 3, "fw.softmax": 1,
    }


def test_import_from_file(tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(modelzoo.mlp(batch=2), str(path))
    module = import_onnx(path)
    assert "tensor<2x784xf32>" in str(module)


def test_unsupported_ops_listed_together():
    then_graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["t"])], "then", [], [vi("t", [1, 4])])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("Acos", ["a"], ["b"], name="my_acos"),
        helper.make_node("Round", ["b"], ["c"]),  # unnamed: "Round_2"
        helper.make_node("If", ["cond"], ["d"], name="branch",
                         then_branch=then_graph, else_branch=then_graph),
        helper.make_node("Add", ["c", "d"], ["y"], name="add"),
    ]
    model = make_model(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])],
                       [init("cond", np.array(True))])
    with pytest.raises(UnsupportedOperatorError) as info:
        import_onnx(model)
    nodes = info.value.nodes
    assert [(n, op) for n, op, _ in nodes] == [
        ("my_acos", "Acos"), ("Round_2", "Round"), ("branch", "If")]
    assert nodes[2][2] == CONTROL_FLOW_REASON
    assert "3 unsupported node(s)" in str(info.value)


def test_unsupported_attribute_is_reported():
    model = make_model(
        [helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2],
                          storage_order=1)],
        [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 7, 7])])
    with pytest.raises(UnsupportedOperatorError, match="storage_order"):
        import_onnx(model)


@pytest.mark.parametrize("node, why", [
    (helper.make_node("AveragePool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], storage_order=1),
     r"'mp' \(AveragePool\): AveragePool \(opset 17\) has no attribute 'storage_order'"),
    (helper.make_node("AveragePool", ["x"], ["y"], name="mp", kernel_shape=[2.0, 2.0]),
     r"'mp' \(AveragePool\): attribute 'kernel_shape' is floats, ONNX's AveragePool takes ints"),
    (helper.make_node("AveragePool", ["x"], ["y"], name="mp"),
     r"'mp' \(AveragePool\): required attribute 'kernel_shape' is missing"),
    (helper.make_node("AvgPool", ["x"], ["y"], name="mp"), r"'mp' \(AvgPool\): 'AvgPool' is not an ONNX operator"),
])
def test_attributes_onnx_does_not_define_make_the_model_invalid(node, why):
    """An attribute the operator does not have (or of the wrong type, or a required one
    missing) is an invalid model, not an unsupported one: no operator support would fix it."""
    model = make_model([node], [vi("x", [1, 1, 8, 8])], [vi("y", [1, 1, 7, 7])])
    with pytest.raises(ModelImportError, match="the model is invalid: " + why) as info:
        import_onnx(model)
    assert not isinstance(info.value, UnsupportedOperatorError)


def test_dynamic_dim_needs_static_shape():
    model = modelzoo.mlp(batch=2)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    with pytest.raises(ModelImportError, match=r"input 'input' dimension 0 is dynamic \('batch'\)"):
        import_onnx(model)
    module = import_onnx(model, input_shapes={"input": [8, 784]})
    module.verify()
    assert "tensor<8x10xf32>" in str(module)
    with pytest.raises(ModelImportError, match="unknown input"):
        import_onnx(model, input_shapes={"nope": [1, 784]})
    with pytest.raises(ModelImportError, match=r"input_shapes\['input'\] = \[8, 17\] contradicts the model: "
                                               r"its dimension 1 is fixed at 784"):
        import_onnx(model, input_shapes={"input": [8, 17]})


def test_static_input_shapes_must_agree():
    model = modelzoo.mlp(batch=2)
    import_onnx(model, input_shapes={"input": [2, 784]}).verify()  # the model's own shape: fine
    with pytest.raises(ModelImportError, match="dimension 0 is fixed at 2"):
        import_onnx(model, input_shapes={"input": [4, 784]})


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\xffthis is not a protobuf\x13\x37" * 10)
    with pytest.raises(ModelImportError, match="bad.onnx"):
        import_onnx(bad)
    with pytest.raises(ModelImportError, match="missing.onnx: file not found"):
        import_onnx(tmp_path / "missing.onnx")


def test_non_float_input_is_rejected():
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [vi("x", [2, 3], TensorProto.DOUBLE)], [vi("y", [2, 3], TensorProto.DOUBLE)])
    with pytest.raises(ModelImportError, match="input 'x' is double.*float32"):
        import_onnx(model)


def test_int64_input_is_i32_and_records_the_model_dtype():
    nodes = [helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Relu", ["f"], ["y"])]
    model = make_model(nodes, [vi("ids", [2, 3], TensorProto.INT64)], [vi("y", [2, 3])])
    module = import_onnx(model)
    main = next(o for o in module.walk() if isinstance(o, func.FuncOp))
    assert str(main.function_type.inputs.data[0]) == "tensor<2x3xi32>"
    assert main.arg_attrs.data[0].data["kaena.input_dtype"].data == "int64"
    assert op_counts(module) == {"fw.cast": 1, "fw.relu": 1}


# --- lowering and fusion -----------------------------------------------------------------------


def test_lower_and_fuse_mlp_matches_onnxruntime():
    model = modelzoo.mlp()
    module = lower(import_onnx(model))
    counts = op_counts(module)
    assert counts == {"ktensor.weight": 6, "ktensor.matmul": 3, "ktensor.softmax": 1}
    acts = [o.activation.data for o in module.walk() if isinstance(o, kt.MatmulOp)]
    assert acts == ["relu", "relu", "none"]
    assert all(o.bias is not None for o in module.walk() if isinstance(o, kt.MatmulOp))
    x = RNG.random((4, 784), dtype=np.float32)
    np.testing.assert_allclose(evaluate(module, x)[0], run_ort(model, {"input": x})[0],
                               rtol=1e-5, atol=1e-6)


def test_lower_and_fuse_lenet_matches_onnxruntime():
    model = modelzoo.lenet(batch=2)
    module = lower(import_onnx(model))
    assert op_counts(module) == {
        "ktensor.weight": 10, "ktensor.conv2d": 2, "ktensor.pool2d": 2, "ktensor.reshape": 1,
        "ktensor.matmul": 3, "ktensor.softmax": 1,
    }
    x = RNG.random((2, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(evaluate(module, x)[0], run_ort(model, {"input": x})[0],
                               rtol=1e-4, atol=1e-6)


def test_lowering_of_every_supported_form_matches_onnxruntime():
    """Gemm folds (alpha, beta, transA on a weight, matrix C), N-D MatMul, Reshape with
    0/-1 from a Constant, Transpose, pools, broadcasting arithmetic, Dropout, opset-11 Softmax."""
    w = RNG.standard_normal((6, 6)).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["shape"], value=init("s", np.array([0, -1, 4]))),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),                    # [2, 3, 4]
        helper.make_node("MatMul", ["r", "mw"], ["m"]),                        # [2, 3, 6]
        helper.make_node("Transpose", ["m"], ["t"], perm=[0, 2, 1]),            # [2, 6, 3]
        helper.make_node("Reshape", ["t", "shape2"], ["t2"]),                   # [2, 1, 6, 3]
        helper.make_node("AveragePool", ["t2"], ["ap"], kernel_shape=[3, 2], pads=[1, 0, 1, 1],
                         count_include_pad=1),                                  # [2, 1, 6, 3]
        helper.make_node("MaxPool", ["ap"], ["mp"], kernel_shape=[2, 2], strides=[2, 1],
                         pads=[0, 0, 0, 1]),                                    # [2, 1, 3, 3]
        helper.make_node("GlobalAveragePool", ["mp"], ["gp"]),                  # [2, 1, 1, 1]
        helper.make_node("Reshape", ["gp", "shape3"], ["gp_flat"]),             # [2, 1]
        helper.make_node("Flatten", ["mp"], ["f"], axis=2),                     # [2, 9]
        helper.make_node("Gemm", ["f", "gw", "gc"], ["g"], alpha=0.5, beta=2.0),  # [2, 6]
        helper.make_node("Gemm", ["gwt", "g2in"], ["g2"], transA=1, alpha=1.5),   # [6, 2]
        helper.make_node("Transpose", ["g2"], ["g2t"]),                         # [2, 6]
        helper.make_node("Gemm", ["g", "w", "gc2"], ["g3"], transB=1, beta=0.5),  # [2, 6]
        helper.make_node("Sub", ["g3", "g2t"], ["s1"]),
        helper.make_node("Mul", ["s1", "gp_flat"], ["s2"]),
        helper.make_node("Div", ["s2", "two"], ["s3"]),
        helper.make_node("Sigmoid", ["s3"], ["s4"]),
        helper.make_node("Tanh", ["s4"], ["s5"]),
        helper.make_node("Dropout", ["s5"], ["s6"]),
        helper.make_node("Identity", ["s6"], ["s7"]),
        helper.make_node("Reshape", ["s7", "shape4"], ["s8"]),                  # [2, 2, 3]
        helper.make_node("Softmax", ["s8"], ["y"], axis=1),  # opset 11: over the flattened [2, 6]
    ]
    inits = [
        init("mw", RNG.standard_normal((4, 6)).astype(np.float32)),
        init("shape2", np.array([2, 1, 6, 3])),
        init("gw", RNG.standard_normal((9, 6)).astype(np.float32)),
        init("gc", RNG.standard_normal((2, 6)).astype(np.float32)),
        init("gwt", RNG.standard_normal((2, 6)).astype(np.float32)),
        init("w", w),
        init("gc2", RNG.standard_normal((1, 6)).astype(np.float32)),
        init("two", np.array(2.0, np.float32)),
        init("shape3", np.array([2, 1])),
        init("shape4", np.array([2, 2, 3])),
    ]
    model = make_model(nodes, [vi("x", [2, 12]), vi("g2in", [2, 2])], [vi("y", [2, 2, 3])],
                       inits, opset=11)
    x = RNG.standard_normal((2, 12)).astype(np.float32)
    g2in = RNG.standard_normal((2, 2)).astype(np.float32)
    want = run_ort(model, {"x": x, "g2in": g2in})[0]
    module = lower(import_onnx(model))
    assert not any(isinstance(o, kt.TransposeOp) and isinstance(o.input.owner, kt.WeightOp)
                   for o in module.walk())
    np.testing.assert_allclose(evaluate(module, x, g2in)[0], want, rtol=1e-5, atol=1e-6)


def test_gemm_with_activation_operands_uses_transpose_and_elementwise():
    nodes = [helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=1, transB=1, alpha=2.0,
                              beta=3.0)]
    model = make_model(nodes, [vi("a", [3, 2]), vi("b", [4, 3]), vi("c", [2, 4])], [vi("y", [2, 4])])
    module = lower(import_onnx(model), fuse=False)
    counts = op_counts(module)
    assert counts["ktensor.transpose"] == 2 and counts["ktensor.matmul"] == 1
    a, b, c = (RNG.standard_normal(s).astype(np.float32) for s in ((3, 2), (4, 3), (2, 4)))
    np.testing.assert_allclose(evaluate(module, a, b, c)[0], run_ort(model, {"a": a, "b": b, "c": c})[0],
                               rtol=1e-5, atol=1e-6)


def _check(model, feeds, fuse=True, passes=()):
    module = import_onnx(model)
    module.verify()
    for p in passes:
        ALL_PASSES[p]()().apply(CTX, module)
        module.verify()
    module = lower(module, fuse=fuse)
    got = evaluate(module, *feeds.values())
    for g, w in zip(got, run_ort(model, feeds)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    return module


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
    dict(kernel_shape=[3, 2], auto_pad="SAME_UPPER", strides=[2, 2]),
])
@pytest.mark.parametrize("op", ["AveragePool", "MaxPool"])
def test_pool_forms_match_onnxruntime(op, attrs):
    if op == "MaxPool":
        attrs = {k: v for k, v in attrs.items() if k != "count_include_pad"}
    model = make_model([helper.make_node(op, ["x"], ["y"], name="p", **attrs)],
                       [vi("x", [1, 2, 6, 7])], [vi("y", None)])
    _check(model, {"x": RNG.standard_normal((1, 2, 6, 7)).astype(np.float32)})


@pytest.mark.parametrize("shape, attrs", [
    ([1, 2, 9], dict(kernel_shape=[3], strides=[2], pads=[1, 1], ceil_mode=1)),
    ([1, 2, 5, 6, 7], dict(kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[1, 1, 0, 0, 1, 1])),
])
@pytest.mark.parametrize("op", ["AveragePool", "MaxPool"])
def test_1d_and_3d_pools_decompose_to_2d(op, shape, attrs):
    model = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], [vi("x", shape)], [vi("y", None)])
    module = _check(model, {"x": RNG.standard_normal(shape).astype(np.float32)})
    assert op_counts(module)["ktensor.pool2d"] == (1 if len(shape) == 3 else 2)


def test_vision_operators_match_onnxruntime():
    """Depthwise conv, BN (folded), Clip as relu6, LeakyRelu, HardSigmoid/HardSwish,
    Concat, Pad (reflect/edge), Resize nearest x2, Squeeze/Unsqueeze, 1-D conv."""
    c = 4
    inits = [
        init("dw", RNG.standard_normal((c, 1, 3, 3)).astype(np.float32)),
        init("scale", RNG.uniform(0.5, 1.5, c).astype(np.float32)),
        init("bias", RNG.standard_normal(c).astype(np.float32)),
        init("mean", RNG.standard_normal(c).astype(np.float32)),
        init("var", RNG.uniform(0.5, 1.5, c).astype(np.float32)),
        init("lo", np.array(0.0, np.float32)), init("hi", np.array(6.0, np.float32)),
        init("pads", np.array([0, 0, 1, 2, 0, 0, 1, 0])),
        init("scales", np.array([1, 1, 2, 2], np.float32)),
        init("ax", np.array([0])),
        init("w1", RNG.standard_normal((3, 8, 3)).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "dw"], ["a"], group=c, pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["a", "scale", "bias", "mean", "var"], ["b"]),
        helper.make_node("Clip", ["b", "lo", "hi"], ["r6"]),
        helper.make_node("LeakyRelu", ["r6"], ["l"], alpha=0.2),
        helper.make_node("HardSigmoid", ["l"], ["hs"], alpha=0.3, beta=0.4),
        helper.make_node("HardSwish", ["hs"], ["hw"]),
        helper.make_node("Concat", ["hw", "l"], ["cc"], axis=1),
        helper.make_node("Pad", ["cc", "pads"], ["p"], mode="reflect"),
        helper.make_node("Resize", ["p", "", "scales"], ["u"], mode="nearest"),
        helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["b2"]),
        helper.make_node("Squeeze", ["b2", "ax"], ["sq"]),
        helper.make_node("Conv", ["sq", "w1"], ["c1"], pads=[1, 1]),
        helper.make_node("Unsqueeze", ["c1", "ax"], ["y2"]),
    ]
    model = make_model(nodes, [vi("x", [1, c, 8, 8])], [vi("u", None), vi("y2", None)], inits)
    module = _check(model, {"x": RNG.standard_normal((1, c, 8, 8)).astype(np.float32)},
                    passes=("fw-constant-fold", "fw-fold-batchnorm", "fw-fuse-conv", "fw-dce"))
    convs = [o for o in module.walk() if isinstance(o, kt.Conv2dOp)]
    assert convs[0].groups.value.data == c and convs[0].activation.data == "relu6"


def test_shape_arithmetic_folds_at_import():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write Flatten."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Cast", ["target"], ["target64"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["x", "target64"], ["y"]),
    ]
    inits = [init("zero", np.array(0)), init("ax", np.array([0])), init("minus1", np.array([-1]))]
    model = make_model(nodes, [vi("x", [2, 3, 4])], [vi("y", None)], inits)
    module = import_onnx(model)
    assert op_counts(module) == {"fw.reshape": 1}
    _check(model, {"x": RNG.standard_normal((2, 3, 4)).astype(np.float32)})


def test_gather_by_run_time_indices_is_an_embedding_lookup():
    """Run-time indices gather rows (axis 0); along another axis the table is transposed
    around the gather; a constant index of run-time data is a slice."""
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], name="g", axis=0)]
    model = make_model(nodes, [vi("x", [3, 4]), vi("i", [2], TensorProto.INT64)], [vi("y", [2, 4])])
    assert op_counts(import_onnx(model)) == {"fw.gather": 1}
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], name="g", axis=1)]
    model = make_model(nodes, [vi("x", [3, 4]), vi("i", [2], TensorProto.INT64)], [vi("y", [3, 2])])
    assert op_counts(import_onnx(model)) == {"fw.transpose": 2, "fw.gather": 1}
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], name="g", axis=2)]
    model = make_model(nodes, [vi("x", [3, 4]), vi("i", [2], TensorProto.INT64)], [vi("y", [3, 2])])
    # an axis the data does not have is an invalid model (ONNX's checker says so), not an unsupported one
    with pytest.raises(ModelImportError, match="the model is invalid: ONNX's checker: .*Gather.*; also 1 "
                       "unsupported node\\(s\\): 'g' \\(Gather\\): axis 2 out of range for rank 2") as info:
        import_onnx(model)
    assert not isinstance(info.value, UnsupportedOperatorError)
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], name="g", axis=0)]
    model = make_model(nodes, [vi("x", [3, 4])], [vi("y", [2, 4])], [init("i", np.array([0, 2]))])
    assert op_counts(import_onnx(model)) == {"fw.slice": 1}


@pytest.mark.parametrize("attrs, scales, op", [
    (dict(mode="linear"), [1, 1, 2, 2], "fw.resample"),
    (dict(mode="nearest"), [1, 1, 0.5, 0.5], "fw.resample"),
    (dict(mode="nearest"), [1, 1, 1.5, 2], "fw.resample"),
    (dict(mode="nearest", coordinate_transformation_mode="half_pixel", nearest_mode="floor"),
     [1, 1, 2, 2], "fw.resample"),
    (dict(mode="nearest"), [1, 1, 2, 3], "fw.resize_nearest"),
])
def test_resize_is_a_dma_copy_only_for_integer_nearest_upsampling(attrs, scales, op):
    model = make_model([helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", **attrs)],
                       [vi("x", [1, 1, 4, 4])], [vi("y", None)],
                       [init("s", np.array(scales, np.float32))])
    assert op in op_counts(import_onnx(model))


@pytest.mark.parametrize("attrs, message", [
    (dict(mode="area"), "mode 'area'"),
    (dict(mode="linear", coordinate_transformation_mode="centre"), "coordinate_transformation_mode"),
])
def test_resize_outside_onnx_modes_is_refused(attrs, message):
    model = make_model([helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", **attrs)],
                       [vi("x", [1, 1, 4, 4])], [vi("y", None)],
                       [init("s", np.array([1, 1, 2, 2], np.float32))])
    with pytest.raises(UnsupportedOperatorError, match=f"'up' \\(Resize\\).*{message}"):
        import_onnx(model)


def test_batched_matmul_matches_onnxruntime():
    model = make_model([helper.make_node("MatMul", ["a", "b"], ["y"])],
                       [vi("a", [2, 3, 4]), vi("b", [2, 4, 5])], [vi("y", None)])
    feeds = {"a": RNG.standard_normal((2, 3, 4)).astype(np.float32),
             "b": RNG.standard_normal((2, 4, 5)).astype(np.float32)}
    # through ktensor.batch_matmul (not a broadcast product), compiled and simulated
    assert op_counts(lower(import_onnx(model)))["ktensor.batch_matmul"] == 1
    import kaena

    got = kaena.load(kaena.compile(model, auto_cast="none")).run(feeds)["y"]
    np.testing.assert_allclose(got, run_ort(model, feeds)[0], rtol=1e-5, atol=1e-5)


def test_framework_passes_fold_bn_fuse_and_remove_dead_nodes():
    model = modelzoo.mobilenet_v2(image=32, num_classes=10)
    module = import_onnx(model)
    counts = op_counts(module)
    assert counts["fw.batch_norm"] == counts["fw.conv"] == 52
    for p in ("fw-constant-fold", "fw-fold-batchnorm", "fw-fuse-conv", "fw-dce"):
        ALL_PASSES[p]()().apply(CTX, module)
        module.verify()
    counts = op_counts(module)
    assert "fw.batch_norm" not in counts and "fw.clip" not in counts
    acts = Counter(o.activation_name() for o in module.walk() if isinstance(o, fw.ConvOp))
    assert acts == {"relu6": 35, "none": 17}
    # no weight left unused (the BN statistics and original conv weights went)
    assert all(o.result.uses for o in module.walk() if isinstance(o, fw.WeightOp))
    x = RNG.standard_normal((1, 3, 32, 32)).astype(np.float32)
    got = evaluate(lower(module), x)[0]
    np.testing.assert_allclose(got, run_ort(model, {"input": x})[0], rtol=1e-4, atol=1e-4)


def test_list_operators_names_every_converter():
    from kaena.frontends.onnx import SUPPORTED_OPERATORS, list_operators
    from kaena.tools.kaena_compile_main import list_operators as cli_list

    names = [op for op, _ in list_operators()]
    assert set(SUPPORTED_OPERATORS) <= set(names) and "Shape" in names
    text = cli_list("onnx")
    assert "BatchNormalization" in text and "Resize" in text


# --- auto-cast --------------------------------------------------------------------------------------


def test_auto_cast_matmult_matches_bf16_emulation():
    model = modelzoo.lenet()
    module = lower(import_onnx(model), cast="matmult")
    store = module_store(module)
    for op in module.walk():
        if isinstance(op, kt.MatmulOp | kt.Conv2dOp):
            assert isinstance(op.operands[0].type.element_type, BFloat16Type)
            assert isinstance(op.operands[1].type.element_type, BFloat16Type)
            assert not isinstance(op.results[0].type.element_type, BFloat16Type)
            w = op.operands[1].owner
            assert isinstance(w, kt.WeightOp) and store[w.weight_name.data].dtype == ml_dtypes.bfloat16
    x = RNG.random((1, 1, 28, 28), dtype=np.float32)
    emulated = run_ort(modelzoo.bf16_emulation(model), {"input": x})[0]
    fp32 = run_ort(model, {"input": x})[0]
    got = evaluate(module, x)[0]
    np.testing.assert_allclose(got, emulated, rtol=1e-4, atol=1e-6)
    assert np.abs(got - fp32).max() > 1e-6  # the cast really changed the numerics


def test_auto_cast_all_keeps_fp32_edges():
    module = lower(import_onnx(modelzoo.mlp()), cast="all")
    main = next(o for o in module.walk() if isinstance(o, func.FuncOp))
    text = str(module)
    assert "tensor<4x784xf32>" in text.splitlines()[1] and "-> (tensor<4x10xf32>" in text
    casts = [o for o in module.walk() if isinstance(o, kt.CastOp)]
    assert len(casts) == 2  # entry and exit only
    for op in module.walk():
        if op.dialect_name() == "ktensor" and not isinstance(op, kt.CastOp):
            assert all(isinstance(r.type.element_type, BFloat16Type) for r in op.results), op.name
    ret = main.body.blocks[0].last_op
    assert ret.operands[0].type == main.function_type.outputs.data[0]
    x = RNG.random((4, 784), dtype=np.float32)
    np.testing.assert_allclose(evaluate(module, x)[0], run_ort(modelzoo.mlp(), {"input": x})[0],
                               atol=3e-2)


def test_auto_cast_fp16_and_none():
    module = lower(import_onnx(modelzoo.mlp()))
    before = str(module)
    AutoCastPass(mode="none").apply(CTX, module)
    assert str(module) == before
    AutoCastPass(mode="matmult", type="fp16").apply(CTX, module)
    module.verify()
    assert "xf16>" in str(module) and "bf16" not in str(module)


def test_auto_cast_rejects_bad_options():
    with pytest.raises(KaenaError, match="none, matmult, all"):
        AutoCastPass(mode="most")
    with pytest.raises(KaenaError, match="bf16, fp16"):
        AutoCastPass(type="int8")


def test_passes_are_registered():
    for name, cls in [("convert-framework-to-tensor", ConvertFrameworkToTensorPass),
                      ("ktensor-fuse-bias-activation", FuseBiasActivationPass),
                      ("ktensor-auto-cast", AutoCastPass)]:
        assert ALL_PASSES[name]() is cls and cls.name == name
    # the name scripts used before the level prefixes still works
    old = ALL_PASSES["auto-cast"]()
    assert issubclass(old, AutoCastPass) and old.name == "auto-cast"


def test_weight_store_bf16_round_trip(tmp_path):
    bits = np.arange(0, 65536, 257, dtype=np.uint16)
    values = bits.view(ml_dtypes.bfloat16)
    store = WeightStore({"a.bf16": values, "b": np.arange(3, dtype=np.float32)})
    path = str(tmp_path / "w.npz")
    store.save(path)
    loaded = WeightStore.load(path)
    assert sorted(loaded) == ["a.bf16", "b"]
    assert loaded["a.bf16"].dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(loaded["a.bf16"].view(np.uint16), bits)
    np.testing.assert_array_equal(loaded["b"], np.arange(3, dtype=np.float32))


@pytest.mark.parametrize("break_it, message", [
    (lambda m: m.graph.output.__delitem__(slice(None)), "the model has no outputs"),
    (lambda m: setattr(m.opset_import[0], "version", 99), "imports ONNX opset 99, but opsets go from 1 to"),
    (lambda m: m.graph.node[0].input.__setitem__(0, "nowhere"),
     r"the model is invalid: 'fc1' \(Gemm\): its input 'nowhere' is produced by no node"),
    (lambda m: m.graph.initializer[0].dims.__setitem__(0, 3),
     r"the model is invalid: initializer '\S+' does not hold the"),
])
def test_invalid_models_are_called_invalid(break_it, message):
    model = modelzoo.mlp(batch=1)
    break_it(model)
    with pytest.raises(ModelImportError, match=message):
        import_onnx(model)


def test_conv_that_contradicts_its_weight_is_invalid_not_unsupported():
    from onnx import numpy_helper

    model = modelzoo.lenet()
    i = next(k for k, t in enumerate(model.graph.initializer) if len(t.dims) == 4)
    name = model.graph.initializer[i].name
    model.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.zeros((6, 3, 5, 5), np.float32), name))
    with pytest.raises(ModelImportError, match=r"the model is invalid: 'conv1' \(Conv\): channels do not match") as e:
        import_onnx(model)
    assert "Replace these operators" not in str(e.value)


def _relu_twice(first_out="h", second_name="b", out_type=TensorProto.FLOAT, inputs=("x",)):
    nodes = [helper.make_node("Relu", ["x"], [first_out], name="a"),
             helper.make_node("Relu", [first_out], ["y"], name=second_name)]
    return make_model(nodes, [vi(n, [2, 3]) for n in inputs], [vi("y", [2, 3], out_type)])


@pytest.mark.parametrize("model, why", [
    (_relu_twice(first_out="x"), r"'a' \(Relu\): its output 'x' is already defined"),
    (_relu_twice(second_name="a"), r"'a' \(Relu\): another node has the same name"),
    (_relu_twice(inputs=("x", "x")), r"'\(graph input\)' \(x\): is declared twice"),
    (_relu_twice(out_type=99), r"'\(graph output\)' \(y\): declared of element type 99, which ONNX does not have"),
    (_relu_twice(out_type=TensorProto.INT64), r"'b' \(Relu\): operands and results must share one element type"),
])
def test_models_onnxruntime_refuses_are_invalid(model, why):
    """What the model fuzzer found Kaena accepting while onnxruntime refuses the model:
    a value defined twice, two nodes of one name, an input declared twice, an output
    type that does not exist or contradicts what the graph computes."""
    with pytest.raises(ModelImportError, match="the model is invalid: " + why):
        import_onnx(model)
