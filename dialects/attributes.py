"""The names of the discardable attributes Kaena's IR carries, in one place.

Module: ``kaena.weights`` (the weight store), ``kaena.target`` (the target),
``kaena.model_name``. Function arguments and results: ``kaena.name`` (the
model's input/output names). Ops: ``kaena.source`` (the framework nodes an op
implements), ``kaena.resident`` (an ``inf.alloc`` tile that stays in SBUF),
and on an ``inf.core`` the allocator's peaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xdsl.dialects.builtin import ArrayAttr, StringAttr
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.traits import ConstantLike

from kaena.target import TARGET_ATTR
from kaena.weights import WEIGHTS_ATTR

MODEL_NAME_ATTR = "kaena.model_name"
NAME_ATTR = "kaena.name"
SOURCE_ATTR = "kaena.source"
RESIDENT_ATTR = "kaena.resident"
# On an inf.dram model input or output of rank 0: its DRAM buffer is [1], its NEFF tensor shape ().
SCALAR_ATTR = "kaena.scalar"
# On a ktensor.matmul that is not a model contraction (Resize's interpolation matrices):
# --auto-cast matmult leaves it FP32, as a faithful emulation of the model does.
KEEP_FP32_ATTR = "kaena.keep_fp32"
SBUF_PEAK_ATTR = "kaena.sbuf_peak_bytes"
PSUM_PEAK_ATTR = "kaena.psum_peak_bytes"
# On a pipelined module (ktensor-partition-pipeline's plan): each stage's weights may stay resident.
PIPELINE_ATTR = "kaena.pipeline"

__all__ = [
    "PIPELINE_ATTR",
    "MODEL_NAME_ATTR",
    "NAME_ATTR",
    "PSUM_PEAK_ATTR",
    "RESIDENT_ATTR",
    "SBUF_PEAK_ATTR",
    "SOURCE_ATTR",
    "TARGET_ATTR",
    "WEIGHTS_ATTR",
    "KeepSources",
    "describe_sources",
    "describe_op",
    "inherit_sources",
    "set_sources",
    "sources_of",
]


# --- source locations: the framework nodes an op implements --------------------------------


def sources_of(op: Operation) -> tuple[str, ...]:
    """The framework node names recorded on ``op`` (empty when none are)."""
    attr = op.attributes.get(SOURCE_ATTR)
    if not isinstance(attr, ArrayAttr):
        return ()
    return tuple(a.data for a in attr.data if isinstance(a, StringAttr))


def set_sources(op: Operation, names: Iterable[str]) -> None:
    """Record ``names`` (in order, without repeats) on ``op``; none: remove the attribute."""
    unique = tuple(dict.fromkeys(names))
    if unique:
        op.attributes[SOURCE_ATTR] = ArrayAttr([StringAttr(n) for n in unique])
    else:
        op.attributes.pop(SOURCE_ATTR, None)


def inherit_sources(new_ops: Iterable[Operation], *old_ops: Operation) -> None:
    """Give every op of ``new_ops`` the sources of ``old_ops`` (a rewrite that
    replaces or fuses them), keeping any the new op already has."""
    names = [n for old in old_ops for n in sources_of(old)]
    for op in new_ops:
        set_sources(op, [*sources_of(op), *names])


def describe_sources(op: Operation) -> str:
    """``node 'a'`` / ``nodes 'a', 'b'`` for messages; empty when ``op`` has no sources."""
    names = sources_of(op)
    if not names:
        return ""
    return ("node " if len(names) == 1 else "nodes ") + ", ".join(f"'{n}'" for n in names)


def describe_op(op: Operation) -> str:
    """``node 'a' (fw.conv '%c')`` for error messages: the framework node(s) first,
    then the op and its SSA name; just the op when it has no sources."""
    hint = op.results[0].name_hint if op.results else None
    what = f"{op.name} '%{hint}'" if hint else op.name
    nodes = describe_sources(op)
    return f"{nodes} ({what})" if nodes else what


@dataclass
class KeepSources(RewritePattern):
    """Wrap a pattern so that source locations survive its rewrites.

    Every op one match inserts gets the sources of the ops the match removes
    (the producers it fused, in removal order) and then of the matched op,
    after any it already has; ordered, without repeats. So ``replace`` keeps a
    node's names, a fusion that erases its producers keeps all of theirs, and an
    op inserted for the matched op without replacing it (a cast) names it too.
    Weights (``ConstantLike``) get none: they are data, shared by many nodes.
    One mechanism (the match's rewriter listener) instead of code in each pattern.
    """

    pattern: RewritePattern

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inserted: list[Operation] = []
        removed: list[Operation] = []
        on_insert, on_remove = inserted.append, removed.append
        rewriter.operation_insertion_handler.append(on_insert)
        rewriter.operation_removal_handler.append(on_remove)
        try:
            self.pattern.match_and_rewrite(op, rewriter)
        finally:
            rewriter.operation_insertion_handler.remove(on_insert)
            rewriter.operation_removal_handler.remove(on_remove)
        if not inserted:
            return
        donors = [o for o in removed if o is not op] + [op]
        names = [n for donor in donors for n in sources_of(donor)]
        if not names:
            return
        for new in inserted:
            if new.parent is not None and not new.has_trait(ConstantLike):
                set_sources(new, [*sources_of(new), *names])
