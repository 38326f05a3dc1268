"""The custom-pass example of docs/custom-passes.md, through kaena.compile
(kaena-opt is covered by tests/filecheck/plugins)."""

from pathlib import Path

import onnx
import pytest
from xdsl.passes import ModulePass

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime

PLUGIN = Path(__file__).parents[1] / "docs" / "examples" / "strip_output_softmax.py"


def _without_final_softmax(model: onnx.ModelProto) -> onnx.ModelProto:
    """The reference: the same ONNX graph returning the softmax's input."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    out = m.graph.output[0]
    (softmax,) = [n for n in m.graph.node if n.op_type == "Softmax" and n.output[0] == out.name]
    m.graph.node.remove(softmax)
    for n in m.graph.node:
        for i, name in enumerate(n.output):
            if name == softmax.input[0]:
                n.output[i] = out.name
    return m


def test_plugin_pass_runs_in_kaena_compile():
    model = modelzoo.mlp(batch=2)
    inputs = random_inputs(model)
    neff = kaena.compile(model, auto_cast="none", pass_plugins=[str(PLUGIN)],
                         extra_passes=["strip-output-softmax"])
    assert "strip-output-softmax" in neff.metadata["passes"]
    logits = kaena.load(neff).run(inputs)
    ref = run_onnxruntime(_without_final_softmax(model), inputs)
    assert error_metrics(logits, ref).max_rel <= 1e-5
    # and it really changed the result: probabilities differ from logits
    probs = run_onnxruntime(model, inputs)
    assert error_metrics(logits, probs).max_rel > 0.1


def test_registered_pass_instance_runs():
    kaena.load_pass_plugin(str(PLUGIN))
    from kaena.registry import all_passes

    pass_cls = all_passes()["strip-output-softmax"]()
    neff = kaena.compile(modelzoo.mlp(batch=1), auto_cast="none", extra_passes=[pass_cls()])
    assert "strip-output-softmax" in neff.metadata["passes"]


def test_bad_plugin_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad_plugin.py"
    bad.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(kaena.KaenaError, match="bad_plugin.py: the pass plugin failed to import"):
        kaena.load_pass_plugin(str(bad))
    empty = tmp_path / "empty_plugin.py"
    empty.write_text("x = 1\n")
    with pytest.raises(kaena.KaenaError, match="defines no ModulePass"):
        kaena.load_pass_plugin(str(empty))


class _DropReturn(ModulePass):
    """Breaks the IR on purpose: a tile allocated past the end of the State Buffer."""

    name = "drop-return"

    def apply(self, ctx, op):
        from xdsl.dialects.builtin import IntegerAttr, i64

        from kaena.dialects.inferentia import AllocOp

        alloc = next(o for o in op.walk() if isinstance(o, AllocOp))
        alloc.properties["offset"] = IntegerAttr(1 << 40, i64)


@pytest.mark.parametrize("verify_each", [False, True])
def test_a_pass_that_breaks_the_ir_is_an_internal_error(verify_each):
    with pytest.raises(kaena.KaenaError) as e:
        kaena.compile(modelzoo.mlp(batch=1), auto_cast="none", extra_passes=[_DropReturn()],
                      extra_passes_stage="inferentia", verify_each=verify_each)
    if verify_each:
        assert "internal error in pass 'drop-return'" in str(e.value)
    else:
        assert "fails verification" in str(e.value) and "--verify-each" in str(e.value)
