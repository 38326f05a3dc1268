"""``ktensor-extract-stage{stage=k}``: keep only pipeline stage k of ``@main``.

After ``ktensor-partition-pipeline``, each stage is compiled on its own (the
single-core lowering, then ``convert-tensor-to-inferentia{core=k}``). The stage's
function takes the model inputs it reads and the values earlier stages send it,
and returns the model outputs it makes and the values later stages read; a value
that crosses cores is named ``pipe.<index>.<name>.s<stage>`` (its producer's position in
``@main``, the receiving stage), the same on both sides, so ``inf-connect-pipeline`` can join them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, FunctionType, ModuleOp, StringAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import NAME_ATTR
from kaena.errors import CompileError

from .ktensor_partition_pipeline import main_of, pipeline_cores, stage_of


def crossing_name(index: int, value: SSAValue, to_stage: int) -> str:
    """The variable of ``value`` (made by op ``index`` of ``@main``) that stage ``to_stage`` reads."""
    return f"pipe.{index}.{value.name_hint or 'v'}.s{to_stage}"


def _io_name(attrs, i: int, prefix: str) -> str:
    if attrs is not None and i < len(attrs.data):
        a = attrs.data[i]
        if isinstance(a, DictionaryAttr) and isinstance(a.data.get(NAME_ATTR), StringAttr):
            return a.data[NAME_ATTR].data
    return f"{prefix}{i}"


@dataclass(frozen=True)
class KtensorExtractStagePass(ModulePass):
    """Replace ``@main`` by the function of pipeline stage ``stage``."""

    name: ClassVar[str] = "ktensor-extract-stage"

    stage: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        cores = pipeline_cores(op)
        if not 0 <= self.stage < cores:
            raise CompileError(f"ktensor-extract-stage: stage {self.stage} is not one of the {cores} stages")
        fn = main_of(op)
        block = fn.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)
        index = {o: i for i, o in enumerate(block.ops)}
        mine = [o for o in block.ops if stage_of(o) == self.stage and not isinstance(o, kt.WeightOp)]
        mine_set = set(mine)
        arg_names = {a: _io_name(fn.arg_attrs, i, "input") for i, a in enumerate(block.args)}
        # inputs: model inputs read here, then values sent by earlier stages (program order)
        inputs: list[tuple[SSAValue, str]] = []
        weights: list[Operation] = []
        seen: set = set()
        for o in mine:
            for v in o.operands:
                if v in seen:
                    continue
                owner = v.owner
                if isinstance(owner, Operation) and owner in mine_set:
                    continue
                seen.add(v)
                if isinstance(owner, kt.WeightOp):
                    weights.append(owner)
                elif isinstance(owner, Operation):
                    inputs.append((v, crossing_name(index[owner], v, self.stage)))
                else:
                    inputs.append((v, arg_names[v]))
        inputs.sort(key=lambda p: (isinstance(p[0].owner, Operation), index.get(p[0].owner, -1)
                                   if isinstance(p[0].owner, Operation) else block.args.index(p[0])))
        # outputs: the model outputs made here, then values later stages read
        outputs: list[tuple[SSAValue, str]] = []
        for i, v in enumerate(ret.arguments):
            if isinstance(v.owner, Operation) and v.owner in mine_set:
                outputs.append((v, _io_name(fn.res_attrs, i, "output")))
        for o in mine:
            for v in o.results:
                later = {stage_of(u.operation) for u in v.uses} - {None}
                for k in sorted(s for s in later if s > self.stage):  # one variable per receiving core
                    outputs.append((v, crossing_name(index[o], v, k)))
        new_block = Block(arg_types=[v.type for v, _ in inputs])
        mapping: dict[SSAValue, SSAValue] = {}
        for (v, name), arg in zip(inputs, new_block.args):
            mapping[v] = arg
            arg.name_hint = v.name_hint
        for w in sorted(weights, key=index.__getitem__):
            new_block.add_op(w.clone(value_mapper=mapping))
        for o in mine:
            new_block.add_op(o.clone(value_mapper=mapping))
        new_block.add_op(func.ReturnOp(*[mapping[v] for v, _ in outputs]))
        new_fn = func.FuncOp(
            "main",
            FunctionType.from_lists([v.type for v, _ in inputs], [v.type for v, _ in outputs]),
            Region(new_block),
            arg_attrs=_names(n for _, n in inputs),
            res_attrs=_names(n for _, n in outputs),
        )
        op.body.block.insert_op_before(new_fn, fn)
        fn.detach()
        fn.erase()


def _names(names):
    from xdsl.dialects.builtin import ArrayAttr

    return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in names])
