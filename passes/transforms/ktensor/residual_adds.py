"""Which residual adds a dense conv's PSUM drain can do in place.

``skip + conv(x)`` (a ResNet block's end) stores three values at once: the skip, the
conv's result and their sum. When nothing else reads the conv's result and the add is
the skip's last reader (none between the conv and the add), the conv's drain can add
each PSUM tile to the skip's and write the sum over the skip: the conv's result is never
stored and the sum takes the skip's place. ``ktensor-split-batch`` counts SBUF by this,
``ktensor-plan-residual-adds`` records it (``kaena.plan.residual_add``)."""

from __future__ import annotations

from collections.abc import Mapping

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt

_FLOATS = ("f32", "bf16", "f16")


def in_place_residual(add: Operation, order: Mapping[Operation, int]) -> tuple[kt.Conv2dOp, SSAValue] | None:
    """(conv, skip) when ``add`` (an op of the block ``order`` numbers) is ``skip + conv``
    that the conv's drain can do over the skip: a 4-D float add of two values of its own
    shape and type, with an activation the drain applies; the conv dense (one group),
    with no activation of its own and the add its only reader; the skip made by an op
    before the conv and read by nothing from the conv on but the add (no reader outside
    ``order`` either: a function result is read by the return)."""
    if not isinstance(add, kt.ElementwiseOp) or add.kind.data != "add" \
            or add.activation.data not in kt.PIECEWISE_LINEAR_ACTIVATIONS:
        return None
    t = add.result.type
    if not isinstance(t, TensorType) or len(t.get_shape()) != 4 or str(t.element_type) not in _FLOATS \
            or add.lhs.type != t or add.rhs.type != t or add.lhs is add.rhs:
        return None
    for conv_value, skip in ((add.rhs, add.lhs), (add.lhs, add.rhs)):
        conv = conv_value.owner
        if not (isinstance(conv, kt.Conv2dOp) and conv.groups.value.data == 1 and conv.activation.data == "none"
                and conv_value.has_one_use() and conv in order):
            continue
        producer = skip.owner
        if not isinstance(producer, Operation) or order.get(producer, order[conv]) >= order[conv]:
            continue
        if all(u.operation is add or order.get(u.operation, order[conv]) < order[conv] for u in skip.uses):
            return conv, skip
    return None
