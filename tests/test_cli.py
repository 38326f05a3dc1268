"""The command-line tools as users run them: outputs, and clean one-line errors."""

from __future__ import annotations

import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


@pytest.fixture(scope="module")
def lenet_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "lenet.onnx"
    onnx.save(modelzoo.lenet(batch=1), str(path))
    return path


def test_compile_then_run_matches_onnxruntime(lenet_file, tmp_path):
    neff = tmp_path / "lenet.neff"
    proc = run("kaena-compile", str(lenet_file), "-o", str(neff), "--auto-cast", "none", "--time-passes")
    assert proc.returncode == 0, proc.stderr
    assert "SBUF peak" in proc.stdout and "convert-tensor-to-inferentia" in proc.stdout
    inputs = random_inputs(onnx.load(str(lenet_file)))
    np.savez(tmp_path / "in.npz", **inputs)
    out_path = tmp_path / "out.npz"
    proc = run("kaena-run", str(neff), "--inputs", str(tmp_path / "in.npz"), "--output", str(out_path))
    assert proc.returncode == 0, proc.stderr
    assert "cycles" in proc.stdout
    with np.load(out_path) as out:
        outputs = {k: out[k] for k in out.files}
    ref = run_onnxruntime(onnx.load(str(lenet_file)), inputs)
    assert error_metrics(outputs, ref).max_rel <= 1e-5


def test_unsupported_operators_are_listed_together(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("Acos", ["a"], ["b"], name="my_acos"),
        helper.make_node("Hardmax", ["b"], ["y"], name="my_hardmax"),
    ]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    out = tmp_path / "bad.neff"
    proc = run("kaena-compile", str(path), "-o", str(out))
    assert_clean_error(proc, "my_acos", "Acos", "my_hardmax", "Hardmax")
    assert not out.exists()


def test_corrupt_model_file(tmp_path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"\x08\x07garbage" * 10)
    out = tmp_path / "corrupt.neff"
    proc = run("kaena-compile", str(path), "-o", str(out))
    assert_clean_error(proc, "corrupt.onnx")
    assert not out.exists()


def test_bad_option_value(lenet_file):
    proc = run("kaena-compile", str(lenet_file), "--auto-cast", "sometimes")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "invalid choice: 'sometimes'" in proc.stderr


def test_run_with_wrong_input_name(lenet_file, tmp_path):
    neff = tmp_path / "m.neff"
    assert run("kaena-compile", str(lenet_file), "-o", str(neff), "-q").returncode == 0
    np.savez(tmp_path / "in.npz", not_the_input=np.zeros((1, 1, 28, 28), np.float32))
    out = tmp_path / "out.npz"
    proc = run("kaena-run", str(neff), "--inputs", str(tmp_path / "in.npz"), "--output", str(out))
    assert_clean_error(proc, "input")
    assert not out.exists()


def test_run_on_a_file_that_is_not_a_neff(tmp_path):
    bogus = tmp_path / "x.neff"
    bogus.write_bytes(b"not a neff at all")
    proc = run("kaena-run", str(bogus), "--inputs", str(bogus), "--output", str(tmp_path / "o.npz"))
    assert_clean_error(proc, "x.neff")


def test_translate_refuses_unallocated_ir(tmp_path):
    ir = tmp_path / "unalloc.mlir"
    ir.write_text(
        'inf.core 0 {\n'
        '  %x = inf.dram "input" "x" : !inf.dram<4x4xf32>\n'
        '  %t = inf.alloc : !inf.sbuf<4x4xf32>\n'
        '  inf.dma %t <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]>'
        ' : !inf.sbuf<4x4xf32>, !inf.dram<4x4xf32>\n'
        '}\n'
    )
    out = tmp_path / "o.neff"
    proc = run("kaena-translate", str(ir), "--target", "neff", "-o", str(out))
    assert_clean_error(proc)
    assert not out.exists()


