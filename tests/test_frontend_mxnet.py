"""The MXNet frontend against MXNet 1.9.1's own outputs (fixtures made by
tests/fixtures/mxnet/make_fixtures.py; CI needs no MXNet): FP32 within 1e-4 of
the largest output magnitude, BF16 at most twice the error of MXNet's BF16
emulation; the readers' formats and their clean refusals of corrupt files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kaena
from kaena.errors import KaenaError, ModelImportError, UnsupportedOperatorError
from kaena.frontends import detect_framework, list_operators
from kaena.frontends.mxnet import find_params, import_model, import_mxnet, read_params
from kaena.frontends.mxnet.core import Importer
from kaena.frontends.mxnet.importer import CONVERTERS
from kaena.frontends.mxnet.layout import mxnet_reshape
from kaena.frontends.mxnet.params import V1_MAGIC, V2_MAGIC, V3_MAGIC, model_params, parse_params
from kaena.frontends.mxnet.symbol import parse_symbol
from kaena.testing.reference import error_metrics
from kaena.weights import module_store

FIXTURES = Path(__file__).parent / "fixtures" / "mxnet"
sys.path.insert(0, str(FIXTURES))
from seeded_params import seeded_params  # noqa: E402

# resnet18_v1's parameters (45 MB) are rebuilt from seeds, byte for byte what MXNet exported.
SEEDED = {"resnet18_v1": 6}
MODELS = ("mlp", "mobilenet0.25", "resnet_small", "ops", "symbolic", "extras", *SEEDED)


def fixture(name: str) -> tuple[Path, dict[str, np.ndarray]]:
    with np.load(FIXTURES / f"{name}-io.npz") as io:
        return FIXTURES / f"{name}-symbol.json", {k: io[k] for k in io.files}


@pytest.fixture(scope="module")
def symbols(tmp_path_factory) -> dict[str, Path]:
    """Each model's symbol file, beside its .params (the seeded ones rebuilt in a temporary directory)."""
    out = {name: FIXTURES / f"{name}-symbol.json" for name in MODELS if name not in SEEDED}
    directory = tmp_path_factory.mktemp("mxnet")
    for name, seed in SEEDED.items():
        symbol, io = fixture(name)
        names = [str(n) for n in io["param_names"]]
        shapes = {k: tuple(v) for k, v in json.loads(str(io["param_shapes"])).items()}
        values = seeded_params(shapes, seed)
        data = _file([_array(V2_MAGIC, values[n.split(":", 1)[1]].shape, values[n.split(":", 1)[1]], stype=0)
                      for n in names], names)
        assert hashlib.sha256(data).hexdigest() == str(io["params_sha256"]), "not the file MXNet exported"
        (directory / f"{name}-0000.params").write_bytes(data)
        out[name] = shutil.copy(symbol, directory / symbol.name)
    return out


def compile_fixture(symbol: Path, name: str, **options):
    _, io = fixture(name)
    neff = kaena.compile(symbol, input_shapes={"data": list(io["data"].shape)}, **options)
    return kaena.load(neff).run({"data": io["data"]}), io


# --- numbers: against MXNet's saved outputs -----------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_fp32_matches_mxnet(symbols, name):
    outputs, io = compile_fixture(symbols[name], name, auto_cast="none")
    (key,) = outputs
    assert error_metrics(outputs, {key: io["output"]}).max_rel <= 1e-4


@pytest.mark.parametrize("name", MODELS)
def test_bf16_within_twice_mxnets_emulation(symbols, name):
    outputs, io = compile_fixture(symbols[name], name)
    (key,) = outputs
    ref = {key: io["output"]}
    emulated = error_metrics({key: io["output_bf16"]}, ref)
    err = error_metrics(outputs, ref)
    assert emulated.max_rel > 1e-4  # the emulation really rounds
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)


def test_outputs_and_inputs_are_named_as_mxnet_names_them():
    module = import_model(FIXTURES / "mlp-symbol.json", input_shapes={"data": [2, 20]})
    text = str(module)
    assert '"mlp_dense2_fwd_output"' in text and '"data"' in text
    assert 'kaena.source = ["mlp_dense0_fwd"]' in text


def test_fix_gamma_replaces_the_stored_gamma_by_ones():
    module = import_model(FIXTURES / "symbolic-symbol.json", input_shapes={"data": [2, 3, 8, 8]})
    store = module_store(module)
    assert np.array_equal(store["bn.fixed_gamma"], np.ones(6, np.float32))
    assert not np.allclose(read_params(FIXTURES / "symbolic-0000.params")["bn_gamma"], 1.0)
    assert "epsilon = 1.000000e-03" in str(module)  # MXNet's default eps


