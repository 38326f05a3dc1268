"""A short run of the IR fuzzing campaign (benchmarks/fuzz_ir.py): mutants of every FileCheck
input through kaena-opt (with the file's RUN-line options) and kaena-translate, in-process;
each must end in a result or one clean error, never a traceback, an internal error or a hang.
Plus the reproducers of what the 5,000-case campaign found, and a check that the harness
itself can fail."""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

FUZZ = Path(__file__).parents[1] / "benchmarks" / "fuzz_ir.py"


@pytest.fixture(scope="module")
def fuzz_ir():
    spec = importlib.util.spec_from_file_location("kaena_fuzz_ir", FUZZ)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["kaena_fuzz_ir"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_short_campaign_has_no_failures(fuzz_ir):
    tally = fuzz_ir.run_cases(seed_no=0, cases=150, seconds=20.0, lowered=4)
    assert tally.cases == 150
    assert tally.bad() == 0, tally.report("fuzz_ir failures", 0)
    # the mutants reach the passes: some are accepted, most are refused cleanly
    for tool in fuzz_ir.TOOLS:
        assert tally.by_tool[(tool, "clean error")] > 0
    assert tally.by_tool[("kaena-opt", "accepted")] > 0


def test_every_filecheck_input_is_a_seed(fuzz_ir):
    seeds = fuzz_ir.filecheck_seeds()
    assert len(seeds) == len(list((FUZZ.parents[1] / "tests" / "filecheck").rglob("*.mlir")))
    lowering = next(s for s in seeds if s.name == "conversions/tensor-to-inferentia-matmul.mlir")
    assert lowering.configs == [["-p", "convert-tensor-to-inferentia"]]
    split = next(s for s in seeds if s.name == "inferentia/invalid.mlir")
    assert ["--verify-diagnostics", "--parsing-diagnostics", "--split-input-file"] in split.configs


@pytest.mark.parametrize("text, message", [
    # a stray quote with no closing one on its line: xDSL's string regex backtracked exponentially
    ('func.func @main() {\n  func.return\n}\nxz"}]7nf.expr<1*d2>} : !inf.psum<64x200xf32>, !inf.sbuf<128x600xbf16>,'
     ' !inf.sbuf<128x600xbf16>, !inf.sbuf<128x600xbf16>\n', "before closing string literal"),
    # a hand-written epilogue longer than the chain of single users after the matmul
    ('func.func @main(%x: tensor<8x128xbf16>, %w: tensor<128x64xbf16>) -> tensor<8x64xf32> {\n'
     '  %m = ktensor.matmul %x, %w {kaena.plan.epilogue = 7 : i64, activation = "none"} : '
     '(tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>\n  func.return %m : tensor<8x64xf32>\n}\n',
     "kaena.plan.epilogue = 7, but its drain can write through at most 0"),
])
def test_found_by_the_campaign(fuzz_ir, tmp_path, text, message):
    path = tmp_path / "case.mlir"
    path.write_text(text)
    out = fuzz_ir.invoke("kaena-opt", [str(path), "-p", "convert-tensor-to-inferentia"], 20.0)
    assert out.kind == "clean error" and message in out.detail, out


def test_harness_reports_tracebacks_internal_errors_and_hangs(fuzz_ir, tmp_path, monkeypatch):
    import kaena.tools.kaena_opt_main as opt

    path = tmp_path / "ok.mlir"
    path.write_text("func.func @main() {\n  func.return\n}\n")
    assert fuzz_ir.invoke("kaena-opt", [str(path)], 20.0).kind == "accepted"
    monkeypatch.setattr(opt.KaenaOptMain, "run", lambda self: (_ for _ in ()).throw(IndexError("boom")))
    out = fuzz_ir.invoke("kaena-opt", [str(path)], 20.0)
    assert out.kind == "internal error" and out.signature.startswith("IndexError at "), out
    monkeypatch.setattr(opt.KaenaOptMain, "run", lambda self: (_ for _ in ()).throw(SystemExit(3)))
    assert fuzz_ir.invoke("kaena-opt", [str(path)], 20.0).kind == "traceback"
    monkeypatch.setattr(opt.KaenaOptMain, "run", lambda self: time.sleep(5))
    t0 = time.monotonic()
    assert fuzz_ir.invoke("kaena-opt", [str(path)], 0.2).kind == "hang"
    assert time.monotonic() - t0 < 4


def test_masks_are_sized_as_stored(fuzz_ir, tmp_path):
    # found by the campaign: an i1 (mask) value planned by the lowering (KeyError 'i1' in the
    # planner's element size); a mask is stored as kt.MASK_STORAGE, and this IR lowers
    path = tmp_path / "case.mlir"
    path.write_text(
        'func.func @main(%x: tensor<1x3x6x6xf32> {kaena.name = "x"}) -> (tensor<1x4x6x6xi1> {kaena.name = "y"}) {\n'
        '  %w = ktensor.weight "w" : tensor<4x3x3x3xf32>\n'
        '  %a = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, '
        'dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : '
        '(tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>\n'
        '  %c = ktensor.cast %a : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xi1>\n'
        '  %y = ktensor.activation "sigmoid" %c : (tensor<1x4x6x6xi1>) -> tensor<1x4x6x6xi1>\n'
        '  func.return %y : tensor<1x4x6x6xi1>\n}\n')
    out = fuzz_ir.invoke("kaena-opt", [str(path), "-p", "convert-tensor-to-inferentia"], 20.0)
    assert out.kind == "accepted", out


def test_a_traceback_is_its_header_not_the_word(fuzz_ir, tmp_path):
    # found by the campaign: a mutant holding the word "Traceback", echoed by a clean parse error
    path = tmp_path / "case.mlir"
    path.write_text("func.func @main() {\n  func.return\n}\n/4{3>7<):2ba,Traceback\n")
    out = fuzz_ir.invoke("kaena-translate", [str(path), "-o", str(tmp_path / "case.neff")], 20.0)
    assert out.kind == "clean error", out