def test_input_and_operator_problems_in_one_message(tmp_path):
    """A float64 input, an unsupported op and control flow: all named in one line."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    c = helper.make_tensor_value_info("c", TensorProto.DOUBLE, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    branch = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])])
    nodes = [
        helper.make_node("Acos", ["x"], ["a"], name="acos1"),
        helper.make_node("If", ["c"], ["b"], name="branch", then_branch=branch, else_branch=branch),
        helper.make_node("Add", ["a", "b"], ["y"], name="add"),
    ]
    model = helper.make_model(helper.make_graph(nodes, "g", [x, c], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "cf.onnx"
    onnx.save(model, str(path))
    proc = run("kaena-compile", str(path), "-o", str(tmp_path / "cf.neff"))
    assert_clean_error(proc, "input 'c' is double", "'acos1' (Acos)", "'branch' (If)", "control flow",
                       "partition the model")
    assert not (tmp_path / "cf.neff").exists()


def _giant_conv_model(path) -> None:
    """A Conv whose rows are far too wide for SBUF: [1, 3, 4, 200000]."""
    from onnx import numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 200000])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="giant_conv", pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "giant", [x], [y], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_compile_error_names_the_model_file(tmp_path):
    model = tmp_path / "giant.onnx"
    _giant_conv_model(model)
    proc = run("kaena-compile", str(model), "-o", str(tmp_path / "giant.neff"))
    assert_clean_error(proc, f"kaena-compile: error: {model}: ", "does not fit")


def test_compile_error_names_the_node_and_the_file(tmp_path):
    model = tmp_path / "giant.onnx"
    _giant_conv_model(model)
    proc = run("kaena-compile", str(model), "-o", str(tmp_path / "giant.neff"))
    assert_clean_error(proc, f"kaena-compile: error: {model}: ", "'giant_conv'")


def test_printed_compile_time_is_the_wall_time_to_the_neff_on_disk(lenet_file, tmp_path):
    """The figure covers every stage (import to the file written) and no more than the process's life."""
    import re
    import time

    t0 = time.perf_counter()
    proc = run("kaena-compile", str(lenet_file), "-o", str(tmp_path / "l.neff"), "--time-passes")
    process_wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    printed = float(re.search(r"\(lenet, ([0-9.]+) s\)", proc.stdout).group(1))
    stages = re.findall(r"^  (\S+)\s+([0-9.]+) ms$", proc.stdout, re.M)
    names = [n for n, _ in stages]
    assert names[0] == "import" and "write-neff" in names and "verify" in names
    stage_sum = sum(float(ms) for n, ms in stages if n != "total") / 1000
    assert stage_sum - 0.01 <= printed <= process_wall


def test_verify_each_and_no_progress_off_a_terminal(lenet_file, tmp_path):
    proc = run("kaena-compile", str(lenet_file), "-o", str(tmp_path / "l.neff"), "--verify-each", "--time-passes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the progress display is for terminals only
    assert "  verify " not in proc.stdout  # verified after each pass instead of once


@pytest.fixture(scope="module")
def mlp_neff(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlp")
    onnx.save(modelzoo.mlp(batch=1), str(d / "mlp.onnx"))
    proc = run("kaena-compile", str(d / "mlp.onnx"), "-o", str(d / "mlp.neff"), "-q")
    assert proc.returncode == 0, proc.stderr
    x = random_inputs(modelzoo.mlp(batch=1))["input"]
    return d / "mlp.neff", x


def test_run_refuses_a_bare_npy(mlp_neff, tmp_path):
    neff, x = mlp_neff
    np.save(tmp_path / "x.npy", x)
    assert_clean_error(run("kaena-run", str(neff), "--inputs", str(tmp_path / "x.npy"), "--output", str(tmp_path / "o.npz")),
                       "x.npy: holds a single unnamed array", "np.savez")


def test_run_checks_every_output_path_before_running(mlp_neff, tmp_path):
    neff, x = mlp_neff
    np.savez(tmp_path / "in.npz", input=x)
    out = tmp_path / "o.npz"
    for bad in ("/proc/kaena-stats.json", str(tmp_path)):
        proc = run("kaena-run", str(neff), "--inputs", str(tmp_path / "in.npz"), "--output", str(out), "--stats", bad)
        assert_clean_error(proc, bad)
        assert not out.exists()  # nothing half-written


@pytest.mark.parametrize("dtype, ok", [("float32", True), ("float16", True), ("int16", True), ("bool", True),
                                       ("float64", False), ("complex64", False)])
def test_run_casts_inputs_only_where_exact(mlp_neff, tmp_path, dtype, ok):
    neff, x = mlp_neff
    value = (x * 100).astype(dtype) if dtype == "int16" else (x > 0).astype(dtype) if dtype == "bool" else x.astype(dtype)
    if dtype == "float64":
        value = value + 1e-9  # not a float32 any more
    np.savez(tmp_path / "in.npz", input=value)
    proc = run("kaena-run", str(neff), "--inputs", str(tmp_path / "in.npz"), "--output", str(tmp_path / "o.npz"), "-q")
    if ok:
        assert proc.returncode == 0, proc.stderr
    else:
        assert_clean_error(proc, "input 'input' is float32")