def test_the_label_of_softmax_output_is_not_an_input():
    module = import_model(FIXTURES / "symbolic-symbol.json", input_shapes={"data": [2, 3, 8, 8]})
    (main,) = module.ops
    assert len(main.body.block.args) == 1


# --- input shapes ----------------------------------------------------------------------

def test_missing_input_shapes_name_the_inputs():
    with pytest.raises(ModelImportError, match=r"mlp-symbol\.json: MXNet symbols carry no input shapes.*"
                                               r"input\(s\) data.*--input-shapes data:"):
        import_model(FIXTURES / "mlp-symbol.json")


def test_unknown_input_shape_name():
    with pytest.raises(ModelImportError, match="unknown input.*images.*inputs are data"):
        import_model(FIXTURES / "mlp-symbol.json", input_shapes={"images": [1, 20]})


def test_shape_attribute_gives_the_input_shape(tmp_path):
    graph = json.loads((FIXTURES / "mlp-symbol.json").read_text())
    graph["nodes"][0].setdefault("attrs", {})["__shape__"] = "(2, 20)"
    symbol = tmp_path / "mlp-symbol.json"
    symbol.write_text(json.dumps(graph))
    module = import_mxnet(symbol, FIXTURES / "mlp-0000.params")
    assert "tensor<2x20xf32>" in str(module)


# --- unsupported operators: all at once, by node name -------------------------------------------

def _edited_ops_model(tmp_path: Path, edit) -> Path:
    graph = json.loads((FIXTURES / "ops-symbol.json").read_text())
    for node in graph["nodes"]:
        edit(node)
    symbol = tmp_path / "ops-symbol.json"
    symbol.write_text(json.dumps(graph))
    shutil.copy(FIXTURES / "ops-0000.params", tmp_path / "ops-0000.params")
    return symbol


def _break_two(node):
    if node["name"] == "ops_leakyrelu0":
        node["op"] = "Deconvolution"
    if node["name"] == "ops_pooling0":
        node["attrs"]["pool_type"] = "lp"
    if node["name"] == "ops_clip0":
        node["attrs"]["foo"] = "1"


def test_every_unsupported_node_is_listed_by_name(tmp_path):
    symbol = _edited_ops_model(tmp_path, _break_two)
    with pytest.raises(UnsupportedOperatorError) as info:
        import_model(symbol, input_shapes={"data": [2, 3, 16, 16]})
    names = [n for n, _, _ in info.value.nodes]
    assert names == ["ops_leakyrelu0", "ops_pooling0", "ops_clip0"]
    message = str(info.value)
    assert "3 unsupported node(s)" in message and "'ops_leakyrelu0' (Deconvolution)" in message
    assert "pool_type='lp'" in message and "attribute 'foo'" in message


def test_missing_shapes_and_unsupported_nodes_in_one_message(tmp_path):
    symbol = _edited_ops_model(tmp_path, _break_two)
    with pytest.raises(ModelImportError, match="no input shapes.*also 3 unsupported node.*ops_leakyrelu0"):
        import_model(symbol)


def test_a_full_convention_window_starting_in_the_padding_is_refused(tmp_path):
    def edit(node):
        if node["name"] == "ops_pooling0":
            node["attrs"].update(kernel="(4, 4)", stride="(4, 4)", pad="(3, 3)")
    with pytest.raises(UnsupportedOperatorError, match="'ops_pooling0' \\(Pooling\\): pooling_convention='full' "
                                                       "here makes a last window that starts in the padding"):
        import_model(_edited_ops_model(tmp_path, edit), input_shapes={"data": [2, 3, 16, 16]})


def test_several_heads_are_several_results(tmp_path):
    graph = json.loads((FIXTURES / "mlp-symbol.json").read_text())
    names = [n["name"] for n in graph["nodes"]]
    graph["heads"] = [[names.index("mlp_dense0_fwd"), 0, 0], *graph["heads"]]
    symbol = tmp_path / "two-symbol.json"
    symbol.write_text(json.dumps(graph))
    module = import_mxnet(symbol, FIXTURES / "mlp-0000.params", input_shapes={"data": [2, 20]})
    (main,) = module.ops
    assert [str(a) for a in main.function_type.outputs.data] == ["tensor<2x64xf32>", "tensor<2x10xf32>"]
    assert '"mlp_dense0_fwd_output"' in str(module) and '"mlp_dense2_fwd_output"' in str(module)


def test_same_model_same_neff():
    symbol, io = fixture("ops")
    shapes = {"data": list(io["data"].shape)}
    assert kaena.compile(symbol, input_shapes=shapes).to_bytes() == \
        kaena.compile(symbol, input_shapes=shapes).to_bytes()


