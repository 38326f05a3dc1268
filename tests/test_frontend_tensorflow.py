"""The TensorFlow frontend end to end: keras.applications ResNet50 and
MobileNetV2 (``weights=None``) and a small Keras transformer encoder, each from
a SavedModel and from a ``.keras`` file, compiled, simulated and compared with
TensorFlow's own output: FP32 within 1e-4 of the largest output magnitude;
BF16 within twice the error of a faithful BF16 emulation built with TensorFlow
(``kaena.testing.tensorflow.bf16_emulation``). Then the refusals: every
unsupported op named at once, control flow refused with what to do."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import kaena  # noqa: E402
from kaena.dialects import framework as fw  # noqa: E402
from kaena.errors import ModelImportError, UnsupportedOperatorError  # noqa: E402
from kaena.frontends import detect_framework  # noqa: E402
from kaena.frontends.tensorflow import CONTROL_FLOW_REASON, import_model  # noqa: E402
from kaena.testing.reference import error_metrics  # noqa: E402
from kaena.testing.tensorflow import bf16_emulation, frozen_graph, run_graph  # noqa: E402

keras = pytest.importorskip("keras")

KAENA_COMPILE = (sys.executable, "-m", "kaena.tools.kaena_compile_main")  # this interpreter's kaena
IMAGE = (1, 32, 32, 3)  # the smallest input keras.applications takes
TOKENS = (2, 16, 32)


def _calibrated(model, shape):
    """Batch norm statistics from 8 random images (so activations neither vanish
    nor explode through 50 random layers, as they do with the initial 0/1 statistics)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model(np.random.default_rng(1).standard_normal((8, *shape[1:])).astype(np.float32), training=True)
    return model


def _image():
    # a named input: Keras otherwise names it per session (keras_tensor_N, input_layer_N)
    return keras.Input(IMAGE[1:], name="image")


def resnet50():
    model = keras.applications.ResNet50(weights=None, input_tensor=_image(), classifier_activation=None)
    return _calibrated(model, IMAGE), IMAGE


def mobilenet_v2():
    model = keras.applications.MobileNetV2(weights=None, input_tensor=_image(), classifier_activation=None)
    return _calibrated(model, IMAGE), IMAGE


def encoder():
    """One post-norm transformer encoder block and a classifier over the mean token."""
    tokens = keras.Input(TOKENS[1:], name="tokens")
    x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=16)(tokens, tokens)
    x = keras.layers.LayerNormalization()(x + tokens)
    ffn = keras.layers.Dense(64, activation="gelu")(x)
    x = keras.layers.LayerNormalization()(x + keras.layers.Dense(TOKENS[2])(ffn))
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(tokens, keras.layers.Dense(10, name="logits")(x)), TOKENS


MODELS = {"resnet50": resnet50, "mobilenet_v2": mobilenet_v2, "encoder": encoder}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each model built once (fixed seeds), saved both ways, with its input."""
    cache = {}

    def get(name):
        if name not in cache:
            keras.utils.set_random_seed(0)
            model, shape = MODELS[name]()
            root = tmp_path_factory.mktemp(name)
            model.export(str(root / "saved_model"), verbose=False)
            model.save(str(root / f"{name}.keras"))
            x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
            cache[name] = (root, model.inputs[0].name, x)
        return cache[name]
    return get


def _tf_output(path: str, input_name: str, x: np.ndarray) -> np.ndarray:
    """TensorFlow's own output for the saved artifact."""
    if path.endswith(".keras"):
        return np.asarray(keras.models.load_model(path, compile=False)(x, training=False))
    (value,) = tf.saved_model.load(path).signatures["serving_default"](**{input_name: tf.constant(x)}).values()
    return value.numpy()


