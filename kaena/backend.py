"""``kaena.backend``: ONNX's backend interface on compile + simulate.

``onnx.backend.test.BackendTest(kaena.backend.KaenaBackend, __name__)`` runs
ONNX's own node tests through Kaena: each model is compiled in FP32
(``auto_cast="none"``) and executed on the simulator with hazard checking on.

Kaena compiles ahead of time for static shapes, but ONNX node tests often feed
what a trained model holds as constants (Reshape's shape, Pad's pads, Resize's
scales, BatchNormalization's statistics) as graph inputs. Such *parameter
inputs* (``PARAMETER_INPUTS``: only inputs every consumer reads in a parameter
slot) are bound at the first ``run``: the model is specialised on their values
and recompiled if they change. Data inputs are never bound, so nothing is
computed at compile time that the hardware would compute at run time.

A NEFF has no size-0 tensors, and a size-0 tensor's data never matters: graph
inputs with a 0 dim are bound like parameters (an empty array), and outputs
with a 0 dim are made on the host (``np.zeros`` of their static shape and type)
and left out of the compiled graph -- if no output is left, nothing is compiled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from kaena.errors import KaenaError

# op type -> input positions that are compile-time parameters, not data
PARAMETER_INPUTS: dict[str, tuple[int, ...]] = {
    "Reshape": (1,),
    "Squeeze": (1,),
    "Unsqueeze": (1,),
    "Pad": (1, 2, 3),
    "Resize": (1, 2, 3),
    "Upsample": (1,),
    "Clip": (1, 2),
    "BatchNormalization": (1, 2, 3, 4),
    "Dropout": (1, 2),
    "Slice": (1, 2, 3, 4),
    "Split": (1,),
    "Expand": (1,),
    "Pow": (1,),
    "ReduceMean": (1,),
    "ReduceSum": (1,),
    "ReduceMax": (1,),
    "ReduceMin": (1,),
    "GatherND": (1,),
}


def parameter_inputs(model: onnx.ModelProto) -> list[str]:
    """Graph inputs that every consumer reads in a parameter slot (in graph order)."""
    inits = {t.name for t in model.graph.initializer}
    slots: dict[str, list[bool]] = {}
    for node in model.graph.node:
        params = PARAMETER_INPUTS.get(node.op_type, ()) if node.domain in ("", "ai.onnx") else ()
        for i, name in enumerate(node.input):
            if name:
                slots.setdefault(name, []).append(i in params)
    outputs = {o.name for o in model.graph.output}
    return [i.name for i in model.graph.input
            if i.name not in inits and i.name not in outputs and slots.get(i.name)
            and all(slots[i.name])]


def _static_shape(value: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    t = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not t.HasField("shape"):
        return None
    if not all(d.HasField("dim_value") for d in t.shape.dim):
        return None
    return tuple(d.dim_value for d in t.shape.dim)


def empty_values(values) -> list[str]:
    """The names of the ``values`` (graph inputs or outputs) statically shaped with a 0 dim."""
    return [v.name for v in values if (shape := _static_shape(v)) is not None and 0 in shape]


def without_outputs(model: onnx.ModelProto, names: set[str]) -> onnx.ModelProto:
    """A copy of ``model`` that no longer returns the outputs ``names``."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    kept = [o for o in out.graph.output if o.name not in names]
    del out.graph.output[:]
    out.graph.output.extend(kept)
    return out


