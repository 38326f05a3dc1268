"""Kaena's passes: ``conversions`` lower between dialects, ``transforms`` rewrite
within one. ``ALL_PASSES`` is what ``kaena-opt`` and ``kaena.compile`` can name;
entries import lazily so the tools start fast."""

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass


def _lazy(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    return lambda: getattr(importlib.import_module(f"kaena.passes.{module}"), cls)


ALL_PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    # name: _lazy("conversions.framework_to_tensor", "ConvertFrameworkToTensorPass"),
    "convert-tensor-to-inferentia": _lazy(
        "conversions.tensor_to_inferentia", "ConvertTensorToInferentiaPass"
    ),
    "convert-framework-to-tensor": _lazy(
        "conversions.framework_to_tensor", "ConvertFrameworkToTensorPass"
    ),
    "ktensor-fuse-bias-activation": _lazy(
        "transforms.fuse_bias_activation", "FuseBiasActivationPass"
    ),
    "auto-cast": _lazy("transforms.auto_cast", "AutoCastPass"),
    "inf-allocate-sram": _lazy("transforms.allocate_sram", "AllocateSramPass"),
    "inf-insert-semaphores": _lazy("transforms.insert_semaphores", "InsertSemaphoresPass"),
    "fw-constant-fold": _lazy("transforms.fw_constant_fold", "FwConstantFoldPass"),
    "fw-fold-batchnorm": _lazy("transforms.fold_batchnorm", "FoldBatchNormPass"),
    "fw-fuse-conv": _lazy("transforms.fw_fuse_conv", "FwFuseConvPass"),
    "fw-dce": _lazy("transforms.fw_dce", "FwDeadCodeEliminationPass"),
}