def test_reducing_every_axis_leaves_shape_1(tmp_path):
    graph = json.loads((FIXTURES / "mlp-symbol.json").read_text())
    head = graph["heads"][0][0]
    graph["nodes"].append({"op": "sum", "name": "total", "inputs": [[head, 0, 0]]})
    graph["heads"] = [[len(graph["nodes"]) - 1, 0, 0]]
    symbol = tmp_path / "total-symbol.json"
    symbol.write_text(json.dumps(graph))
    module = import_mxnet(symbol, FIXTURES / "mlp-0000.params", input_shapes={"data": [2, 20]})
    assert str(module.ops.first.function_type.outputs.data[0]) == "tensor<1xf32>"


def test_list_operators_has_the_issue_set():
    ops = dict(list_operators("mxnet"))
    for op in ("Convolution", "FullyConnected", "BatchNorm", "Activation", "LeakyReLU", "Pooling",
               "elemwise_add", "_plus", "broadcast_add", "Flatten", "Reshape", "Concat", "Dropout",
               "softmax", "SoftmaxOutput", "clip", "_copy", "Cast"):
        assert op in ops
    assert "full" in ops["Pooling"] and "-4" in ops["Reshape"]


# --- the params file: locating, dtypes, layout versions, corruption -------------------------------

def test_a_symbol_finds_its_newest_params(tmp_path):
    shutil.copy(FIXTURES / "mlp-symbol.json", tmp_path / "mlp-symbol.json")
    (tmp_path / "mlp-0002.params").write_bytes(b"")
    (tmp_path / "mlp-0010.params").write_bytes(b"")
    (tmp_path / "mlp2-0099.params").write_bytes(b"")
    assert find_params(tmp_path / "mlp-symbol.json") == str(tmp_path / "mlp-0010.params")


def test_missing_params_says_what_to_do(tmp_path):
    shutil.copy(FIXTURES / "mlp-symbol.json", tmp_path / "mlp-symbol.json")
    with pytest.raises(ModelImportError, match=r"no mlp-NNNN\.params beside it; export the model"):
        import_model(tmp_path / "mlp-symbol.json", input_shapes={"data": [2, 20]})


def test_params_dtypes_as_mxnet_saved_them():
    params = read_params(FIXTURES / "dtypes.params")
    assert params["a"].dtype == np.int64 and np.array_equal(params["a"], np.arange(6).reshape(2, 3))
    assert params["b"].dtype == np.float16 and np.array_equal(params["b"], np.ones(2))
    assert params["c"].dtype == np.float64 and params["c"].tolist() == [1.5]


def _array(magic: int | None, shape, data: np.ndarray, flag: int = 0, stype: int | None = None) -> bytes:
    """One array in the documented layout (docs/mxnet-format.md)."""
    if magic is None:  # legacy: the magic is the ndim, u32 dims
        head = struct.pack(f"<I{len(shape)}I", len(shape), *shape)
    else:
        head = struct.pack("<I", magic)
        if stype is not None:
            head += struct.pack("<i", stype)
        head += struct.pack(f"<i{len(shape)}q", len(shape), *shape)
    return head + struct.pack("<iii", 1, 0, flag) + data.tobytes()


def _file(arrays: list[bytes], names: list[str]) -> bytes:
    out = struct.pack("<QQQ", 0x112, 0, len(arrays)) + b"".join(arrays) + struct.pack("<Q", len(names))
    return out + b"".join(struct.pack("<Q", len(n)) + n.encode() for n in names)


@pytest.mark.parametrize("magic, stype", [(V2_MAGIC, 0), (V3_MAGIC, 0), (V1_MAGIC, None), (None, None)])
def test_every_array_layout_version(magic, stype):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = model_params(_file([_array(magic, (2, 3), x, stype=stype)], ["arg:w"]))
    assert list(got) == ["w"] and np.array_equal(got["w"], x)


def test_mxnets_v3_layout():
    params = read_params(FIXTURES / "v3.params")
    assert np.array_equal(params["w"], np.arange(6).reshape(2, 3)) and params["s"].shape == ()
    assert params["s"] == 2.5


def test_a_v3_array_of_ndim_0_is_a_scalar():
    got = parse_params(_file([_array(V3_MAGIC, (), np.array(2.5, np.float32), stype=0)], ["s"]))
    assert got["s"].shape == () and got["s"] == 2.5
    with pytest.raises(ModelImportError, match="parameter 's' is an empty"):
        parse_params(_file([struct.pack("<Iii", V2_MAGIC, 0, 0)], ["s"]))  # V2 ndim 0: a none array


