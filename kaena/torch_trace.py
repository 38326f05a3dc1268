"""``kaena.trace(module, example_inputs, **options)``: a ``torch.nn.Module`` whose
``forward`` runs the compiled NEFF on the simulator, like ``torch_neuron.trace``.

It sits at the runtime's level (it compiles and runs the NEFF), above the
torch frontend it exports with. The NEFF is a uint8 buffer of the module (so ``state_dict`` carries it) and the
input/output structure is plain picklable data: ``torch.save(traced, path)`` and
``torch.load(path, weights_only=False)`` give it back without recompiling.
"""

from __future__ import annotations

from kaena.frontends import frontend

frontend("torch")  # torch is installed (else one line says what to pip install)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.utils._pytree as pytree  # noqa: E402

from kaena.driver import compile as kaena_compile  # noqa: E402
from kaena.errors import KaenaError  # noqa: E402
from kaena.frontends.torch.program import example_args, export  # noqa: E402
from kaena.runtime import load  # noqa: E402


class TracedModule(torch.nn.Module):
    """A compiled model: inputs flattened as the exported program takes them,
    outputs rebuilt in the original module's structure (a tensor, a tuple, a ModelOutput)."""

    def __init__(self, neff_bytes: bytes, input_names: list[str], in_spec, out_spec, name: str):
        super().__init__()
        self.register_buffer("neff", torch.frombuffer(bytearray(neff_bytes), dtype=torch.uint8))
        self.input_names = list(input_names)
        self.in_spec = in_spec
        self.out_spec = out_spec
        self.model_name = name
        self._loaded = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_loaded"] = None  # the simulator's loaded NEFF is rebuilt from the buffer
        return state

    def loaded(self):
        """The NEFF ready to run (``kaena.load``), decoded once from the buffer."""
        if self._loaded is None:
            self._loaded = load(self.neff.numpy().tobytes())
        return self._loaded

    def _flat_inputs(self, args, kwargs) -> list[torch.Tensor]:
        kw_keys = list(self.in_spec.children()[1].context) if self.in_spec.num_children == 2 else []
        if set(kwargs) - set(kw_keys):
            raise KaenaError(f"{self.model_name}: unexpected keyword input(s) {sorted(set(kwargs) - set(kw_keys))}; "
                             f"the traced model takes {kw_keys}")
        leaves, spec = pytree.tree_flatten((tuple(args), {k: kwargs[k] for k in kw_keys if k in kwargs}))
        if spec != self.in_spec:
            raise KaenaError(f"{self.model_name}: the inputs' structure differs from the traced example inputs "
                             f"({spec} vs {self.in_spec}); pass them as at trace time")
        tensors = [x for x in leaves if isinstance(x, torch.Tensor)]
        if len(tensors) != len(self.input_names):
            raise KaenaError(f"{self.model_name}: expected {len(self.input_names)} tensor input(s), got {len(tensors)}")
        return tensors

    def forward(self, *args, **kwargs):
        tensors = self._flat_inputs(args, kwargs)
        model = self.loaded()
        feeds = {}
        for name, t, info in zip(self.input_names, tensors, model.inputs):
            if tuple(t.shape) != tuple(info.shape):
                raise KaenaError(f"{self.model_name}: input '{name}' has shape {list(t.shape)}, the NEFF was "
                                 f"compiled for {list(info.shape)}; trace again with inputs of this shape")
            feeds[info.name] = t.detach().cpu().numpy()
        outputs = model.run(feeds)
        flat = [torch.from_numpy(np.ascontiguousarray(outputs[o.name])) for o in model.outputs]
        return pytree.tree_unflatten(flat, self.out_spec)

    def extra_repr(self) -> str:
        return f"{self.model_name}, NEFF {self.neff.numel()} bytes, inputs {self.input_names}"


def trace(module: torch.nn.Module, example_inputs, **options) -> TracedModule:
    """Export ``module`` with ``example_inputs`` (a tensor, a tuple, or a dict of keyword
    tensors), compile it with ``kaena.compile`` options and wrap the NEFF as a module."""
    if not isinstance(module, torch.nn.Module):
        raise KaenaError(f"kaena.trace takes a torch.nn.Module, got {type(module).__name__}")
    for key in ("framework", "example_inputs"):
        if key in options:
            raise KaenaError(f"kaena.trace: '{key}' is given by the module and example_inputs")
    args, kwargs = example_args(example_inputs)
    ep = export(module, example_inputs)
    options.setdefault("name", type(module).__name__)
    neff = kaena_compile(ep, framework="torch", **options)
    names = [i.name for i in neff.inputs]
    return TracedModule(neff.to_bytes(), names, ep.call_spec.in_spec, ep.call_spec.out_spec, options["name"])
