"""What the planning passes and the emission know about one function, and the
planning passes' common shape (``PlanPass``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr, TensorType, i1
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue
from xdsl.passes import ModulePass

from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import NAME_ATTR, PIPELINE_ATTR, sources_of
from kaena.errors import CompileError
from kaena.isa import DType
from kaena.target import target_of
from kaena.target.costmodel import CostModel
from kaena.target.tiling import Budgets, resident_partitions
from kaena.weights import WEIGHTS_ATTR, WeightStore, module_store

from . import decisions as d

if TYPE_CHECKING:
    from .interface import OpFamily


def main_function(module: ModuleOp) -> func.FuncOp | None:
    """The function the lowering compiles: ``func.func @main``."""
    return next((f for f in module.ops if isinstance(f, func.FuncOp) and f.sym_name.data == "main"), None)


def io_names(attrs: ArrayAttr | None, n: int, prefix: str) -> list[str]:
    """The ``kaena.name`` of each argument or result, ``<prefix><i>`` when it has none."""
    names = []
    for i in range(n):
        name = None
        if attrs is not None and i < len(attrs.data):
            a = attrs.data[i]
            if isinstance(a, DictionaryAttr) and isinstance(a.data.get(NAME_ATTR), StringAttr):
                name = a.data[NAME_ATTR].data
        names.append(name if name is not None else f"{prefix}{i}")
    return names


def check_signature(fn: func.FuncOp) -> func.ReturnOp:
    """The function's return, after checking that it takes tensors and ends with one."""
    args = fn.body.block.args
    for arg, name in zip(args, io_names(fn.arg_attrs, len(args), "input")):
        if not isinstance(arg.type, TensorType):
            raise CompileError(f"function argument '{name}' has type {arg.type}; expected a tensor")
    ret = fn.body.block.last_op
    if not isinstance(ret, func.ReturnOp):
        raise CompileError(f"function @{fn.sym_name.data} does not end with func.return")
    return ret


def _direct_root(value: SSAValue) -> SSAValue | None:
    """The computed value a result can be written into directly: itself, or
    the source of a chain of single-use reshapes."""
    while True:
        owner = value.owner
        if not isinstance(owner, Operation) or isinstance(owner, kt.WeightOp):
            return None
        if isinstance(owner, kt.ReshapeOp):
            src = owner.input
            if not src.has_one_use():
                return None
            value = src
            continue
        return value


def direct_roots(ret: func.ReturnOp) -> dict[SSAValue, int]:
    """Computed value -> the function result it is written into directly (the first one)."""
    roots: dict[SSAValue, int] = {}
    for i, value in enumerate(ret.arguments):
        root = _direct_root(value)
        if root is not None and root not in roots:
            roots[root] = i
    return roots


def describe(op: Operation) -> str:
    """``'ktensor.conv2d' ([1, 3, 8, 8], [4, 3, 3, 3] -> [1, 4, 6, 6])`` for messages."""
    ins = ", ".join(str(list(v.type.get_shape())) for v in op.operands if isinstance(v.type, TensorType))
    outs = ", ".join(str(list(v.type.get_shape())) for v in op.results if isinstance(v.type, TensorType))
    return f"'{op.name}' ({ins} -> {outs})"


def nodes(names: tuple[str, ...]) -> str:
    """``node 'a'`` / ``nodes 'a', 'b'`` (as ``describe_sources``), empty without names."""
    if not names:
        return ""
    return ("node " if len(names) == 1 else "nodes ") + ", ".join(f"'{n}'" for n in names)


def itemsize(t: Attribute) -> int:
    """Device bytes of one element of type ``t`` (a mask's as stored, ``kt.MASK_STORAGE``)."""
    return DType.from_name(str(kt.MASK_STORAGE if t == i1 else t)).itemsize