@pytest.fixture(scope="module", params=[(m, f) for m in MODELS for f in ("saved_model", "keras")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request, saved):
    name, fmt = request.param
    root, input_name, x = saved(name)
    path = str(root / ("saved_model" if fmt == "saved_model" else f"{name}.keras"))
    return path, {input_name: list(x.shape)}, {input_name: x}, _tf_output(path, input_name, x)


def _only(outputs: dict) -> np.ndarray:
    (value,) = outputs.values()
    return value


def test_fp32_matches_tensorflow(case):
    path, shapes, inputs, ref = case
    out = _only(kaena.load(kaena.compile(path, auto_cast="none", input_shapes=shapes)).run(inputs))
    assert out.shape == ref.shape and out.dtype == np.float32
    err = error_metrics({"y": out}, {"y": ref})
    assert err.max_rel <= 1e-4, err


def test_bf16_within_twice_the_emulation_error(case):
    path, shapes, inputs, ref = case
    frozen = frozen_graph(path, shapes)
    emulated = error_metrics({"y": _only(run_graph(frozen, inputs, bf16_emulation(frozen)))}, {"y": ref})
    assert emulated.max_rel > 0  # the emulation really rounds
    err = error_metrics({"y": _only(kaena.load(kaena.compile(path, input_shapes=shapes)).run(inputs))},
                        {"y": ref})
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2"])
def test_nhwc_is_folded_into_the_layout(saved, name):
    """No transpose inside the network: the one fw.transpose takes the NHWC model
    input to NCHW (a strided DMA); Conv2D/BiasAdd/batch norm/pads never move data."""
    root, input_name, x = saved(name)
    module = import_model(str(root / "saved_model"), input_shapes={input_name: list(x.shape)})
    main = module.body.block.first_op
    transposes = [op for op in module.walk() if isinstance(op, fw.TransposeOp)]
    (transpose,) = transposes
    source = transpose.input
    if isinstance(source.owner, fw.PadOp):  # ResNet pads the image first (a pad is layout-free)
        source = source.owner.input
    assert source == main.body.block.args[0]
    assert sum(isinstance(op, fw.ConvOp) for op in module.walk()) >= 50


def test_bf16_emulation_rounds_to_nearest_even():
    import ml_dtypes

    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    ours = tf.cast(tf.cast(tf.constant(x), tf.bfloat16), tf.float32).numpy()
    np.testing.assert_array_equal(ours, x.astype(ml_dtypes.bfloat16).astype(np.float32))


def test_live_keras_model_and_frozen_pb(saved, tmp_path):
    """kaena.compile takes a live tf.keras.Model (shapes from example_inputs) and a frozen .pb."""
    keras.utils.set_random_seed(0)
    model, shape = encoder()
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    ref = model(x, training=False).numpy()
    out = kaena.load(kaena.compile(model, auto_cast="none", example_inputs=x)).run({"tokens": x})
    assert error_metrics({"y": out["logits"]}, {"y": ref}).max_rel <= 1e-4
    frozen = frozen_graph(model, {"tokens": list(shape)})
    tf.io.write_graph(frozen.graph_def, str(tmp_path), "encoder.pb", as_text=False)
    pb = str(tmp_path / "encoder.pb")
    assert detect_framework(pb) == "tensorflow"
    out = kaena.load(kaena.compile(pb, auto_cast="none")).run({"tokens": x})
    assert error_metrics({"y": _only(out)}, {"y": ref}).max_rel <= 1e-4


def test_dynamic_batch_needs_input_shapes(saved):
    root, input_name, _ = saved("encoder")
    with pytest.raises(ModelImportError, match=rf"input '{input_name}' has a dynamic shape.*input_shapes="):
        import_model(str(root / "saved_model"))


def _frozen_pb(fn, spec, path) -> str:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(fn, autograph=False).get_concrete_function(spec)
    graph_def = convert_variables_to_constants_v2(concrete, lower_control_flow=False).graph.as_graph_def()
    tf.io.write_graph(graph_def, str(path.parent), path.name, as_text=False)
    return str(path)


def test_every_unsupported_op_is_named_at_once(tmp_path):
    def fn(x):
        a = tf.math.cumsum(x, axis=1, name="running_total")
        b = tf.math.cumprod(x, axis=1, name="running_product")
        return tf.nn.relu(a + b)

    pb = _frozen_pb(fn, tf.TensorSpec([2, 8], tf.float32, name="x"), tmp_path / "unsupported.pb")
    with pytest.raises(UnsupportedOperatorError) as info:
        kaena.compile(pb)
    nodes = {(name, op) for name, op, _ in info.value.nodes}
    assert nodes == {("running_total", "Cumsum"), ("running_product", "Cumprod")}
    proc = subprocess.run([*KAENA_COMPILE, pb, "-o", str(tmp_path / "u.neff")], capture_output=True, text=True)
    err = proc.stderr.strip()
    assert proc.returncode != 0 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "'running_total' (Cumsum)" in err and "'running_product' (Cumprod)" in err


def test_while_loop_is_refused_with_what_to_do(tmp_path):
    class Loop(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")], autograph=False)
        def serve(self, x):
            _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * 2.0), (tf.constant(0), x),
                                 name="doubling")
            return {"y": y}

    module = Loop()
    path = tmp_path / "loop_model"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    with pytest.raises(UnsupportedOperatorError) as info:
        kaena.compile(str(path))
    assert any(op in ("While", "StatelessWhile") and "doubling" in name and why == CONTROL_FLOW_REASON
               for name, op, why in info.value.nodes), info.value.nodes
    assert "unroll the loop" in str(info.value)


