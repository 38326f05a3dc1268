"""Hugging Face ``transformers`` models at test sizes, exported by PyTorch's own
``torch.onnx.export``: the graphs users bring, not ones Kaena writes.

Each model is built from its config with random weights (``torch.manual_seed``;
nothing is downloaded) and comes with fixed example inputs: a padded
``attention_mask``, two token types, decoder ids. ``export`` writes it with the
exporter a user gets by default (``dynamo``: ``torch.export`` and onnxscript,
opset 18+, weights in an external ``.data`` file) or the legacy TorchScript one
(``torchscript``: ``dynamo=False``, opset 17). torch and transformers are
imported when a function runs, never when ``kaena.testing`` is imported.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

EXPORTERS = ("dynamo", "torchscript")


def _bert():
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=1000, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=256, max_position_embeddings=128)
    rng = np.random.default_rng(0)
    mask = np.ones((2, 64), np.int64)
    mask[0, 57:] = 0
    mask[1, 40:] = 0
    types = np.zeros((2, 64), np.int64)
    types[:, 24:] = 1
    return BertModel(config), {"input_ids": rng.integers(0, 1000, (2, 64)).astype(np.int64),
                               "attention_mask": mask, "token_type_ids": types}


def _vit():
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=64, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=128)
    rng = np.random.default_rng(0)
    return ViTModel(config), {"pixel_values": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)}


def _marian():
    from transformers import MarianConfig, MarianMTModel

    config = MarianConfig(vocab_size=200, d_model=64, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128,
                          decoder_ffn_dim=128, max_position_embeddings=64, use_cache=False,
                          pad_token_id=0, decoder_start_token_id=0)
    rng = np.random.default_rng(0)
    mask = np.ones((2, 16), np.int64)
    mask[1, 11:] = 0
    return MarianMTModel(config), {"input_ids": rng.integers(1, 200, (2, 16)).astype(np.int64),
                                   "attention_mask": mask,
                                   "decoder_input_ids": rng.integers(1, 200, (2, 12)).astype(np.int64)}


# name -> builder of (model, example inputs by forward() argument name)
MODELS: dict[str, Callable] = {"bert": _bert, "vit": _vit, "marian": _marian}


def build(name: str, seed: int = 0):
    """(eval-mode ``transformers`` model with random weights from ``seed``, example inputs)."""
    import torch

    torch.manual_seed(seed)
    model, inputs = MODELS[name]()
    return model.eval(), inputs


def _positional(model, names: list[str]):
    """``model`` as a module of positional tensors returning a tuple: the legacy
    exporter mis-binds keyword arguments of ``transformers``' forward()."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *args):
            out = self.model(**dict(zip(names, args)), return_dict=True)
            return tuple(v for v in out.values() if isinstance(v, torch.Tensor))

    return Positional().eval()


def export(name: str, path: str | os.PathLike, exporter: str = "dynamo", seed: int = 0) -> dict[str, np.ndarray]:
    """Export model ``name`` to ``path`` with fixed shapes; returns the example
    inputs, keyed by the exported graph's input names."""
    import torch

    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {', '.join(EXPORTERS)}, got {exporter!r}")
    model, inputs = build(name, seed)
    names = list(inputs)
    tensors = [torch.from_numpy(inputs[n]) for n in names]
    with torch.no_grad(), warnings.catch_warnings():
        # the exporters' own notices (tracer warnings about Python branches on shapes, which
        # are fixed here; the TorchScript exporter's deprecation): not the caller's business
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            # what `torch.onnx.export(model, args, f)` does by default
            torch.onnx.export(model, (tensors[0],), os.fspath(path),
                              kwargs=dict(zip(names[1:], tensors[1:])), dynamo=True, verbose=False)
        else:
            torch.onnx.export(_positional(model, names), tuple(tensors), os.fspath(path), dynamo=False,
                              input_names=names, opset_version=17)
    return inputs
