"""Kaena's verification beyond xDSL's: SSA dominance wherever IR is verified (kaena-opt,
kaena-translate: tests/filecheck/tools/dominance-*.mlir; the driver: here), and each
pass's declared level (tests/filecheck/tools/pass-level.mlir)."""

import pytest
from xdsl.passes import ModulePass

import kaena
from kaena.passes import ALL_PASSES, PASS_ALIASES
from kaena.registry import LEVELS, PASS_LEVELS, check_pass_level, make_context
from kaena.testing import modelzoo


class _UseBeforeDef(ModulePass):
    """Breaks dominance on purpose: moves the first op that uses a result above its producer."""

    name = "use-before-def"

    def apply(self, ctx, op):
        for user in op.walk():
            producers = [o.owner for o in user.operands if hasattr(o.owner, "parent_block")
                         and getattr(o.owner, "parent", None) is user.parent]
            if producers:
                user.detach()
                producers[0].parent.insert_op_before(user, producers[0])
                return
        raise AssertionError("no op uses a result of its block")


@pytest.mark.parametrize("verify_each", [False, True])
def test_the_driver_checks_dominance(verify_each):
    with pytest.raises(kaena.KaenaError, match="is used before it is defined"):
        kaena.compile(modelzoo.mlp(batch=1), auto_cast="none", extra_passes=[_UseBeforeDef()],
                      extra_passes_stage="inferentia", verify_each=verify_each)


def test_every_pass_declares_its_level():
    assert set(PASS_LEVELS) == set(ALL_PASSES) | set(PASS_ALIASES)
    assert all(level is None or level in LEVELS for level in PASS_LEVELS.values())
    for alias, name in PASS_ALIASES.items():
        assert PASS_LEVELS[alias] == PASS_LEVELS[name]


def test_level_check_only_refuses_a_mismatch():
    from xdsl.parser import Parser

    ktensor = Parser(make_context(), """
      func.func @main(%c: tensor<4x8xf32>) -> tensor<4x8xf32> {
        %z = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
        func.return %z : tensor<4x8xf32>
      }""").parse_module()
    check_pass_level("ktensor-fuse-bias-activation", ktensor)  # nothing to fuse, but the right level
    check_pass_level("inf-set-target", ktensor)
    check_pass_level("a-plugin-pass", ktensor)  # undeclared: not checked
    with pytest.raises(kaena.KaenaError, match="run convert-tensor-to-inferentia first"):
        check_pass_level("inf-insert-semaphores", ktensor)
    only_func = Parser(make_context(), """
      func.func @main(%c: tensor<4x8xf32>) -> tensor<4x8xf32> {
        func.return %c : tensor<4x8xf32>
      }""").parse_module()
    check_pass_level("convert-tensor-to-inferentia", only_func)  # an identity is at both levels
    with pytest.raises(kaena.KaenaError, match="holds no fw, ktensor or inf op"):
        check_pass_level("inf-allocate-sram", only_func)