def bind_inputs(model: onnx.ModelProto, values: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of ``model`` whose inputs ``values`` are initializers."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    kept = [i for i in out.graph.input if i.name not in values]
    del out.graph.input[:]
    out.graph.input.extend(kept)
    out.graph.initializer.extend(numpy_helper.from_array(np.asarray(v), n) for n, v in values.items())
    return out


def host_output(name: str, value: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """An output in the model's declared dtype: a NEFF output is float32 (bool masks as
    0.0/1.0) or int32 (integers, narrowed on the host after checking every value fits)."""
    if dtype is None or value.dtype == dtype:
        return value
    if dtype == np.bool_:
        return value != 0
    if np.issubdtype(dtype, np.integer) and value.dtype.kind in "iu":
        info = np.iinfo(dtype)
        if value.size and (value.min() < info.min or value.max() > info.max):
            raise KaenaError(f"output '{name}' holds values outside {np.dtype(dtype).name}")
        return value.astype(dtype)
    return value


class KaenaRep(BackendRep):
    """A prepared model: compiled once per set of parameter-input values."""

    def __init__(self, model: onnx.ModelProto, **compile_options: Any):
        self.model = model
        self.options = {"auto_cast": "none", **compile_options}
        inits = {t.name for t in model.graph.initializer}
        self.input_names = [i.name for i in model.graph.input if i.name not in inits]
        self.output_names = [o.name for o in model.graph.output]
        graph_inputs = [i for i in model.graph.input if i.name not in inits]
        self.parameters = parameter_inputs(model)
        self.parameters += [n for n in empty_values(graph_inputs) if n not in self.parameters]
        self._output_shapes = {o.name: shape for o in model.graph.output
                               if (shape := _static_shape(o)) is not None}
        self.empty_outputs = {o.name: np.zeros(self._output_shapes[o.name], onnx.helper.tensor_dtype_to_np_dtype(
            o.type.tensor_type.elem_type)) for o in model.graph.output if o.name in empty_values([o])}
        self._output_dtypes = {
            o.name: onnx.helper.tensor_dtype_to_np_dtype(o.type.tensor_type.elem_type)
            for o in model.graph.output
            if o.type.HasField("tensor_type") and o.type.tensor_type.elem_type
        }
        self._cache: dict[bytes, Any] = {}
        if not self.parameters:
            self._compiled({})

    def _compiled(self, bound: dict[str, np.ndarray]):
        """The loaded NEFF for these parameter values (None: every output is empty)."""
        import kaena

        key = b"".join(n.encode() + str((v.dtype.str, v.shape)).encode() + v.tobytes()
                       for n, v in sorted(bound.items()))
        if key not in self._cache:
            model = bind_inputs(self.model, bound) if bound else self.model
            if self.empty_outputs:
                model = without_outputs(model, set(self.empty_outputs))
            self._cache[key] = (kaena.load(kaena.compile(model, **self.options))
                                if model.graph.output else None)
        return self._cache[key]

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        if isinstance(inputs, dict):
            feeds = {k: np.asarray(v) for k, v in inputs.items()}
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            if len(inputs) != len(self.input_names):
                raise KaenaError(
                    f"the model takes {len(self.input_names)} input(s) "
                    f"({', '.join(self.input_names)}), got {len(inputs)}"
                )
            feeds = {n: np.asarray(v) for n, v in zip(self.input_names, inputs)}
        bound = {n: feeds.pop(n) for n in self.parameters if n in feeds}
        loaded = self._compiled(bound)
        outputs: dict[str, np.ndarray] = dict(self.empty_outputs)
        if loaded is not None:
            # A NEFF has no rank-0 tensors: scalars travel as [1] (same bytes).
            specs = {t.name: tuple(t.shape) for t in loaded.inputs}
            for name, value in feeds.items():
                if name in specs and value.shape != specs[name] and value.size == np.prod(specs[name]):
                    feeds[name] = value.reshape(specs[name])
            outputs.update(loaded.run(feeds))  # simulate(..., check_hazards=True)
        result = []
        for name in self.output_names:
            value = outputs[name]
            want = self._output_shapes.get(name)
            if want is not None and value.shape != want and value.size == np.prod(want):
                value = value.reshape(want)
            result.append(host_output(name, value, self._output_dtypes.get(name)))
        return namedtupledict("Outputs", self.output_names)(*result)


class KaenaBackend(Backend):
    """Compile with Kaena and run on the Inferentia simulator (the 'CPU' device
    of ONNX's test runner stands for the simulator on this host)."""

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> KaenaRep:
        if not cls.supports_device(device):
            raise KaenaError(f"device '{device}' is not supported: Kaena runs on the simulator ('CPU')")
        options = {k: v for k, v in kwargs.items() if k in ("auto_cast", "auto_cast_type", "target")}
        return KaenaRep(model, **options)

    @classmethod
    def run_model(cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU",
                  **kwargs: Any) -> tuple[Any, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Any = None, **kwargs: Any) -> tuple[Any, ...]:
        """One node on float32 inputs: wrapped in a graph, compiled and run."""
        from onnx import helper

        arrays = [np.asarray(x) for x in inputs]
        graph_inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype),
                                                      a.shape)
                        for n, a in zip(node.input, arrays)]
        graph_outputs = [helper.make_empty_tensor_value_info(o) for o in node.output]
        graph = helper.make_graph([node], node.name or node.op_type, graph_inputs, graph_outputs)
        opset = kwargs.get("opset_version", onnx.defs.onnx_opset_version())
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        return cls.prepare(model, device).run(arrays)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return Device(device).type == DeviceType.CPU


prepare = KaenaBackend.prepare
run_model = KaenaBackend.run_model
run_node = KaenaBackend.run_node
supports_device = KaenaBackend.supports_device
