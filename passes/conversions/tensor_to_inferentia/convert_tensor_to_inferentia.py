"""``convert-tensor-to-inferentia``: ``func.func @main`` of planned ktensor ops ->
``inf.core``'s program, and the table of op families that lower them.

A whole-function translation (one ordered program out of one function), so it
walks the function once in order rather than applying independent rewrite
patterns. The decisions come from the ``ktensor-plan-*`` passes; on IR they
have not seen, it runs them first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from kaena.errors import CompileError

from .batch_concat import BatchConcatFamily
from .batch_matmul import BatchMatmulFamily
from .data_movement import (
    ConcatFamily,
    PadFamily,
    ReshapeFamily,
    ResizeNearestFamily,
    TransposeFamily,
    WeightFamily,
)
from .dense_conv import DenseConvFamily
from .depthwise_conv import DepthwisePeFamily, DepthwiseVectorFamily
from .indexing import BroadcastFamily, GatherFamily, SliceFamily
from .function import FunctionLowering
from .interface import OpFamily
from .ktensor_plan_attention import KtensorPlanAttentionPass
from .ktensor_plan_bias_table import KtensorPlanBiasTablePass
from .ktensor_plan_conv_bands import KtensorPlanConvBandsPass
from .ktensor_plan_engines import KtensorPlanEnginesPass
from .ktensor_plan_epilogues import KtensorPlanEpiloguesPass
from .ktensor_plan_fused_casts import KtensorPlanFusedCastsPass
from .ktensor_plan_fused_inputs import KtensorPlanFusedInputsPass
from .ktensor_plan_residency import KtensorPlanResidencyPass
from .ktensor_plan_residual_adds import KtensorPlanResidualAddsPass
from .ktensor_plan_matmul_streams import KtensorPlanMatmulStreamsPass
from .ktensor_plan_weight_prefetch import KtensorPlanWeightPrefetchPass
from .masks import CompareFamily, LogicalFamily, LogicalNotFamily, SelectFamily
from .matmul import MatmulFamily
from .normalization import LayerNormFamily
from .planning import FunctionPlan, PlanPass, main_function
from .pointwise import ActivationFamily, CastFamily, ElementwiseFamily
from .pooling import PoolFamily
from .reductions import ReduceFamily
from .softmax import LogSoftmaxFamily, SoftmaxFamily

PLANNING: tuple[type[PlanPass], ...] = (
    KtensorPlanEnginesPass,
    KtensorPlanFusedCastsPass,
    KtensorPlanEpiloguesPass,
    KtensorPlanFusedInputsPass,
    KtensorPlanBiasTablePass,
    KtensorPlanAttentionPass,
    KtensorPlanMatmulStreamsPass,
    KtensorPlanResidualAddsPass,
    KtensorPlanResidencyPass,
    KtensorPlanConvBandsPass,
    KtensorPlanWeightPrefetchPass,
)
"""The planning passes in the order they run (each runs the ones before it if needed)."""


@dataclass(frozen=True)
class ConvertTensorToInferentiaPass(ModulePass):
    """Replace ``func.func @main`` of ktensor ops by ``inf.core 0``'s program, for the
    module's target (``kaena.target``, recorded by ``inf-set-target``)."""

    name: ClassVar[str] = "convert-tensor-to-inferentia"

    core: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        fn = main_function(op)
        if fn is None:
            raise CompileError("convert-tensor-to-inferentia: the module has no func.func @main to lower")
        for stage in PLANNING:
            stage().ensure(fn, op)
        core = FunctionLowering(FunctionPlan(fn, op)).run(self.core)
        op.body.block.insert_op_before(core, fn)
        fn.detach()
        fn.erase()


# --- the op families: one per module, in lookup order (families of one op type split it) ---
FAMILIES: tuple[OpFamily, ...] = (
    WeightFamily(),
    ReshapeFamily(),
    MatmulFamily(),
    DenseConvFamily(),
    DepthwisePeFamily(),
    DepthwiseVectorFamily(),
    PoolFamily(),
    ElementwiseFamily(),
    ActivationFamily(),
    CastFamily(),
    SoftmaxFamily(),
    TransposeFamily(),
    BatchConcatFamily(),
    ConcatFamily(),
    PadFamily(),
    ResizeNearestFamily(),
    GatherFamily(),
    SliceFamily(),
    BroadcastFamily(),
    CompareFamily(),
    LogicalNotFamily(),
    LogicalFamily(),
    SelectFamily(),
    BatchMatmulFamily(),
    LayerNormFamily(),
    ReduceFamily(),
    LogSoftmaxFamily(),
)

FAMILIES_BY_TYPE: dict[type[Operation], tuple[OpFamily, ...]] = {}
for _family in FAMILIES:
    for _t in _family.op_types:
        FAMILIES_BY_TYPE[_t] = FAMILIES_BY_TYPE.get(_t, ()) + (_family,)
