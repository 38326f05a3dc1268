"""The numeric oracle for PyTorch models: the module's own forward in FP32, and a
faithful BF16 emulation of it (every matmul/conv operand rounded to BF16, as
``ktensor-auto-cast{mode=matmult}`` does; accumulation, biases and everything
else FP32). torch is imported by the caller's use only."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.utils._pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _bf16(x):
    return x.to(torch.bfloat16).to(torch.float32) if isinstance(x, torch.Tensor) and x.is_floating_point() else x


class BF16MatmulEmulation(TorchDispatchMode):
    """Rounds the two multiplied operands of every contraction to BF16 (nearest even).
    A batch norm of a convolution's output is folded into that convolution's weight
    before rounding, as ``fw-fold-batchnorm`` does before the cast. Attention runs as its
    math (``q @ k^T``, scale, mask, softmax, ``p @ v``) with the same rounding, the order
    Kaena's importer emits it in."""

    def __init__(self):
        super().__init__()
        # id(conv output) -> (output, conv args, kwargs): a following batch norm refolds the conv
        self._convs: dict[int, tuple] = {}

    # op -> indices of the multiplied operands
    CONTRACTIONS = {aten.mm.default: (0, 1), aten.bmm.default: (0, 1), aten.addmm.default: (1, 2),
                    aten.convolution.default: (0, 1), aten.matmul.default: (0, 1), aten.linear.default: (0, 1)}
    BATCH_NORMS = (aten._native_batch_norm_legit_no_training.default, aten.native_batch_norm.default)
    ATTENTION = (aten._scaled_dot_product_flash_attention_for_cpu.default,
                 aten.scaled_dot_product_attention.default, aten._scaled_dot_product_attention_math.default)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func == aten.convolution.default:
            out = func(*(_bf16(a) if i < 2 else a for i, a in enumerate(args)), **kwargs)
            self._convs[id(out)] = (out, args, kwargs)
            return out
        if func in self.CONTRACTIONS:
            args = tuple(_bf16(a) if i in self.CONTRACTIONS[func] else a for i, a in enumerate(args))
            return func(*args, **kwargs)
        if func in self.BATCH_NORMS and id(args[0]) in self._convs and self._convs[id(args[0])][0] is args[0]:
            return self._folded_batch_norm(func, args)
        if func in self.ATTENTION:
            out = self._attention(*args, **kwargs)
            if func == aten._scaled_dot_product_flash_attention_for_cpu.default:
                return out, torch.empty(0)  # (output, logsumexp): callers use the output
            return out
        return func(*args, **kwargs)

    def _folded_batch_norm(self, func, args):
        """BN(conv(x, w, b)) as conv(x, w * s, (b - mean) * s + beta), s = gamma / sqrt(var + eps)."""
        _, conv_args, conv_kwargs = self._convs[id(args[0])]
        gamma, beta, mean, var = args[1:5]
        eps = args[-1]
        if func == aten.native_batch_norm.default and args[5]:
            return func(*args)  # training statistics: not what Kaena compiles
        x, w, b = conv_args[:3]
        s = (gamma if gamma is not None else torch.ones_like(var)) / torch.sqrt(var + eps)
        bias = ((b if b is not None else torch.zeros_like(mean)) - mean) * s + (beta if beta is not None else 0)
        w = w * s.reshape(-1, *([1] * (w.dim() - 1)))
        out = aten.convolution.default(_bf16(x), _bf16(w), bias, *conv_args[3:], **conv_kwargs)
        return out, torch.empty(0), torch.empty(0)

    @staticmethod
    def _attention(q, k, v, *rest, attn_mask=None, scale=None, is_causal=False, **_):
        """Inference attention (dropout is off in eval) with BF16 matmul operands."""
        if len(rest) > 1:  # positional (dropout_p, is_causal, ...)
            is_causal = rest[1]
        scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
        s = aten.matmul.default(_bf16(q), _bf16(k.transpose(-2, -1))) * scale
        if is_causal:
            s = s.masked_fill(~torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(), float("-inf"))
        if attn_mask is not None:
            s = s.masked_fill(~attn_mask, torch.finfo(s.dtype).min) if attn_mask.dtype == torch.bool else s + attn_mask
        return aten.matmul.default(_bf16(torch.softmax(s, -1)), _bf16(v))


def flat_outputs(out) -> list[np.ndarray]:
    """A module's output (tensor, tuple, ModelOutput) as a flat list of arrays."""
    return [t.detach().numpy() for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]


def run_torch(module: torch.nn.Module, args: tuple, *, bf16: bool = False) -> list[np.ndarray]:
    """The module's outputs in eval mode: FP32, or with BF16 contraction operands."""
    module.eval()
    with torch.no_grad():
        if bf16:
            with BF16MatmulEmulation():
                return flat_outputs(module(*args))
        return flat_outputs(module(*args))
