"""Kaena's passes, grouped by level: ``transforms/fw``, ``transforms/ktensor``,
``transforms/inf`` rewrite within one dialect, ``conversions`` lower between
dialects. Every pass name starts with its level (``fw-``, ``ktensor-``,
``inf-``, ``convert-``) and its module is named after it.

``ALL_PASSES`` is what ``kaena-opt`` and ``kaena.compile`` can name; entries
import lazily so the tools start fast. ``PASS_ALIASES`` keeps the names older
scripts use.
"""

import functools
import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass


def _lazy(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    return lambda: getattr(importlib.import_module(f"kaena.passes.{module}"), cls)


ALL_PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    # framework level
    "fw-constant-fold": _lazy("transforms.fw.fw_constant_fold", "FwConstantFoldPass"),
    "fw-fold-batchnorm": _lazy("transforms.fw.fw_fold_batchnorm", "FoldBatchNormPass"),
    "fw-fuse-conv": _lazy("transforms.fw.fw_fuse_conv", "FwFuseConvPass"),
    "fw-fuse-gelu": _lazy("transforms.fw.fw_fuse_gelu", "FwFuseGeluPass"),
    "fw-fuse-layer-norm": _lazy("transforms.fw.fw_fuse_layer_norm", "FwFuseLayerNormPass"),
    "fw-simplify-where": _lazy("transforms.fw.fw_simplify_where", "FwSimplifyWherePass"),
    "fw-dce": _lazy("transforms.fw.fw_dce", "FwDeadCodeEliminationPass"),
    "convert-framework-to-tensor": _lazy(
        "conversions.framework_to_tensor", "ConvertFrameworkToTensorPass"
    ),
    # tensor level
    "ktensor-fuse-bias-activation": _lazy(
        "transforms.ktensor.ktensor_fuse_bias_activation", "FuseBiasActivationPass"
    ),
    "ktensor-auto-cast": _lazy("transforms.ktensor.ktensor_auto_cast", "AutoCastPass"),
    "ktensor-split-batch": _lazy("transforms.ktensor.ktensor_split_batch", "KtensorSplitBatchPass"),
    # NeuronCore Pipeline: the stages, then one stage's function (each stage lowers on its own)
    "ktensor-partition-pipeline": _lazy(
        "transforms.ktensor.ktensor_partition_pipeline", "KtensorPartitionPipelinePass"
    ),
    "ktensor-extract-stage": _lazy("transforms.ktensor.ktensor_extract_stage", "KtensorExtractStagePass"),
    # a contraction too large for one stage's resident weights, split by output columns
    "ktensor-plan-column-split": _lazy(
        "transforms.ktensor.ktensor_plan_column_split", "KtensorPlanColumnSplitPass"
    ),
    "ktensor-split-columns": _lazy("transforms.ktensor.ktensor_split_columns", "KtensorSplitColumnsPass"),
    # the lowering's planning passes (decisions as kaena.plan.* attributes), then the lowering
    "ktensor-plan-engines": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_engines", "KtensorPlanEnginesPass"
    ),
    "ktensor-plan-fused-casts": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_fused_casts", "KtensorPlanFusedCastsPass"
    ),
    "ktensor-plan-epilogues": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_epilogues", "KtensorPlanEpiloguesPass"
    ),
    "ktensor-plan-fused-inputs": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_fused_inputs", "KtensorPlanFusedInputsPass"
    ),
    "ktensor-plan-bias-table": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_bias_table", "KtensorPlanBiasTablePass"
    ),
    "ktensor-plan-attention": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_attention", "KtensorPlanAttentionPass"
    ),
    "ktensor-plan-matmul-streams": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_matmul_streams", "KtensorPlanMatmulStreamsPass"
    ),
    "ktensor-plan-residual-adds": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_residual_adds", "KtensorPlanResidualAddsPass"
    ),
    "ktensor-plan-residency": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_residency", "KtensorPlanResidencyPass"
    ),
    "ktensor-plan-conv-bands": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_conv_bands", "KtensorPlanConvBandsPass"
    ),
    "ktensor-plan-weight-prefetch": _lazy(
        "conversions.tensor_to_inferentia.ktensor_plan_weight_prefetch", "KtensorPlanWeightPrefetchPass"
    ),
    "convert-tensor-to-inferentia": _lazy(
        "conversions.tensor_to_inferentia", "ConvertTensorToInferentiaPass"
    ),
    # Inferentia level
    "inf-set-target": _lazy("transforms.inf.inf_set_target", "SetTargetPass"),
    "inf-allocate-sram": _lazy("transforms.inf.inf_allocate_sram", "AllocateSramPass"),
    "inf-insert-semaphores": _lazy("transforms.inf.inf_insert_semaphores", "InsertSemaphoresPass"),
    "inf-connect-pipeline": _lazy("transforms.inf.inf_connect_pipeline", "InfConnectPipelinePass"),
}

PASS_ALIASES: dict[str, str] = {"auto-cast": "ktensor-auto-cast"}
"""Old name -> pass name, for scripts written before the level prefixes."""



def _alias(old: str, new: str) -> Callable[[], type[ModulePass]]:
    """The pass ``new`` under the name ``old`` (xDSL matches a spec's name to the class's);
    one class per alias, made on first use."""

    @functools.cache
    def alias() -> type[ModulePass]:
        cls = ALL_PASSES[new]()
        return type(cls.__name__, (cls,), {"name": old})

    return alias


for _old, _new in PASS_ALIASES.items():
    ALL_PASSES[_old] = _alias(_old, _new)