class FunctionPlan:
    """One function's ops in order, its target and cost model, and the decisions
    recorded on it so far (read back from the ``kaena.plan.*`` attributes)."""

    def __init__(self, fn: func.FuncOp, module: ModuleOp):
        self.fn = fn
        self.module = module
        self.target = target_of(module)
        self.cm = CostModel(self.target)  # prices the performance decisions
        self.budget = Budgets.of(self.target)
        self.ret = check_signature(fn)
        self.ops = [op for op in fn.body.block.ops if op is not self.ret]
        self.order = {op: i for i, op in enumerate(self.ops)}
        self.direct = direct_roots(self.ret)
        # a NeuronCore Pipeline stage: its arguments and results cross cores (kaena.pipeline)
        self.pipelined = PIPELINE_ATTR in module.attributes
        # the weights, when the module names a store (the bias table is a derived weight)
        self.store: WeightStore | None = module_store(module) if WEIGHTS_ATTR in module.attributes else None
        self._absorbed: set[Operation] | None = None

    def family(self, op: Operation) -> OpFamily | None:
        from .interface import family_of

        return family_of(op, self)

    def pc(self, channels: int) -> int:
        return resident_partitions(self.target, channels)

    # --- decisions recorded so far -------------------------------------------------------
    def engine(self, op: Operation) -> str | None:
        return d.get_str(op, d.ENGINE_ATTR)

    def fused_cast(self, op: Operation) -> kt.CastOp | None:
        """The cast ``op`` writes directly (planned by ktensor-plan-fused-casts)."""
        if not d.has_flag(op, d.FUSE_CAST_ATTR):
            return None
        user = next(iter(op.results[0].uses)).operation
        assert isinstance(user, kt.CastOp), f"{d.FUSE_CAST_ATTR} on an op whose user is not a cast"
        return user

    def is_fused_cast(self, op: Operation) -> bool:
        """Whether ``op`` is a cast its producer writes (it emits nothing itself)."""
        return (isinstance(op, kt.CastOp) and isinstance(op.input.owner, Operation)
                and d.has_flag(op.input.owner, d.FUSE_CAST_ATTR))

    def epilogue(self, op: Operation) -> list[Operation]:
        """The chain of single users ``op`` writes through (``kaena.plan.epilogue``), in order."""
        chain: list[Operation] = []
        for _ in range(d.get_int(op, d.EPILOGUE_ATTR) or 0):
            v = (chain[-1] if chain else op).results[0]
            user = next(iter(v.uses)).operation if v.has_one_use() else None
            if user is None or not user.results or user.parent is not op.parent:
                break  # a hand-written length past the chain: ktensor-plan-epilogues reports it
            chain.append(user)
        return chain

    def is_absorbed(self, op: Operation) -> bool:
        """Whether ``op`` emits nothing itself: a fused cast, or an op of a producer's epilogue."""
        if self._absorbed is None:
            self._absorbed = {u for o in self.ops if d.EPILOGUE_ATTR in o.attributes for u in self.epilogue(o)}
            self._absorbed |= {i for o in self.ops if (i := self.fused_input(o)) is not None}
            self._absorbed |= {u for o in self.ops if d.FUSE_TRANSPOSES_ATTR in o.attributes
                               for chain in self.read_through(o) if chain for u in chain}
            self._absorbed |= {o for o in self.ops if d.SLOT_WRITERS_ATTR in o.attributes}
            self._absorbed |= {r[0] for o in self.ops if (r := self.residual_add(o)) is not None}
        return op in self._absorbed or self.is_fused_cast(op)

    def residual_add(self, op: Operation) -> tuple[kt.ElementwiseOp, SSAValue] | None:
        """(the add, the skip) of a conv whose drain adds the skip and writes the sum over
        it (``kaena.plan.residual_add``, planned by ktensor-plan-residual-adds); None for a
        flag written by hand on an op whose single user is no elementwise op (the pass
        reports it)."""
        if not d.has_flag(op, d.RESIDUAL_ADD_ATTR) or len(op.results) != 1 or not op.results[0].has_one_use():
            return None
        add = next(iter(op.results[0].uses)).operation
        if not isinstance(add, kt.ElementwiseOp):
            return None
        return add, (add.lhs if add.rhs is op.results[0] else add.rhs)

    def residual_skip(self, op: Operation) -> SSAValue | None:
        """The skip of ``op`` when it is a residual add a conv's drain does."""
        if not isinstance(op, kt.ElementwiseOp):
            return None
        for operand in op.operands:
            conv = operand.owner
            residual = self.residual_add(conv) if isinstance(conv, Operation) else None
            if residual is not None:
                return residual[1]
        return None

    def residual_sum(self, value: SSAValue) -> SSAValue | None:
        """The skip whose place ``value`` takes, when it is a residual add's sum done in place
        (stored in the skip's type: the add writes no narrower cast)."""
        owner = value.owner
        if not isinstance(owner, Operation) or self.fused_cast(owner) is not None:
            return None
        return self.residual_skip(owner)

    def fused_input(self, op: Operation) -> Operation | None:
        """The producer of ``op``'s first operand that ``op`` does itself
        (``kaena.plan.fuse_input``, planned by ktensor-plan-fused-inputs)."""
        if not d.has_flag(op, d.FUSE_INPUT_ATTR):
            return None
        owner = op.operands[0].owner
        assert isinstance(owner, Operation), f"{d.FUSE_INPUT_ATTR} on an op whose input is an argument"
        return owner

    def read_through(self, op: Operation) -> list[list[Operation] | None]:
        """Per operand of ``op`` (a concat): the single-use transpose and the reshapes after
        it that end in that operand, when ``op`` reads the transpose's input with permuted
        strides straight into its slot (``kaena.plan.fuse_transposes``), else None."""
        return [transposed_operand(self, v, op) for v in op.operands]

    def forget_absorbed(self) -> None:
        """Recompute ``is_absorbed`` after an epilogue decision changed."""
        self._absorbed = None

    def materialized(self, op: Operation) -> SSAValue:
        """The value ``op``'s lowering writes: its result, the cast's it is fused with, or
        the last value of its epilogue."""
        chain = self.epilogue(op)
        if chain:
            return chain[-1].results[0]
        residual = self.residual_add(op)
        if residual is not None:
            return self.materialized(residual[0])  # the sum, or its cast the add writes
        cast = self.fused_cast(op)
        return op.results[0] if cast is None else cast.result

    def resident_pads(self, value: SSAValue) -> tuple[int, int, int, int] | None:
        """The stored padding of a value planned resident in SBUF, None for DRAM (an argument
        of the function: as its ``arg_attrs`` record it)."""
        if isinstance(value, BlockArgument):
            pads = d.get_arg_ints(self.fn, value.index, d.RESIDENT_PLAN_ATTR) \
                if value.block is self.fn.body.block else None
        elif isinstance(value.owner, Operation):
            pads = d.get_ints(value.owner, d.RESIDENT_PLAN_ATTR)
        else:
            return None
        return None if pads is None else (pads[0], pads[1], pads[2], pads[3])

    def stored_type(self, value: SSAValue) -> Attribute:
        """The element type ``value`` is stored in (narrower when planned so)."""
        narrow = d.get_type(value.owner, d.STORE_TYPE_ATTR) if isinstance(value.owner, Operation) else None
        return narrow if narrow is not None else value.type.element_type

    # --- messages ---------------------------------------------------------------------------
    def sources(self, op: Operation) -> tuple[str, ...]:
        """The framework nodes ``op``'s lowering implements (with its fused cast's)."""
        cast = self.fused_cast(op) if op.results else None
        fused = ([cast] if cast is not None else []) + (self.epilogue(op) if op.results else [])
        fused += [i for i in (self.fused_input(op),) if i is not None]
        fused += [r[0] for r in (self.residual_add(op),) if r is not None]
        from .slots import slot_ops  # slots.py reads this module's plans

        fused += slot_ops(self, op)
        return sources_of(op) + tuple(n for f in fused for n in sources_of(f))

    def describe(self, op: Operation) -> str:
        names = nodes(self.sources(op))
        return f"{names} ({describe(op)})" if names else describe(op)

    def error(self, op: Operation, why: str) -> CompileError:
        return CompileError(f"cannot lower {self.describe(op)}: {why}")


