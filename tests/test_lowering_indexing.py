"""Single-operator ONNX models through the transformer lowerings (gather, slice,
broadcast, the new scalar-engine functions, comparisons/select, int inputs),
simulated and compared with onnxruntime.

FP32 (``auto_cast="none"``) within 1e-5 of the largest output magnitude; BF16
(``auto_cast="matmult"``) within twice a faithful BF16 emulation of the graph
(for graphs with no matmul the emulation is exact, so the FP32 bar applies).
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

import kaena
from kaena.errors import KaenaError
from kaena.testing import modelzoo
from kaena.testing.reference import random_inputs, run_onnxruntime

FP32_BAR = 1e-5


def _model(nodes, inputs, outputs, inits=(), opset=17):
    g = h.make_graph(nodes, "g", inputs, outputs, list(inits))
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)])


def _vi(name, shape, dt=T.FLOAT):
    return h.make_tensor_value_info(name, dt, shape)


def _abs_err(out, ref):
    """max |out - ref| over the largest output magnitude."""
    worst = 0.0
    for k, r in ref.items():
        r = np.asarray(r, np.float64)
        o = np.asarray(out[k], np.float64)
        assert o.shape == r.shape, (k, o.shape, r.shape)
        scale = max(1e-30, float(np.nanmax(np.abs(r))) if r.size else 1.0)
        same_nan = np.isnan(o) == np.isnan(r)
        assert same_nan.all(), k
        d = np.where(np.isnan(r), 0.0, np.abs(np.where(np.isinf(r) & (o == r), 0.0, o - r)))
        worst = max(worst, float(np.max(d)) / scale if d.size else 0.0)
    return worst


def check(model, inputs=None, seed=1):
    inputs = inputs if inputs is not None else random_inputs(model, seed=seed)
    ref = run_onnxruntime(model, inputs)
    out = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert sorted(out) == sorted(ref)
    err = _abs_err(out, ref)
    assert err <= FP32_BAR, err
    emulated = _abs_err(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    out16 = kaena.load(kaena.compile(model, auto_cast="matmult")).run(inputs)
    err16 = _abs_err(out16, ref)
    assert err16 <= max(2 * emulated, FP32_BAR), (err16, emulated)
    return err, err16


# --- gather -----------------------------------------------------------------------------------

def embedding(V=1000, D=128, S=64, dtype=T.INT64):
    rng = np.random.default_rng(0)
    w = nh.from_array(rng.standard_normal((V, D)).astype(np.float32), "emb")
    return _model([h.make_node("Gather", ["emb", "input_ids"], ["y"], name="embed")],
                  [_vi("input_ids", [1, S], dtype)], [_vi("y", [1, S, D])], [w])


def test_embedding_lookup_int64_ids():
    check(embedding())


def test_embedding_wide_rows_and_many_tokens():
    check(embedding(V=300, D=1536, S=200))


def test_embedding_rows_split_in_columns():
    check(embedding(V=20, D=10000, S=3))


def test_embedding_int32_ids():
    check(embedding(V=50, D=16, S=8, dtype=T.INT32))


def test_out_of_vocabulary_id_is_refused():
    m = embedding()
    inputs = random_inputs(m, seed=1)
    neff = kaena.compile(m, auto_cast="none")
    bad = inputs["input_ids"].copy()
    bad[0, 7] = 1000
    with pytest.raises(KaenaError, match=r"1000 at position 7 of input 'input_ids'.*\[0, 1000\)"):
        kaena.load(neff).run({"input_ids": bad})


def test_gather_ids_input_records_valid_range():
    neff = kaena.compile(embedding(), auto_cast="none")
    (spec,) = neff.inputs
    assert spec.dtype == "int32" and spec.valid_range == (0, 1000)


def test_embedding_matmul_bf16():
    rng = np.random.default_rng(2)
    w = nh.from_array(rng.standard_normal((100, 32)).astype(np.float32), "emb")
    k = nh.from_array(rng.standard_normal((32, 16)).astype(np.float32), "k")
    m = _model([h.make_node("Gather", ["emb", "ids"], ["e"], name="embed"),
                h.make_node("MatMul", ["e", "k"], ["y"], name="mm")],
               [_vi("ids", [1, 16], T.INT64)], [_vi("y", [1, 16, 16])], [w, k])
    check(m)


# --- scalar-engine functions --------------------------------------------------------------------

def _unary(op, positive=False, shape=(2, 3, 40), **attrs):
    m = _model([h.make_node(op, ["x"], ["y"], name="n0", **attrs)], [_vi("x", list(shape))],
               [_vi("y", list(shape))], opset=20 if op == "Gelu" else 17)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    return m, {"x": np.abs(x) + 0.05 if positive else x}


@pytest.mark.parametrize("op,positive,attrs", [
    ("Erf", False, {}), ("Gelu", False, {}), ("Gelu", False, {"approximate": "tanh"}),
    ("Exp", False, {}), ("Log", True, {}), ("Sqrt", True, {}), ("Reciprocal", True, {}),
    ("Neg", False, {}),
])
def test_unary_function(op, positive, attrs):
    m, x = _unary(op, positive, **attrs)
    check(m, x)


def test_pow_two():
    two = nh.from_array(np.array(2.0, np.float32), "two")
    m = _model([h.make_node("Pow", ["x", "two"], ["y"], name="sq")], [_vi("x", [4, 50])],
               [_vi("y", [4, 50])], [two])
    check(m)


# --- slice, split, expand -------------------------------------------------------------------------

def _const(name, vals):
    return nh.from_array(np.array(vals, np.int64), name)


def test_slice():
    m = _model([h.make_node("Slice", ["x", "s", "e", "a"], ["y"], name="sl")], [_vi("x", [2, 6, 10])],
               [_vi("y", [2, 3, 7])], [_const("s", [1, 2]), _const("e", [4, 9]), _const("a", [1, 2])])
    check(m)


def test_strided_slice():
    m = _model([h.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="sl")], [_vi("x", [2, 9, 10])],
               [_vi("y", [2, 3, 4])], [_const("s", [1, 0]), _const("e", [9, 10]), _const("a", [1, 2]),
                                       _const("st", [3, 3])])
    check(m)


def test_split():
    m = _model([h.make_node("Split", ["x", "sp"], ["a", "b", "c"], name="split", axis=1)],
               [_vi("x", [2, 12, 5])], [_vi("a", [2, 3, 5]), _vi("b", [2, 4, 5]), _vi("c", [2, 5, 5])],
               [_const("sp", [3, 4, 5])])
    check(m)


def test_expand():
    m = _model([h.make_node("Expand", ["x", "shape"], ["y"], name="ex")], [_vi("x", [3, 1, 5])],
               [_vi("y", [2, 3, 4, 5])], [_const("shape", [2, 3, 4, 5])])
    check(m)


# --- comparisons, masks, select -----------------------------------------------------------------

@pytest.mark.parametrize("cmp", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_compare_where(cmp):
    m = _model([h.make_node(cmp, ["a", "b"], ["c"], name="cmp"),
                h.make_node("Where", ["c", "a", "b"], ["y"], name="where")],
               [_vi("a", [2, 3, 8]), _vi("b", [3, 1])], [_vi("y", [2, 3, 8])])
    x = {"a": np.round(np.random.default_rng(4).standard_normal((2, 3, 8))).astype(np.float32),
         "b": np.array([[0.0], [1.0], [-1.0]], np.float32)}
    check(m, x)


def test_not_and_cast_to_float():
    m = _model([h.make_node("Greater", ["a", "z"], ["c"], name="gt"),
                h.make_node("Not", ["c"], ["n"], name="not"),
                h.make_node("Cast", ["n"], ["y"], name="cast", to=T.FLOAT)],
               [_vi("a", [4, 33])], [_vi("y", [4, 33])], [nh.from_array(np.array(0.0, np.float32), "z")])
    check(m)


def test_where_with_scalar_branch():
    m = _model([h.make_node("Less", ["a", "z"], ["c"], name="lt"),
                h.make_node("Where", ["c", "ninf", "a"], ["y"], name="where")],
               [_vi("a", [2, 50])], [_vi("y", [2, 50])],
               [nh.from_array(np.array(0.0, np.float32), "z"), nh.from_array(np.array(-1e4, np.float32), "ninf")])
    check(m)


def test_integer_compare():
    m = _model([h.make_node("Equal", ["ids", "k"], ["c"], name="eq"),
                h.make_node("Cast", ["c"], ["y"], name="cast", to=T.FLOAT)],
               [_vi("ids", [2, 16], T.INT64)], [_vi("y", [2, 16])], [nh.from_array(np.array(3, np.int64), "k")])
    check(m, {"ids": np.random.default_rng(5).integers(0, 6, (2, 16)).astype(np.int64)})


def test_bert_extended_attention_mask():
    """scores + (1 - Cast(Unsqueeze(mask))) * -10000, mask int64 [B, S]."""
    B, H, S = 2, 2, 16
    one = nh.from_array(np.array(1.0, np.float32), "one")
    big = nh.from_array(np.array(-10000.0, np.float32), "big")
    axes = _const("axes", [1, 2])
    m = _model([h.make_node("Unsqueeze", ["attention_mask", "axes"], ["m4"], name="unsq"),
                h.make_node("Cast", ["m4"], ["mf"], name="cast", to=T.FLOAT),
                h.make_node("Sub", ["one", "mf"], ["inv"], name="sub"),
                h.make_node("Mul", ["inv", "big"], ["ext"], name="mul"),
                h.make_node("Add", ["scores", "ext"], ["y"], name="add")],
               [_vi("scores", [B, H, S, S]), _vi("attention_mask", [B, S], T.INT64)], [_vi("y", [B, H, S, S])],
               [one, big, axes])
    check(m)


# --- the emitted IR -------------------------------------------------------------------------------

def _lower_text(text: str):
    from xdsl.context import Context
    from xdsl.dialects.builtin import Builtin
    from xdsl.dialects.func import Func
    from xdsl.parser import Parser

    from kaena import weights as kweights
    from kaena.dialects import inferentia as inf
    from kaena.dialects.ktensor import KTensor
    from kaena.passes.conversions.tensor_to_inferentia import ConvertTensorToInferentiaPass

    ctx = Context()
    for d in (Builtin, Func, KTensor, inf.Inferentia):
        ctx.load_dialect(d)
    module = Parser(ctx, text).parse_module()
    kweights.attach(module, kweights.WeightStore({}))
    ConvertTensorToInferentiaPass().apply(ctx, module)
    module.verify()
    return module


def _gather_text(V, D, S):
    return (f'func.func @main(%ids: tensor<1x{S}xi32> {{kaena.name = "ids"}}) -> '
            f'(tensor<1x{S}x{D}xf32> {{kaena.name = "y"}}) {{\n'
            f'  %w = ktensor.weight "emb" : tensor<{V}x{D}xf32>\n'
            f'  %y = ktensor.gather %w, %ids : (tensor<{V}x{D}xf32>, tensor<1x{S}xi32>) -> tensor<1x{S}x{D}xf32>\n'
            f'  func.return %y : tensor<1x{S}x{D}xf32>\n}}')


def test_gather_of_many_tokens_is_one_loop():
    from kaena.dialects import inferentia as inf

    module = _lower_text(_gather_text(30522, 768, 1024))
    gathers = [op for op in module.walk() if isinstance(op, inf.DmaGatherOp)]
    assert len(gathers) == 1 and isinstance(gathers[0].parent_op(), inf.LoopOp)
    assert gathers[0].parent_op().trips.value.data == 8
    (ids,) = [op for op in module.walk() if isinstance(op, inf.DramOp) and op.kind.data == "input"]
    assert ids.valid_range == (0, 30522)


def test_gather_splits_rows_wider_than_a_tile():
    from kaena.dialects import inferentia as inf

    module = _lower_text(_gather_text(64, 40000, 4))
    gathers = [op for op in module.walk() if isinstance(op, inf.DmaGatherOp)]
    # column chunks of the per-op SBUF share: a loop over the full ones, the rest peeled
    (full, rest) = gathers
    assert isinstance(full.parent_op(), inf.LoopOp) and not isinstance(rest.parent_op(), inf.LoopOp)
    w, trips = full.dst_ap.data.dims[0][0], full.parent_op().trips.value.data
    assert w * trips + rest.dst_ap.data.dims[0][0] == 40000


def test_unknown_activation_function_is_a_compile_error_naming_the_node():
    from kaena.dialects.inferentia import SbufType, ap
    from kaena.errors import CompileError
    from kaena.passes.conversions.tensor_to_inferentia.builder import Builder
    from xdsl.dialects.builtin import f32

    b = Builder()
    t = b.alloc(SbufType, 4, 4, f32, "t")
    a = ap(0, 4, 0, [[4, 1]])
    with b.lowering(["act7"]), pytest.raises(CompileError, match="act7.*'softsign'"):
        b.act("softsign", t, a, t, a)
    with b.lowering(["act8"]), pytest.raises(CompileError, match="act8.*'leaky_relu' with a fused bias"):
        b.act("leaky_relu", t, a, t, a, bias=t, bias_ap=a, alpha=0.1)
