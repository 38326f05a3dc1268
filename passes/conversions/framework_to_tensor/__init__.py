"""Lower the framework dialect (``fw``) to the tensor dialect (``ktensor``).

Framework conveniences are resolved here so the backend sees few op forms:
Gemm's transposes and scales on weights are folded into derived weights (no
runtime work), Gemm's C becomes a matmul bias when it is bias-shaped, N-D
matmuls by a weight become 2-D ones between reshapes and matmuls of two
batched operands ``ktensor.batch_matmul``, resampling (Resize) becomes one
matmul by a constant interpolation matrix per axis, identities disappear, layer norms
normalise the last dim, and negative axes are normalised. One module per op
family holds its patterns; ``common`` what they share.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaena.dialects.attributes import KeepSources, describe_op
from kaena.passes.conversions.framework_to_tensor.common import Lowering, erase_dead_weights
from kaena.passes.conversions.framework_to_tensor.contractions import LowerGemm, LowerMatmul
from kaena.passes.conversions.framework_to_tensor.convolution import LowerBatchNorm, LowerConv, LowerPool
from kaena.passes.conversions.framework_to_tensor.elementwise import (
    LowerBinary,
    LowerClip,
    LowerMasks,
    LowerPow,
    LowerUnary,
)
from kaena.passes.conversions.framework_to_tensor.indexing import LowerGather
from kaena.passes.conversions.framework_to_tensor.layout import LowerExpand, LowerLayout, LowerWeight
from kaena.passes.conversions.framework_to_tensor.normalization import LowerLayerNorm, LowerReduce
from kaena.passes.conversions.framework_to_tensor.resampling import LowerResample
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriteWalker

from kaena.errors import CompileError
from kaena.weights import module_store

__all__ = ["ConvertFrameworkToTensorPass", "Lowering", "erase_dead_weights"]


@dataclass(frozen=True)
class ConvertFrameworkToTensorPass(ModulePass):
    """Lower every ``fw`` op to ``ktensor``; derived weights land in the module's store."""

    name = "convert-framework-to-tensor"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        store = module_store(op)
        # KeepSources: every ktensor op made from an fw op names that op's nodes.
        PatternRewriteWalker(
            KeepSources(GreedyRewritePatternApplier([
                LowerWeight(store), LowerGemm(store), LowerMatmul(store), LowerBinary(),
                LowerUnary(), LowerClip(store), LowerBatchNorm(store), LowerConv(), LowerPool(),
                LowerLayout(), LowerPow(), LowerMasks(), LowerExpand(store), LowerLayerNorm(store),
                LowerReduce(), LowerGather(), LowerResample(store),
            ])),
            apply_recursively=False,
        ).rewrite_module(op)
        erase_dead_weights(op)
        left = [o for o in op.walk() if o.dialect_name() == "fw"]
        if left:
            raise CompileError("convert-framework-to-tensor: no lowering for "
                               + ", ".join(dict.fromkeys(describe_op(o) for o in left)))