def test_list_operators():
    proc = subprocess.run([*KAENA_COMPILE, "--list-operators", "--framework", "tensorflow"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# tensorflow operators supported by kaena-compile")
    listed = {line.split()[0]: line for line in lines[1:]}
    for op in ("Conv2D", "DepthwiseConv2dNative", "BiasAdd", "FusedBatchNormV3", "MatMul", "BatchMatMulV2",
               "Relu", "Relu6", "Mean", "Softmax", "AddV2", "Reshape", "Pad", "ConcatV2", "Einsum"):
        assert op in listed
    assert "NHWC" in listed["Conv2D"]


def test_op_families_match_tensorflow(tmp_path):
    """The converters the Keras models do not reach, in one frozen graph: FusedBatchNormV3,
    strided SAME depthwise and dilated convolutions, both poolings, ConcatV2 and Pad on the
    NCHW layout, a Transpose folded into the layout, BatchMatMulV2 with adj_y, Einsum,
    keep_dims Mean, Softmax on a permuted axis, and elementwise functions."""
    rng = np.random.default_rng(5)

    def const(*shape, scale=0.3):
        return tf.constant(rng.standard_normal(shape).astype(np.float32) * scale)

    w1, dw, w2 = const(3, 3, 4, 8), const(3, 3, 8, 2), const(1, 1, 32, 8)
    gamma, beta = const(8, scale=1) + 1.5, const(8)
    mean, var = const(8), tf.abs(const(8)) + 0.5
    q_w, k_w = const(8, 6), const(8, 6)

    def fn(x):
        y = tf.nn.conv2d(x, w1, strides=1, padding="SAME", dilations=2)
        y, *_ = tf.raw_ops.FusedBatchNormV3(x=y, scale=gamma, offset=beta, mean=mean, variance=var,
                                            epsilon=1e-3, is_training=False)
        y = tf.nn.relu6(y)
        d = tf.nn.depthwise_conv2d(y, dw, strides=[1, 2, 2, 1], padding="SAME")  # 16 channels
        a = tf.nn.avg_pool2d(d, 3, 1, "SAME")
        m = tf.nn.max_pool2d(d, 2, 1, "SAME")
        c = tf.concat([tf.sigmoid(a), tf.tanh(m)], axis=3)
        c = tf.pad(c, [[0, 0], [1, 0], [0, 1], [0, 0]])
        z = tf.nn.conv2d(tf.square(c) + tf.maximum(c, 0.1), w2, 1, "VALID")  # [1, 7, 7, 8]
        t = tf.transpose(z, [0, 3, 1, 2])  # NCHW: the layout Kaena already has
        pooled = tf.reduce_mean(t, axis=[2, 3], keepdims=True)  # [1, 8, 1, 1]
        seq = tf.reshape(z, [1, -1, 8])  # [1, 49 tokens, 8]
        q, k = tf.einsum("btc,cd->btd", seq, q_w), tf.matmul(seq, k_w)
        scores = tf.nn.softmax(tf.linalg.matmul(q, k, adjoint_b=True) / 3.0)
        mixed = tf.einsum("bts,bsc->btc", scores, seq)
        return tf.reduce_sum(mixed, axis=1) + tf.squeeze(pooled, axis=[2, 3])

    pb = _frozen_pb(fn, tf.TensorSpec([1, 12, 12, 4], tf.float32, name="x"), tmp_path / "ops.pb")
    x = np.random.default_rng(6).standard_normal((1, 12, 12, 4)).astype(np.float32)
    ref = fn(tf.constant(x)).numpy()
    module = import_model(pb)
    ops = {op.name for op in module.walk()}
    assert {"fw.batch_norm", "fw.average_pool", "fw.max_pool", "fw.concat", "fw.pad", "fw.softmax"} <= ops
    out = _only(kaena.load(kaena.compile(pb, auto_cast="none")).run({"x": x}))
    assert error_metrics({"y": out}, {"y": ref}).max_rel <= 1e-4


def test_kaena_compile_takes_a_saved_model_directory(saved):
    """The tool tells TensorFlow from the directory; the NEFF lands beside it, not inside."""
    root, input_name, x = saved("encoder")
    proc = subprocess.run([*KAENA_COMPILE, f"{root / 'saved_model'}/", "--input-shapes",
                           f"{input_name}:{'x'.join(map(str, x.shape))}", "--auto-cast", "none", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    out = _only(kaena.load(str(root / "saved_model.neff")).run({input_name: x}))
    ref = _tf_output(str(root / "saved_model"), input_name, x)
    assert error_metrics({"y": out}, {"y": ref}).max_rel <= 1e-4
