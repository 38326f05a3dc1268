"""Compile memory: a model file's weights stay in the file until a pass reads them, the
store frees what no IR names, and the NEFF streams its weights to disk, all with the
same bytes out as the in-memory paths (docs/benchmarks.md, "Compile speed")."""

from __future__ import annotations

import gzip
import io
import tarfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena.driver import CompileOptions, CompileReport, pipeline_specs, referenced_weights
from kaena.errors import KaenaError, ModelImportError
from kaena.frontends import import_model
from kaena.frontends.onnx.initializers import LAZY_BYTES, read_model
from kaena.neff import layout
from kaena.neff.archive import header_bytes
from kaena.neff.container import archive_members
from kaena.testing import modelzoo
from kaena.weights import MappedArray, module_store


def reference_neff_bytes(neff, compress: bool) -> bytes:
    """The NEFF built wholly in memory (the writer before streaming): every member's bytes,
    one tar in a BytesIO, gzip of the whole tar."""
    members = archive_members(neff)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(members[name]), 0, 0o644, 0, 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(members[name]))
    archive = raw.getvalue()
    if compress:
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
            gz.write(archive)
        archive = out.getvalue()
    return header_bytes(archive, neff.name, neff.version, neff.compiler_version, neff.num_cores, neff.uuid) + archive


def npy_reference(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lenet_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mem") / "lenet.onnx"
    onnx.save(modelzoo.lenet(), path)
    return str(path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
def test_streamed_neff_is_byte_identical_to_the_in_memory_one(lenet_file, tmp_path, compress, auto_cast):
    neff = kaena.compile(lenet_file, auto_cast=auto_cast)
    want = reference_neff_bytes(neff, compress)
    assert neff.to_bytes(compress=compress) == want
    out = tmp_path / "m.neff"
    neff.save(str(out), compress=compress)
    assert out.read_bytes() == want
    assert kaena.Neff.load(str(out)).name == neff.name


def test_npy_members_match_numpy_save(lenet_file):
    neff = kaena.compile(lenet_file)
    members = archive_members(neff)
    files = [(sg, v) for sg in neff.subgraphs for v in sg.variables if v.kind == "file"]
    assert {v.dtype for _, v in files} >= {"bfloat16", "float32"}
    for k, sg in enumerate(neff.subgraphs):
        names = layout.file_names(sg.variables)
        for i, fname in names.items():
            v = sg.variables[i]
            arr = np.asarray(v.data).reshape(v.shape)
            arr = arr.view("<u2") if v.dtype == "bfloat16" else arr.astype(layout.NPY_STORAGE[v.dtype])
            assert members[f"sg{k:02d}/{fname}"] == npy_reference(arr)


def test_a_failed_save_leaves_no_file(lenet_file, tmp_path):
    neff = kaena.compile(lenet_file)
    neff.subgraphs[0].variables[0].dtype = "float64"
    with pytest.raises(KaenaError, match="has dtype 'float64'"):
        neff.save(str(tmp_path / "m.neff"))
    assert list(tmp_path.iterdir()) == []


def test_model_file_weights_stay_in_the_file(lenet_file):
    proto, mapped = read_model(lenet_file)
    big = [i for i, t in enumerate(onnx.load(lenet_file).graph.initializer)
           if numpy_helper.to_array(t).nbytes > LAZY_BYTES]
    assert big and sorted(mapped) == big
    for i in big:
        t = proto.graph.initializer[i]
        assert not t.raw_data and not t.float_data  # the proto holds no weight bytes
    module = import_model(lenet_file)
    store = module_store(module)
    entries = [store._arrays[n] for n in store]
    assert sum(isinstance(e, MappedArray) for e in entries) == len(big)
    arr = store[next(n for n in store if isinstance(store._arrays[n], MappedArray))]
    assert not arr.flags.writeable  # read-only: a pass cannot change the model file's weight


def test_lazy_file_import_compiles_like_the_in_memory_model(lenet_file):
    assert kaena.compile(lenet_file, auto_cast="none").to_bytes() == \
        kaena.compile(onnx.load(lenet_file), name="lenet", auto_cast="none").to_bytes()


def _two_layer_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((64, 32)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((32, 16)).astype(np.float32), "w2")
    b = numpy_helper.from_array(np.arange(16, dtype=np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])]
    graph = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16])], [w1, w2, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_external_data_is_mapped_not_loaded(tmp_path):
    model = _two_layer_model()
    want = kaena.compile(model, name="two", auto_cast="none").to_bytes()
    path = tmp_path / "two.onnx"
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="two.data",
              size_threshold=0)
    proto, mapped = read_model(str(path))
    assert len(mapped) == 3 and all(not t.raw_data for t in proto.graph.initializer)
    assert kaena.compile(str(path), auto_cast="none").to_bytes() == want


def test_external_data_outside_the_model_directory_is_refused(tmp_path):
    model = _two_layer_model()
    t = model.graph.initializer[0]
    data = t.raw_data
    (tmp_path / "w1.bin").write_bytes(data)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="../w1.bin")
    sub = tmp_path / "model"
    sub.mkdir()
    onnx.save(model, sub / "m.onnx")
    with pytest.raises(ModelImportError, match=r"m\.onnx: initializer 'w1': external data location '../w1.bin' "
                                               "is not a file inside the model's directory"):
        kaena.compile(str(sub / "m.onnx"))


