"""Lower ``ktensor`` to the Inferentia dialect: one ``inf.core`` program.

Planning and emission are separate. The ``ktensor-plan-*`` passes record the
lowering's decisions as ``kaena.plan.*`` attributes on the ktensor ops
(``decisions.py`` lists them): depthwise engines, fused casts, the bias table, the attention blocks
lowered as one loop nest, the matmuls' weight blocks, which values stay resident in SBUF, and the dense convs' bands.
``convert-tensor-to-inferentia`` then emits what they say, op family by op
family (``interface.OpFamily``; the table is at the bottom of
``convert_tensor_to_inferentia.py``), every ``inf`` op built by ``builder.py``.

Function arguments live in ``input`` variables, results in ``output``
variables, weights in ``file`` variables. Intermediate NCHW values planned
resident stay in SBUF between ops (``SbufView``: channel-major, zero-padded
for the convs/pools that read them); every other value lives in DRAM in its
logical row-major layout (``tmp`` scratch), and its ops DMA operands into SBUF
tiles in the layout their engine wants (strided access patterns do transposes
and broadcasts), compute, and DMA the result back. The emitted program is
correct executed one instruction at a time; later passes place the tiles and
add the semaphores. Tile grids are ``inf.loop`` nests with affine offsets,
remainders peeled into separate copies.
"""

from .convert_tensor_to_inferentia import FAMILIES, PLANNING, ConvertTensorToInferentiaPass
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

__all__ = [
    "FAMILIES",
    "PLANNING",
    "ConvertTensorToInferentiaPass",
    "KtensorPlanAttentionPass",
    "KtensorPlanBiasTablePass",
    "KtensorPlanConvBandsPass",
    "KtensorPlanEnginesPass",
    "KtensorPlanEpiloguesPass",
    "KtensorPlanFusedCastsPass",
    "KtensorPlanFusedInputsPass",
    "KtensorPlanResidencyPass",
    "KtensorPlanResidualAddsPass",
    "KtensorPlanMatmulStreamsPass",
    "KtensorPlanWeightPrefetchPass",
]
