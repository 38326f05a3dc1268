"""Getting a frozen GraphDef from what the user has: a SavedModel directory
(its serving signature), a frozen GraphDef ``.pb``, a ``.keras`` file or a live
``tf.keras.Model`` (its call). Variables become constants
(``convert_variables_to_constants_v2``); control flow is kept as ``While``/``If``
nodes so the importer can name them. TensorFlow is imported here, on first use."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

from kaena.errors import ModelImportError


@dataclass
class FrozenGraph:
    """A GraphDef with its inputs and outputs: graph tensor names ("node:0")
    beside the names the user knows them by (signature keys, Keras names)."""

    source: str
    graph_def: object  # tensorflow GraphDef
    input_tensors: list[str]
    input_names: list[str]
    # the signature's / Keras model's declared shapes (None: a dynamic dim)
    input_shapes: list[list[int | None] | None]
    output_tensors: list[str]
    output_names: list[str]
    model_name: str


@contextlib.contextmanager
def quiet_stderr():
    """TensorFlow's C++ runtime logs notices (oneDNN, Grappler sessions) straight
    to file descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says once Python runs;
    silenced around its calls so a tool's error stays one line (failures are
    exceptions, reported by the caller)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _tf():
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with quiet_stderr():
            import tensorflow  # noqa: F401
    import tensorflow as tf

    return tf


def tensor_name(name: str) -> str:
    """A tensor's canonical name, "node:index"."""
    return name if ":" in name else f"{name}:0"


def load(model, input_shapes: dict[str, list[int]] | None, example_inputs=None) -> FrozenGraph:
    """The frozen graph of ``model`` (path or tf.keras.Model)."""
    _tf()
    with quiet_stderr():
        return _load(model, input_shapes, example_inputs)


def _load(model, input_shapes, example_inputs) -> FrozenGraph:
    if isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        if os.path.isdir(path):
            if not os.path.exists(os.path.join(path, "saved_model.pb")):
                raise ModelImportError(f"{path}: a directory without saved_model.pb is not a SavedModel; "
                                       "save the model with tf.saved_model.save or model.export")
            return _saved_model(path)
        if not os.path.isfile(path):
            raise ModelImportError(f"{path}: file not found; give a SavedModel directory, a frozen .pb "
                                   "or a .keras file")
        if path.lower().endswith(".keras"):
            return _keras_file(path, input_shapes, example_inputs)
        return _graph_def_file(path)
    tf = _tf()
    if isinstance(model, tf.keras.Model) or hasattr(model, "inputs") and hasattr(model, "call"):
        return _keras_model(model, "<keras model>", input_shapes, example_inputs)
    raise ModelImportError(f"cannot import a {type(model).__name__} with the TensorFlow frontend: give a "
                           "tf.keras.Model, a SavedModel directory, a frozen .pb or a .keras file")


def _freeze(concrete, source: str):
    """(GraphDef with the variables as constants, its input and output tensor names)."""
    try:
        try:
            # the converter's own steps, without rebuilding a ConcreteFunction around the
            # result (which costs seconds on a ResNet and is thrown away here)
            from tensorflow.python.framework.convert_to_constants import (
                _FunctionConverterDataInEager,
                _replace_variables_by_constants,
            )
        except ImportError:
            from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

            frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False)
            inputs = [t for t in frozen.inputs if t.dtype.name != "resource"]
            return frozen.graph.as_graph_def(), inputs, [t.name for t in frozen.outputs]
        data = _FunctionConverterDataInEager(func=concrete, lower_control_flow=False, aggressive_inlining=False)
        graph_def, converted = _replace_variables_by_constants(converter_data=data)
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(f"{source}: cannot freeze the graph's variables into constants ({reason})") from None
    captured = {id(concrete.graph.internal_captures[i]) for i in converted}
    inputs = [t for t in concrete.inputs if id(t) not in captured and t.dtype.name != "resource"]
    return graph_def, inputs, [t.name for t in concrete.outputs]


def _from_concrete(frozen, source: str, input_names: list[str], output_names: list[str],
                   model_name: str) -> FrozenGraph:
    graph_def, inputs, outputs = frozen
    shapes = [None if t.shape.rank is None else list(t.shape.as_list()) for t in inputs]
    return FrozenGraph(source, graph_def, [t.name for t in inputs], input_names, shapes, outputs,
                       output_names, model_name)