def test_a_graph_split_over_two_fields_maps_every_initializer(tmp_path):
    """Protobuf merges repeated occurrences of a message field: the scan counts initializers
    across them, so each mapped array is the right one."""
    model = _two_layer_model()
    moved = model.graph.initializer.pop()  # "b" goes to a second graph field appended to the file
    w2 = model.graph.initializer.pop()
    extra = onnx.GraphProto()
    extra.initializer.extend([w2, moved])
    body = extra.SerializeToString()
    data = model.SerializeToString() + b"\x3a" + _varint(len(body)) + body  # field 7 (graph), length-delimited
    path = tmp_path / "split.onnx"
    path.write_bytes(data)
    assert [t.name for t in onnx.load(str(path)).graph.initializer] == ["w1", "w2", "b"]
    proto, mapped = read_model(str(path))
    assert [t.name for t in proto.graph.initializer] == ["w1", "w2", "b"]
    for i, t in enumerate(onnx.load(str(path)).graph.initializer):
        if i in mapped:
            np.testing.assert_array_equal(mapped[i].load(), numpy_helper.to_array(t))
    assert kaena.compile(str(path), name="two", auto_cast="none").to_bytes() == \
        kaena.compile(_two_layer_model(), name="two", auto_cast="none").to_bytes()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def test_an_initializer_short_of_its_dims_is_still_one_clear_line(tmp_path):
    model = _two_layer_model()
    model.graph.initializer[0].raw_data = model.graph.initializer[0].raw_data[:-4]
    path = tmp_path / "short.onnx"
    onnx.save(model, path)
    with pytest.raises(ModelImportError, match=r"short\.onnx: the model is invalid: initializer 'w1' does not "
                                               r"hold the 2048 values its dims \[64, 32\] need"):
        kaena.compile(str(path))


def test_a_model_file_cut_short_during_the_compile_is_one_clear_line(tmp_path):
    path = tmp_path / "two.onnx"
    onnx.save(_two_layer_model(), path)
    module = import_model(str(path))
    store = module_store(module)
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(KaenaError, match="two.onnx: the file was cut short while in use"):
        store["w1"]


def test_the_store_holds_only_what_the_compiled_module_names(lenet_file):
    report = CompileReport()
    kaena.compile(lenet_file, report=report)
    store = module_store(report.module)
    assert set(store) == referenced_weights(report.module)


def test_each_pass_spec_is_parsed_once(lenet_file, monkeypatch):
    from kaena import driver

    parsed: list[str] = []
    real = driver.PassPipeline.parse_spec

    def parse_spec(available, spec):
        parsed.append(spec)
        return real(available, spec)

    monkeypatch.setattr(driver.PassPipeline, "parse_spec", staticmethod(parse_spec))
    kaena.compile(lenet_file)
    specs = [s for stage in pipeline_specs(CompileOptions()).values() for s in stage]
    assert sorted(parsed) == sorted(specs)


@pytest.mark.parametrize("verify_each", [False, True])
def test_a_pipelined_compile_verifies_as_told(lenet_file, monkeypatch, verify_each):
    from xdsl.dialects.builtin import ModuleOp

    calls = []
    real = ModuleOp.verify

    def verify(self, *args, **kwargs):
        calls.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ModuleOp, "verify", verify)
    report = CompileReport()
    kaena.compile(lenet_file, pipeline_cores=2, verify_each=verify_each, report=report)
    passes = [n for n, _ in report.pass_seconds if n not in ("import", "verify", "pipeline-calibration", "encode-neff")]
    assert any(n.endswith("[1]") for n in passes)  # the second stage was lowered on its own
    if verify_each:
        assert len(calls) == len(passes)  # after every pass, on every stage
    else:
        assert len(calls) == 1  # once, at the end


def test_the_neff_owns_its_weights_once_the_compile_is_done(tmp_path):
    """Weights straight from the model file (FP32, no pass changed them) are copied into the
    Neff: rewriting or cutting the file afterwards changes nothing in it."""
    import mmap

    def views_a_file(arr) -> bool:
        base = arr
        while isinstance(base, np.ndarray):
            base = base.base
        return isinstance(getattr(base, "obj", base), mmap.mmap)

    path = tmp_path / "two.onnx"
    onnx.save(_two_layer_model(), path)
    module = import_model(str(path))
    assert views_a_file(module_store(module)["w1"])
    neff = kaena.compile(str(path), auto_cast="none")
    want = neff.to_bytes()
    assert not any(views_a_file(v.data) for sg in neff.subgraphs for v in sg.variables if v.data is not None)
    path.write_bytes(b"")  # the same inode, cut to nothing
    assert neff.to_bytes() == want


def test_compile_speed_prints_the_baseline_and_the_stages(lenet_file, tmp_path):
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "compile_speed.py"
    spec = importlib.util.spec_from_file_location("kaena_benchmarks_compile_speed_mem", path)
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    run = speed.run_child(sys.executable, speed._STAGES_CHILD, lenet_file, str(tmp_path / "l.neff"), 300)
    names = [name for name, _, _ in run["stages"]]
    assert names[:2] == ["imports", "import"] and names[-2:] == ["encode-neff", "save"]
    assert "ktensor-auto-cast" in names
    assert all(peak >= after > 0 for _, peak, after in run["stages"])
    assert max(peak for _, peak, _ in run["stages"]) <= run["peak_mib"] + 1
    text = speed.stages_table({"model": "lenet", "weights_mib": 0.2, "neff_mib": 0.1, **run})
    assert "| stage | peak RSS MiB | RSS after MiB |" in text and "| save |" in text
    assert 0 < speed.baseline_mib(300) <= run["peak_mib"] + 16
