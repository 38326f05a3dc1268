"""Model importers: each turns a framework's graph into a module in the ``fw`` dialect.

One package per framework (``onnx``, ``torch``, ``tensorflow``, ``mxnet``). Each
exposes ``import_model(model, *, input_shapes=None, example_inputs=None) -> ModuleOp``
and ``list_operators() -> [(operator, limits)]``, and may expose ``rebatch(model, batch,
*, input_shapes, example_inputs) -> (model, input_shapes, example_inputs)`` for
``--batch-size``; this module picks the framework
from a path or a Python object and imports only that framework's package, so an
ONNX user never pays for importing torch or TensorFlow.
"""

from __future__ import annotations

import importlib
import os

from kaena.errors import KaenaError
from kaena.frontends.onnx import SUPPORTED_OPERATORS, import_onnx

FRAMEWORKS = ("onnx", "torch", "tensorflow", "mxnet")

# What each framework's package needs installed, for the message when it is missing.
_EXTRAS = {
    "onnx": "onnx",
    "torch": "kaena[torch] (torch==2.13.0)",
    "tensorflow": "kaena[tensorflow] (tensorflow-cpu)",
    "mxnet": "nothing more (Kaena reads MXNet files itself)",
}

_FORMATS = (
    "ONNX (.onnx), PyTorch (.pt2 from torch.export.save), TensorFlow (a SavedModel directory, "
    "a frozen GraphDef .pb, a .keras file) or MXNet (NAME-symbol.json beside NAME-NNNN.params)"
)


def detect_framework(model) -> str:
    """The framework a path or a Python object comes from; raises KaenaError when none fits."""
    if isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        lower = path.lower()
        if lower.endswith(".onnx"):
            return "onnx"
        if lower.endswith(".pt2"):
            return "torch"
        if lower.endswith("-symbol.json"):
            return "mxnet"
        if lower.endswith((".pb", ".keras")):
            return "tensorflow"
        if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
            return "tensorflow"
        if not os.path.exists(path):
            raise KaenaError(f"{path}: no such model file")
        ext = os.path.splitext(path)[1] or "(none)"
        raise KaenaError(
            f"{path}: unsupported model format '{ext}': Kaena reads {_FORMATS}; "
            "or name the framework with --framework"
        )
    module = type(model).__module__.split(".")[0]
    if module == "onnx":
        return "onnx"
    if module == "torch" or _has_base(model, "torch."):
        return "torch"
    if module in ("tensorflow", "keras", "tf_keras") or _has_base(model, ("keras.", "tensorflow.")):
        return "tensorflow"
    raise KaenaError(
        f"cannot compile a {type(model).__name__}: pass a model file ({_FORMATS}), an onnx.ModelProto, "
        "a torch.nn.Module with example inputs, a torch.export.ExportedProgram or a tf.keras.Model"
    )


def _has_base(obj, prefixes) -> bool:
    return any(f"{c.__module__}.".startswith(prefixes) for c in type(obj).__mro__)


def frontend(framework: str):
    """The frontend package of ``framework`` (imported on first use)."""
    if framework not in FRAMEWORKS:
        raise KaenaError(f"--framework '{framework}' is not one of {', '.join(FRAMEWORKS)}")
    try:
        return importlib.import_module(f"kaena.frontends.{framework}")
    except ImportError as e:
        raise KaenaError(
            f"the {framework} frontend needs {_EXTRAS[framework]}: {e}. Install it with pip"
        ) from None


def import_model(model, *, framework: str | None = None, input_shapes: dict[str, list[int]] | None = None,
                 example_inputs=None, batch_size: int | None = None):
    """Import ``model`` (a path or a framework object) into the ``fw`` dialect;
    ``batch_size`` re-batches it first (each input's leading dimension)."""
    framework = framework or detect_framework(model)
    importer = frontend(framework)
    if batch_size is not None:
        rebatch = getattr(importer, "rebatch", None)
        if rebatch is None:
            raise KaenaError(
                f"--batch-size: the {framework} frontend cannot re-batch a model; give the batch as the "
                "leading dimension in --input-shapes (for a dynamic batch dimension) or export the model at it")
        model, input_shapes, example_inputs = rebatch(model, batch_size, input_shapes=input_shapes,
                                                      example_inputs=example_inputs)
    return importer.import_model(model, input_shapes=input_shapes, example_inputs=example_inputs)


def list_operators(framework: str) -> list[tuple[str, str]]:
    """(operator, limits) for every operator ``framework``'s importer takes."""
    return frontend(framework).list_operators()


__all__ = ["FRAMEWORKS", "SUPPORTED_OPERATORS", "detect_framework", "frontend", "import_model", "import_onnx",
           "list_operators"]
