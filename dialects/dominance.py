"""SSA dominance, which xDSL's verifier does not check: every operand must be
defined before its use, in the same block or one that encloses (or, across the
blocks of one region, dominates) it. xDSL's parser accepts forward references,
so without this a use before its definition reaches the passes, which assume it
cannot happen. One walk over the IR: each value becomes visible when defined
and stops being visible when its block has been walked.
"""

from __future__ import annotations

from itertools import count

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, Region, SSAValue
from xdsl.irdl.dominance import DominanceInfo
from xdsl.traits import IsolatedFromAbove
from xdsl.utils.exceptions import VerifyException


def verify_ir(module: ModuleOp) -> None:
    """xDSL's verifier (operations, types, attributes), then dominance."""
    module.verify()
    verify_dominance(module)


def verify_dominance(root: Operation) -> None:
    """Raise a one-line VerifyException naming the first op that uses a value its
    position cannot see. Linear in the IR (a multi-block region also builds its
    dominator tree, which Kaena's IR never needs)."""
    _Walker().op(root, scope=0)


class _Walker:
    def __init__(self) -> None:
        self.visible: dict[SSAValue, int] = {}  # value -> scope (an isolated region starts a new one)
        self.scopes = count(1)

    def op(self, op: Operation, scope: int) -> None:
        for i, operand in enumerate(op.operands):
            if self.visible.get(operand) != scope:
                raise VerifyException(_not_visible(op, i, operand))
        inner = next(self.scopes) if op.has_trait(IsolatedFromAbove) else scope
        for region in op.regions:
            self.region(region, inner)

    def region(self, region: Region, scope: int) -> None:
        blocks = list(region.blocks)
        if len(blocks) == 1:
            self.block(blocks[0], scope, {})
        elif blocks:
            self.block_tree(blocks, scope)

    def block_tree(self, blocks: list[Block], scope: int) -> None:
        """Walk a CFG region in dominator-tree order: a block sees the values of its dominators."""
        info = DominanceInfo(blocks[0].parent)
        children: dict[Block, list[Block]] = {b: [] for b in blocks}
        roots = []
        for b in blocks:
            strict = [d for d in blocks if info.strictly_dominates(d, b)]
            if strict:  # the immediate dominator is the one every other strict dominator dominates
                children[max(strict, key=lambda d: len([x for x in strict if info.dominates(x, d)]))].append(b)
            else:
                roots.append(b)
        for b in roots:
            self.block(b, scope, children)

    def block(self, block: Block, scope: int, children: dict[Block, list[Block]]) -> None:
        defined: list[SSAValue] = list(block.args)
        for arg in block.args:
            self.visible[arg] = scope
        for op in block.ops:
            self.op(op, scope)
            for result in op.results:
                self.visible[result] = scope
            defined += op.results
        for child in children.get(block, ()):
            self.block(child, scope, children)
        for value in defined:
            del self.visible[value]


def _not_visible(op: Operation, index: int, value: SSAValue) -> str:
    """Why ``op`` cannot use ``value``: defined later in a block that holds the use,
    or inside a region (or block) that does not enclose it."""
    what = f"'{op.name}' operand #{index} ({_describe(value)})"
    home = value.owner if isinstance(value, BlockArgument) else value.owner.parent
    if not isinstance(value, BlockArgument | OpResult) or home is None:
        return f"{what} is not defined in this IR"
    enclosing: list[Block] = []
    b = op.parent
    while b is not None:
        enclosing.append(b)
        parent_op = b.parent_op()
        b = parent_op.parent if parent_op is not None else None
    if home in enclosing:
        return f"{what} is used before it is defined"
    owner = home.parent_op()
    inside = f"inside '{owner.name}'" if owner is not None else "in a detached block"
    return f"{what} is defined {inside}, in a region or block that does not enclose or dominate this use"


def _describe(value: SSAValue) -> str:
    if value.name_hint:
        return f"%{value.name_hint}"
    if isinstance(value, OpResult):
        return f"result #{value.index} of '{value.owner.name}'"
    if isinstance(value, BlockArgument):
        return f"block argument #{value.index}"
    return "a value"
