"""A Kaena pass plugin: return logits instead of probabilities.

Many deployments want a classifier's logits (for top-k, calibration or a
fused loss on the host), while the exported model ends in Softmax. This pass
removes a ``ktensor.softmax`` whose only users are the function's returns.

Use it with ``kaena-opt --load-pass-plugin strip_output_softmax.py -p strip-output-softmax``
or ``kaena.compile(model, pass_plugins=[path], extra_passes=["strip-output-softmax"])``.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin, func
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from kaena.dialects import ktensor


class StripSoftmaxBeforeReturn(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ktensor.SoftmaxOp, rewriter: PatternRewriter) -> None:
        if not op.result.uses or any(not isinstance(u.operation, func.ReturnOp) for u in op.result.uses):
            return
        rewriter.replace(op, [], [op.input])


@dataclass(frozen=True)
class StripOutputSoftmaxPass(ModulePass):
    """Drop softmax ops that only feed the model's outputs."""

    name = "strip-output-softmax"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        PatternRewriteWalker(StripSoftmaxBeforeReturn()).rewrite_module(op)