def test_bfloat16_arrays_widen_to_float32():
    bits = np.array([0x3F80, 0xC040], np.uint16)  # 1.0, -3.0
    got = parse_params(_file([_array(V2_MAGIC, (2,), bits, flag=12, stype=0)], ["w"]))
    assert got["w"].dtype == np.float32 and got["w"].tolist() == [1.0, -3.0]


@pytest.mark.parametrize("data, why", [
    (b"", "list magic needs 8 bytes"),
    (struct.pack("<QQ", 0x113, 0), "list magic is 0x113"),
    (struct.pack("<QQQ", 0x112, 0, 2**62), "array count 4611686018427387904 exceeds"),
    (_file([_array(V2_MAGIC, (2,), np.zeros(2, np.float32), stype=1)], ["w"]), "row_sparse"),
    (_file([_array(V2_MAGIC, (2,), np.zeros(2, np.float32), flag=99, stype=0)], ["w"]), "dtype flag 99"),
    (_file([_array(V2_MAGIC, (2,), np.zeros(2, np.float32), stype=0)], []), "have no names"),
    (_file([_array(V2_MAGIC, (2,), np.zeros(2, np.float32), stype=0)], ["a", "b"]), "2 names for 1 arrays"),
    (_file([_array(V2_MAGIC, (2,), np.zeros(2, np.float32), stype=0)], ["w"]) + b"x", "1 trailing bytes"),
    (_file([_array(V2_MAGIC, (2**40, 2**40), np.zeros(2, np.float32), stype=0)], ["w"]), "more elements"),
    (_file([_array(V2_MAGIC, (0, 2**40, 2**40), np.zeros(0, np.float32), stype=0)], ["w"]), "more elements"),
    (struct.pack("<QQQ", 0x112, 0, 1) + _array(V2_MAGIC, (4,), np.zeros(2, np.float32), stype=0),
     "array 0 data ([4] x float32) needs 16 bytes, 8 left"),
    (_file([struct.pack("<I", 0xDEADBEEF)], ["w"]), "unknown magic 0xDEADBEEF"),
])
def test_corrupt_params_are_refused_clearly(data, why):
    with pytest.raises(ModelImportError, match="not a valid MXNet .params file") as info:
        parse_params(data, "broken.params")
    assert why in str(info.value) and str(info.value).startswith("broken.params: ")


def _params_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}-0000.params").read_bytes()


def _import(symbol_text: str, params: dict, shape) -> None:
    graph = parse_symbol(symbol_text, "fuzz-symbol.json")
    Importer(graph, params, "fuzz-symbol.json", {"data": shape}, CONVERTERS).run()


_WORDS = (0, 1, 2, 12, 0x112, 0x7FFFFFFF, 0xFFFFFFFF, V1_MAGIC, V2_MAGIC)


def _fields(data: bytes) -> list[int]:
    """Offsets of the file's bookkeeping: the list header, every array header
    (magic to dtype), and the names at the end."""
    spots = list(range(24))
    at = data.find(struct.pack("<I", V2_MAGIC))
    while at >= 0:
        spots += range(at, at + 44)
        at = data.find(struct.pack("<I", V2_MAGIC), at + 4)
    names = parse_params(data)
    tail = 8 + sum(8 + len(n.encode()) for n in names)
    return spots + list(range(len(data) - tail, len(data)))


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["mlp", "symbolic"]), kind=st.sampled_from(["truncate", "flip", "word"]),
       rnd=st.randoms(use_true_random=False))
def test_broken_params_end_in_clean_errors(name, kind, rnd):
    """Truncated, bit-flipped and field-overwritten .params files: parsed and imported,
    or refused with a ModelImportError/KaenaError; never another exception."""
    data = bytearray(_params_bytes(name))
    fields = _fields(bytes(data))

    def where() -> int:  # mostly the bookkeeping, sometimes anywhere
        return rnd.choice(fields) if rnd.random() < 0.8 else rnd.randrange(len(data))

    if kind == "truncate":
        data = data[:where()]
    elif kind == "flip":
        for _ in range(rnd.randint(1, 8)):
            data[where()] ^= 1 << rnd.randrange(8)
    else:
        at = min(where(), len(data) - 4)
        data[at:at + 4] = struct.pack("<I", rnd.choice(_WORDS))
    try:
        params = model_params(bytes(data), "fuzz.params")
    except ModelImportError:
        return
    symbol, io = fixture(name)
    try:
        _import(symbol.read_text(), params, list(io["data"].shape))
    except KaenaError:
        pass


