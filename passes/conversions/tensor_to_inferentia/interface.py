"""The op-family interface: what planning asks about a kind of ktensor op, and how it emits.

One class per family (``matmul.py``, ``dense_conv.py``, ...), registered in the
table at the bottom of ``convert_tensor_to_inferentia.py``. Planning never
tests op types: it asks the op's family. To add an operator, add a module with
a family and register it there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from xdsl.ir import Attribute, Operation, SSAValue

if TYPE_CHECKING:
    from .function import FunctionLowering
    from .planning import FunctionPlan
    from .slots import Slot
    from .views import View

Pads = tuple[int, int, int, int]
# (bytes, DMAs, table columns, bytes per element) of one bias DMA an op would issue itself
BiasUse = tuple[int, int, int, int]


class OpFamily:
    """A family of ktensor ops lowered by one module. The defaults describe an op
    that reads and writes DRAM only and fuses nothing."""

    op_types: ClassVar[tuple[type[Operation], ...]] = ()  # the ktensor ops it lowers

    def accepts(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether this family lowers ``op`` (families sharing an op type split it)."""
        return True

    # --- planning ------------------------------------------------------------------------------
    def fuses_cast(self, op: Operation) -> bool:
        """Whether ``op``'s last step is one rounding to its output dtype, so it can write a
        following ``ktensor.cast``'s result directly (the same numbers, no round trip)."""
        return False

    def nonnegative(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op``'s result is known >= 0 (zero padding may stand in for -inf)."""
        return False

    def can_write_resident(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether the lowering can write ``op``'s (4-D) result into a resident SBUF tile."""
        return False

    def can_read_resident(self, op: Operation, value: SSAValue, plan: FunctionPlan) -> bool:
        """Whether the lowering can read operand ``value`` from a resident SBUF tile."""
        return False

    def resident_padding(self, op: Operation) -> Pads:
        """The zero padding ``op`` reads around a resident input (stored with it)."""
        return (0, 0, 0, 0)

    def narrower_input_type(self, op: Operation, plan: FunctionPlan) -> Attribute | None:
        """An element type ``op``'s input may be stored in without changing its result."""
        return None

    def settle_residency(self, op: Operation, plan: FunctionPlan, resident: set[SSAValue]) -> bool:
        """Drop from ``resident`` the values ``op`` cannot have in that mix; True if any."""
        return False

    def scratch_bytes(self, op: Operation, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        """Bytes per partition of ``op``'s own tiles (within the per-op budgets), given
        the values that stay resident."""
        return 0 if plan.materialized(op) in resident else plan.budget.big

    def shrink_scratch(self, op: Operation, plan: FunctionPlan, resident: set[SSAValue], over: int,
                       spill_cycles: int) -> bool:
        """Give ``over`` bytes per partition of ``op``'s own tiles to the values live beside
        it, recording how, when that costs fewer modelled cycles than ``spill_cycles`` (what
        sending a live value to DRAM instead would); True if it did."""
        return False

    def epilogue_length(self, op: Operation, plan: FunctionPlan) -> int:
        """How many of the single users after ``op`` its lowering can write through (the
        ops of ``epilogues.py``: reshapes, transposes, a scale, a bias add, a cast)."""
        return 0

    def adds_residual(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op``'s drain can add a skip to its result and write the sum over the
        skip's place (``kaena.plan.residual_add``), resident in SBUF or in DRAM."""
        return False

    def fuses_input(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether the lowering can do the producer of ``op``'s first operand itself (on the
        input tiles it loads anyway), that producer having no other user."""
        return False

    def reads_through_transposes(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op`` can read an operand computed by a transpose (and reshapes) from the
        transpose's input with permuted strides (``kaena.plan.fuse_transposes``)."""
        return False

    def writes_slot(self, op: Operation, plan: FunctionPlan, slot: Slot) -> bool:
        """Whether ``op``'s drain can write its result straight into ``slot`` of a concat's
        (or its softmax's) result (``kaena.plan.slot_writers``, ``slots.py``)."""
        return False

    def bias_uses(self, op: Operation, plan: FunctionPlan) -> list[BiasUse]:
        """The bias DMAs ``op`` issues itself that a packed bias table would replace
        (what the table's price is compared with)."""
        return []

    def bias_weight(self, op: Operation) -> str | None:
        """The weight ``op`` would read from a bias table when the model has one."""
        return None

    def weight_blocks(self, op: Operation, plan: FunctionPlan) -> int:
        """How many column blocks ``op`` streams its weights in (1: one load it waits for)."""
        return 1

    def chains_output(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op`` can keep its result in SBUF for its one consumer to read directly."""
        return False

    def shares_input(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op`` can read the input tile an earlier op of its family loaded."""
        return False

    def head_tile(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op`` can drain its result into its attention block's q^T or k tile."""
        return False

    def head_tile_pays(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether it can, the cost model prices it faster and SBUF holds the tiles."""
        return False

    def token_major_result(self, op: Operation, plan: FunctionPlan) -> bool:
        """Whether ``op`` can keep its result in SBUF token-major for every reader (``token_tiles.py``)."""
        return False

    def band_plan(self, op: Operation, plan: FunctionPlan) -> tuple[int, int, int] | None:
        """(band rows, band buffers, PSUM buffers) of an op whose bands the cost model plans."""
        return None

    def row_group(self, op: Operation, plan: FunctionPlan) -> int | None:
        """Rows per partition per tile of an op over rows whose grouping the cost model plans."""
        return None

    def prefetch_anchors(self, op: Operation, plan: FunctionPlan) -> list[tuple[Operation, int]]:
        """(earlier op, K tiles) pairs: ``op``'s weight tiles loaded just before each of those
        ops (``kaena.plan.weight_prefetch``); none by default."""
        return []

    # --- emission ------------------------------------------------------------------------------
    def prefetch(self, fl: FunctionLowering, op: Operation, kt0: int, nk: int) -> None:
        """Emit K tiles [kt0, kt0 + nk) of ``op``'s weight loads ahead of ``op`` (see
        ``prefetch_anchors``)."""
        raise NotImplementedError

    def lower(self, fl: FunctionLowering, op: Operation) -> None:
        """Emit ``op``: its result's place (the function's output, a resident tile or DRAM
        scratch), then ``emit``. A fused cast's producer writes the cast's result; with a
        fused cast the engine rounds once to the destination dtype."""
        if fl.plan.is_absorbed(op):
            return
        assert len(op.results) == 1
        value = fl.plan.materialized(op)
        out = fl.destination(value)
        fl.views[value] = out
        fl.views[op.results[0]] = out
        self.emit(fl, op, out)

    def emit(self, fl: FunctionLowering, op: Operation, out: View) -> None:
        raise NotImplementedError


def family_of(op: Operation, plan: FunctionPlan) -> OpFamily | None:
    """The registered family lowering ``op``, None for an op no family lowers."""
    # the table sits at the bottom of the pass module, which imports the planning passes
    from .convert_tensor_to_inferentia import FAMILIES_BY_TYPE

    for family in FAMILIES_BY_TYPE.get(type(op), ()):
        if family.accepts(op, plan):
            return family
    return None
