"""The allocation check (kaena.simulator.allocation): two tiles placed on the same bytes
while one is live are caught by kaena-run and by kaena-neff verify, with no reference
run, naming both instructions; hazard-free overlaps included (the same DMA queue, the
same engine), which the hazard check cannot see."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import IntegerAttr, i64

import kaena
from kaena.codegen import emit_neff
from kaena.dialects.inferentia import AllocOp
from kaena.driver import CompileOptions, lower
from kaena.errors import NeffError
from kaena.neff.allocation import ALLOCATION_KEY, allocation_tables
from kaena.simulator import simulate
from kaena.simulator.allocation import check_allocation
from kaena.simulator.hazards import TileOverlapError
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, run_onnxruntime
from kaena.weights import module_store


def conv_relu_model():
    """A conv whose four output chunks each read the same bias tile."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "W", "B"], ["h"], name="conv", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["h"], ["y"], name="relu")],
        "conv_relu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 32, 32])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def allocs(module) -> dict[str, AllocOp]:
    """The first alloc of each name (the printer calls the later ones %o_t_1, ...)."""
    found: dict[str, AllocOp] = {}
    for op in module.walk():
        if isinstance(op, AllocOp):
            found.setdefault(op.result.name_hint, op)
    return found


def place(alloc: AllocOp, partition: int, offset: int) -> None:
    alloc.properties["partition"] = IntegerAttr(partition, i64)
    alloc.properties["offset"] = IntegerAttr(offset, i64)


def encode(module, name: str):
    return emit_neff(module, module_store(module), name=name, compiler_version="kaena-test")


def bias_on_weights(module) -> None:
    """The bias tile onto the weight tile: the same DMA queue writes both, in order."""
    a = allocs(module)
    place(a["b_t"], a["w_t"].partition.value.data, a["w_t"].offset.value.data)


def output_on_bias(module) -> None:
    """The first activation output tile over the bias table: its second chunk overwrites
    the bias, which the next output tile's activations still read."""
    a = allocs(module)
    place(a["b_t"], 64, 1024)  # somewhere free, then the output onto it
    place(a["o_t"], 64, 0)


CASES = {
    "bias-on-weights": (bias_on_weights, r"pe instruction \d+ \(LOAD_STATIONARY\) reads in0 .* as tile #\d+ %w_t.* "
                        r"last written by dma instruction 3 \(DMA\) for tile #\d+ %b_t"),
    "output-on-bias": (output_on_bias, r"act instruction \d+ \(ACTIVATE\) reads in1 .* as tile #\d+ %b_t.* "
                       r"last written by act instruction \d+ \(ACTIVATE\) for tile #\d+ %o_t"),
}


@pytest.fixture(scope="module")
def model():
    return conv_relu_model()


def lowered(model):
    return lower(model, CompileOptions(auto_cast="none"))


def test_the_unmutated_model_passes_and_matches(model):
    neff = encode(lowered(model), "ok")
    assert check_allocation(neff).tiles == len(allocation_tables(neff)[0].tiles) > 0
    x = np.random.default_rng(1).standard_normal((1, 16, 32, 32)).astype(np.float32)
    out = simulate(neff, {"x": x}).outputs
    assert error_metrics(out, run_onnxruntime(model, {"x": x})).max_rel <= 1e-5


@pytest.mark.parametrize("case", sorted(CASES))
def test_overlap_is_caught_in_process(model, case):
    mutate, pattern = CASES[case]
    module = lowered(model)
    mutate(module)
    neff = encode(module, case)
    x = np.random.default_rng(1).standard_normal((1, 16, 32, 32)).astype(np.float32)
    # the overlap is real: without the table (no check) the numbers are wrong, and no hazard is raised
    blind = encode(module, case)
    del blind.metadata[ALLOCATION_KEY]
    wrong = simulate(blind, {"x": x}).outputs
    assert error_metrics(wrong, run_onnxruntime(model, {"x": x})).max_rel > 1e-3
    with pytest.raises(TileOverlapError, match=pattern):
        simulate(neff, {"x": x})
    with pytest.raises(TileOverlapError, match=pattern):
        check_allocation(neff)


def _tool(module: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_overlap_is_caught_by_the_tools(model, case, tmp_path):
    mutate, pattern = CASES[case]
    module = lowered(model)
    mutate(module)
    path = tmp_path / f"{case}.neff"
    encode(module, case).save(str(path))
    np.savez(tmp_path / "in.npz", x=np.ones((1, 16, 32, 32), np.float32))
    runs = {
        "kaena-run": _tool("kaena.tools.kaena_run_main", path, "--inputs", tmp_path / "in.npz",
                           "--output", tmp_path / "out.npz"),
        "kaena-neff": _tool("kaena.tools.kaena_neff_main", "verify", path),
    }
    for tool, proc in runs.items():
        assert proc.returncode == 1, (tool, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{tool}: error: "), proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        import re

        assert re.search(pattern, lines[0]), lines[0]
        assert "allocation check" in lines[0]
    assert not (tmp_path / "out.npz").exists()


def test_verify_reports_the_check_on_a_compiled_model(tmp_path):
    path = tmp_path / "lenet.neff"
    kaena.compile(modelzoo.lenet(), auto_cast="none").save(str(path))
    proc = _tool("kaena.tools.kaena_neff_main", "verify", path)
    assert proc.returncode == 0, proc.stderr
    assert "allocation check passed (" in proc.stdout


def test_the_table_is_one_row_per_tile_and_per_static_instruction():
    neff = kaena.compile(modelzoo.resnet50(image=64, num_classes=10), auto_cast="none")
    table = neff.metadata[ALLOCATION_KEY]["subgraphs"][0]
    records = sum(len(neff.subgraphs[0].stream(e)) for e in neff.subgraphs[0].streams)
    assert len(table["operands"]) < records / 4  # loops unrolled by the encoder share one row
    assert len(json.dumps(table)) < 200 * (len(table["tiles"]) + len(table["operands"]))


def test_a_malformed_table_is_one_clean_error():
    neff = kaena.compile(modelzoo.mlp(), auto_cast="none")
    x = {"input": np.zeros((4, 784), np.float32)}
    good = neff.metadata[ALLOCATION_KEY]
    for bad, why in [
        ({"subgraphs": []}, "one entry per subgraph"),
        ({"subgraphs": [{"tiles": [["sbuf", 0, 129, 0, 4, "t"]], "operands": []}]}, "outside the core"),
        ({"subgraphs": [{"tiles": good["subgraphs"][0]["tiles"], "operands": [[0, 99, -1, -1]]}]}, "tiles in"),
        ({"subgraphs": [{"tiles": good["subgraphs"][0]["tiles"], "operands": []}]}, "names no .* tile"),
    ]:
        neff.metadata[ALLOCATION_KEY] = bad
        with pytest.raises(NeffError, match=why):
            simulate(neff, x)
    neff.metadata[ALLOCATION_KEY] = good
    simulate(neff, x)
