"""The target: the one hardware description (``description``), the cost model
that prices instructions on it (``costmodel``) and the tiling arithmetic both
the cost model and the lowering share.

A compile records its target on the module once (``inf-set-target``, the
``kaena.target`` attribute, as xDSL's ``x86-set-arch`` records ``x86.arch``);
every pass, verifier and the NEFF encoder read it back with ``target_of``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaena.target.description import (
    GIB,
    INF1,
    KIB,
    MIB,
    TARGETS,
    InstanceType,
    NeuronCoreTarget,
    get_target,
)

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.ir import Operation

TARGET_ATTR = "kaena.target"
"""Name of the module attribute recording the target the module is compiled for."""

DEFAULT_TARGET = "inf1"


def target_of(op: Operation) -> NeuronCoreTarget:
    """The target recorded on ``op``'s enclosing module (``op`` itself if it is
    one); the default target when none is recorded, so hand-written IR needs no
    attribute. A recorded name that is not a known target is a ``KaenaError``."""
    from xdsl.dialects.builtin import ModuleOp, StringAttr

    from kaena.errors import KaenaError

    node: Operation | None = op
    while node is not None:
        if isinstance(node, ModuleOp):
            attr = node.attributes.get(TARGET_ATTR)
            if attr is not None:
                if not isinstance(attr, StringAttr):
                    raise KaenaError(f"module attribute {TARGET_ATTR} must be a string, got {attr}")
                return get_target(attr.data)
        node = node.parent_op()
    return get_target(DEFAULT_TARGET)


def set_target(module: ModuleOp, target: NeuronCoreTarget) -> None:
    """Record ``target`` on ``module``."""
    from xdsl.dialects.builtin import StringAttr

    module.attributes[TARGET_ATTR] = StringAttr(target.name)


__all__ = [
    "DEFAULT_TARGET",
    "GIB",
    "INF1",
    "KIB",
    "MIB",
    "TARGETS",
    "TARGET_ATTR",
    "InstanceType",
    "NeuronCoreTarget",
    "get_target",
    "set_target",
    "target_of",
]