def _saved_model(path: str) -> FrozenGraph:
    tf = _tf()
    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(f"{path}: not a readable SavedModel ({reason})") from None
    signatures = dict(loaded.signatures)
    if not signatures:
        raise ModelImportError(f"{path}: the SavedModel has no signature; save it with a serving signature "
                               "(model.export, or tf.saved_model.save(obj, path, signatures=...))")
    key = "serving_default" if "serving_default" in signatures else sorted(signatures)[0]
    concrete = signatures[key]
    frozen = _freeze(concrete, path)
    # the signature's inputs are its placeholders, named by their keys
    input_names = [t.name.split(":")[0] for t in frozen[1]]
    outputs = concrete.structured_outputs
    # a dict-returning signature's outputs follow the flattened (sorted-key) structure
    output_names = sorted(outputs) if isinstance(outputs, dict) else [f"output_{i}" for i in
                                                                       range(len(frozen[2]))]
    return _from_concrete(frozen, path, input_names, output_names,
                          os.path.basename(os.path.normpath(path)))


def _graph_def_file(path: str) -> FrozenGraph:
    tf = _tf()
    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(path, "rb") as f:
            graph_def.ParseFromString(f.read())
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(f"{path}: not a frozen GraphDef ({reason}); give a SavedModel directory, a "
                               "frozen GraphDef .pb or a .keras file") from None
    if not graph_def.node:
        raise ModelImportError(f"{path}: the GraphDef has no nodes")
    placeholders = [n for n in graph_def.node if n.op == "Placeholder"]
    consumed = {tensor_name(i) for n in graph_def.node for i in n.input if not i.startswith("^")}
    # a frozen GraphDef names no outputs: they are the computed tensors nothing consumes
    live = {p.name for p in placeholders}
    for _ in range(len(graph_def.node)):
        grown = {n.name for n in graph_def.node if any(i.split(":")[0] in live for i in n.input
                                                        if not i.startswith("^"))} | live
        if grown == live:
            break
        live = grown
    outputs = [n for n in graph_def.node
               if n.name in live and n.op not in ("NoOp", "Placeholder") and f"{n.name}:0" not in consumed]
    shapes = []
    for p in placeholders:
        shape = p.attr["shape"].shape
        shapes.append(None if shape.unknown_rank else [d.size if d.size >= 0 else None for d in shape.dim])
    return FrozenGraph(path, graph_def, [f"{p.name}:0" for p in placeholders], [p.name for p in placeholders],
                       shapes, [f"{n.name}:0" for n in outputs], [n.name for n in outputs],
                       os.path.splitext(os.path.basename(path))[0])


def _keras_file(path: str, input_shapes, example_inputs) -> FrozenGraph:
    _tf()
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(f"{path}: not a loadable .keras file ({reason}); a model with custom layers "
                               "needs them registered (keras.saving.register_keras_serializable)") from None
    frozen = _keras_model(model, path, input_shapes, example_inputs)
    frozen.model_name = os.path.splitext(os.path.basename(path))[0]
    return frozen


def _keras_model(model, source: str, input_shapes, example_inputs) -> FrozenGraph:
    """Trace ``model(inputs, training=False)`` with the inputs' declared shapes
    (input_shapes or example_inputs fix dynamic dims) and freeze it."""
    tf = _tf()
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ModelImportError(f"{source}: the Keras model has no defined inputs; build it (call it once or "
                               "give keras.Input layers) before compiling")
    names = [_input_name(t) for t in inputs]
    examples = _examples(example_inputs, names)
    specs = []
    for name, t in zip(names, inputs):
        shape = list(t.shape)
        if name in (input_shapes or {}):
            shape = [int(d) for d in input_shapes[name]]
        elif name in examples:
            shape = list(examples[name].shape)
        specs.append(tf.TensorSpec([d if d is None else int(d) for d in shape], t.dtype, name=name))
    if len(specs) == 1:
        fn = tf.function(lambda x: model(x, training=False), autograph=False)
    else:
        fn = tf.function(lambda *xs: model(list(xs), training=False), autograph=False)
    try:
        concrete = fn.get_concrete_function(*specs)
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(f"{source}: tracing the Keras model failed ({reason})") from None
    frozen = _freeze(concrete, source)
    output_names = list(getattr(model, "output_names", None) or [])
    if len(output_names) != len(frozen[2]):
        output_names = [f"output_{i}" for i in range(len(frozen[2]))]
    return _from_concrete(frozen, source, names, output_names, model.name or "model")


def _input_name(tensor) -> str:
    """A Keras input's name: its Input layer's (what ``keras.Input(name=...)`` set,
    and what a reloaded ``.keras`` file calls it; the tensor's own name is a
    per-session counter like ``keras_tensor_3``)."""
    history = getattr(tensor, "_keras_history", None)
    layer = getattr(history, "operation", None)
    return getattr(layer, "name", None) or tensor.name.split(":")[0]


def _examples(example_inputs, names: list[str]) -> dict:
    import numpy as np

    if example_inputs is None:
        return {}
    if isinstance(example_inputs, dict):
        return {k: np.asarray(v) for k, v in example_inputs.items()}
    if not isinstance(example_inputs, list | tuple):
        example_inputs = [example_inputs]
    return {n: np.asarray(v) for n, v in zip(names, example_inputs)}