_NASTY = ("0", "-1", "()", "(0, 0)", "(1,)", "(3, -2)", "(99999, 99999)", "10**40", "1e400", "nan", "True",
          "", "abc", "[1, [2]]", "None", "(2, 2, 2)", "full", "same", "-4")


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["ops", "symbolic", "extras", "resnet_small"]), rnd=st.randoms(use_true_random=False))
def test_broken_symbols_end_in_clean_errors(name, rnd):
    """Attributes set to nonsense, inputs rewired, ops renamed, bytes flipped: a module or a KaenaError."""
    symbol, io = fixture(name)
    params = read_params(FIXTURES / f"{name}-0000.params")
    graph = json.loads(symbol.read_text())
    ops = [n for n in graph["nodes"] if n["op"] != "null"]
    for _ in range(rnd.randint(1, 3)):
        node = rnd.choice(ops)
        what = rnd.randrange(4)
        if what == 0 and node.get("attrs"):
            node["attrs"][rnd.choice(sorted(node["attrs"]))] = rnd.choice(_NASTY)
        elif what == 1 and node["inputs"]:
            node["inputs"][rnd.randrange(len(node["inputs"]))] = [rnd.randrange(len(graph["nodes"])),
                                                                   rnd.randrange(3), 0]
        elif what == 2:
            node["op"] = rnd.choice(sorted(CONVERTERS))
        else:
            node.setdefault("attrs", {})[rnd.choice(["kernel", "shape", "axis", "dim", "pad"])] = \
                rnd.choice(_NASTY)
    text = json.dumps(graph)
    if rnd.random() < 0.2:
        raw = bytearray(text.encode())
        raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        text = raw.decode("utf-8", "replace")
    try:
        _import(text, params, list(io["data"].shape))
    except KaenaError:
        pass


@pytest.mark.parametrize("text, why", [
    ("{", "bad JSON"),
    ("[]", "no 'nodes' and 'heads' lists"),
    ('{"nodes": [], "heads": []}', "no nodes"),
    ('{"nodes": [{"op": "relu", "name": "r", "inputs": [[1, 0, 0]]}, {"op": "null", "name": "x"}],'
     ' "heads": [[0, 0, 0]]}', "refers to node 1, not a node before it"),
    ('{"nodes": [{"op": "null", "name": "x", "attrs": {"a": 1}}], "heads": [[0, 0, 0]]}', "not a string"),
    ('{"nodes": [{"op": "null", "name": "x"}], "heads": [[3, 0, 0]]}', "head 0 refers to node 3"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
])
def test_corrupt_symbols_are_refused_clearly(text, why):
    with pytest.raises(ModelImportError, match="m-symbol.json: not a valid MXNet symbol file") as info:
        parse_symbol(text, "m-symbol.json")
    assert why in str(info.value)


# --- Reshape's special codes (MXNet's documented examples) -------------------------------------

@pytest.mark.parametrize("shape, spec, reverse, want", [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
])
def test_reshape_codes(shape, spec, reverse, want):
    assert mxnet_reshape(shape, spec, reverse) == want


@pytest.mark.parametrize("spec", [(5, -1), (-1, -1), (0, 0, 0, 0), (-4, 3, 3, -2), (-4, 2)])
def test_reshape_codes_that_do_not_fit(spec):
    with pytest.raises(ValueError):
        mxnet_reshape((2, 3, 4), spec)


# --- the tools ----------------------------------------------------------------------------------

def _tool(name: str) -> str:
    return shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)


def test_kaena_compile_detects_an_mxnet_symbol(tmp_path):
    assert detect_framework(FIXTURES / "mlp-symbol.json") == "mxnet"
    out = tmp_path / "mlp.neff"
    proc = subprocess.run([_tool("kaena-compile"), str(FIXTURES / "mlp-symbol.json"), "--input-shapes",
                           "data:2x20", "--auto-cast", "none", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _, io = fixture("mlp")
    result = kaena.load(str(out)).run({"data": io["data"]})
    assert error_metrics(result, {"mlp_dense2_fwd_output": io["output"]}).max_rel <= 1e-4


def test_kaena_compile_without_shapes_is_one_clean_line():
    proc = subprocess.run([_tool("kaena-compile"), str(FIXTURES / "mlp-symbol.json")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--input-shapes data:" in proc.stderr


def test_kaena_compile_lists_mxnet_operators():
    proc = subprocess.run([_tool("kaena-compile"), "--list-operators", "--framework", "mxnet"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# mxnet operators supported by kaena-compile")
    assert any(line.startswith("Pooling ") and "pooling_convention" in line for line in lines)