@dataclass(frozen=True)
class PlanPass(ModulePass):
    """A planning pass: records one stage of decisions on ``@main``'s ktensor ops,
    after the stages it needs (run first when they have not run yet)."""

    stage: ClassVar[str]
    after: ClassVar[type["PlanPass"] | None] = None

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        fn = main_function(op)
        if fn is not None:
            self.ensure(fn, op)

    def ensure(self, fn: func.FuncOp, module: ModuleOp) -> None:
        """Plan this stage unless ``kaena.plan.done`` says it ran."""
        if self.after is not None:
            self.after().ensure(fn, module)
        if self.stage in d.stages_done(fn):
            return
        self.plan(FunctionPlan(fn, module))
        d.mark_done(fn, self.stage)

    def plan(self, plan: FunctionPlan) -> None:
        raise NotImplementedError


def transposed_operand(plan: FunctionPlan, v: SSAValue, concat: Operation) -> list[Operation] | None:
    """The transpose and reshapes (in order) that compute operand ``v`` of ``concat`` from
    a DRAM value, when each result has one use, is no function result and stays in DRAM,
    no epilogue writes them, and the reshapes keep the dims before the concat axis (the
    operand's slot is then contiguous per leading index, written row-major in the
    transposed shape); else None."""
    axis = concat.axis.value.data
    lead = tuple(v.type.get_shape())[:axis]
    chain: list[Operation] = []
    while True:
        owner = v.owner
        if not isinstance(owner, kt.TransposeOp | kt.ReshapeOp) or owner not in plan.order \
                or not v.has_one_use() or v in plan.direct or plan.resident_pads(v) is not None:
            return None
        chain.insert(0, owner)
        if isinstance(owner, kt.TransposeOp):
            break
        v = owner.input
    src = chain[0].input
    producer = src.owner
    if plan.resident_pads(src) is not None \
            or (isinstance(producer, Operation) and producer in plan.order and chain[0] in plan.epilogue(producer)):
        return None
    if tuple(chain[0].results[0].type.get_shape())[:axis] != lead:
        return None
    return chain
