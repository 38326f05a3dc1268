"""Arithmetic: elemwise_*/broadcast_*/_plus... (numpy broadcasting), arithmetic
with a scalar attribute (_plus_scalar...), add_n, and the identities at inference
(_copy, Dropout, Cast to float32, BlockGrad)."""

from __future__ import annotations

from collections.abc import Callable

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import Importer, Unsupported, accepts, float_attr
from kaena.frontends.mxnet.symbol import Node

# The exponents fw.pow lowers onto the scalar engine.
POW_EXPONENTS = (1.0, 2.0, 3.0, 0.5, -0.5, -1.0)


def _binary(cls: type[fw.BinaryOp]) -> Callable[[Importer, Node], None]:
    def conv(imp: Importer, node: Node) -> None:
        a, b = imp.input(node, 0), imp.input(node, 1)
        imp.define(node, imp.make(cls(a, b, a.type)))
    return conv


def _scalar(cls: type[fw.BinaryOp], reverse: bool = False) -> Callable[[Importer, Node], None]:
    """``x op scalar`` (``scalar op x`` for the _r* ops)."""

    def conv(imp: Importer, node: Node) -> None:
        value = float_attr(node, "scalar")
        if value is None:
            raise Unsupported("needs a scalar")
        x = imp.input(node, 0)
        s = imp.scalar(node, "scalar", value)
        imp.define(node, imp.make(cls(s, x, x.type) if reverse else cls(x, s, x.type)))
    return conv


def _power_scalar(imp: Importer, node: Node) -> None:
    value = float_attr(node, "scalar")
    if value not in POW_EXPONENTS:
        raise Unsupported(f"exponent {value} is not supported (1, 2, 3, 0.5, -0.5, -1 are)")
    imp.define(node, imp.make(fw.PowOp(imp.input(node, 0), value)))


def _add_n(imp: Importer, node: Node) -> None:
    values = imp.inputs(node)
    if not values:
        raise Unsupported("needs at least one input")
    acc = values[0]
    for v in values[1:]:
        acc = imp.make(fw.AddOp(acc, v, acc.type))
    imp.define(node, acc if len(values) > 1 else imp.make(fw.IdentityOp(acc)))


def _identity(imp: Importer, node: Node) -> None:
    imp.define(node, imp.make(fw.IdentityOp(imp.input(node, 0))))




_ADD, _SUB, _MUL, _DIV = (_binary(c) for c in (fw.AddOp, fw.SubOp, fw.MulOp, fw.DivOp))
_MAX, _MIN = _binary(fw.MaxOp), _binary(fw.MinOp)
_NONE = accepts()
_SCALAR = accepts("scalar", "is_int")

CONVERTERS = {
    **{name: (_NONE, _ADD) for name in ("elemwise_add", "_plus", "_Plus", "_add", "broadcast_add",
                                        "broadcast_plus")},
    **{name: (_NONE, _SUB) for name in ("elemwise_sub", "_minus", "_Minus", "_sub", "broadcast_sub",
                                        "broadcast_minus")},
    **{name: (_NONE, _MUL) for name in ("elemwise_mul", "_mul", "_Mul", "broadcast_mul")},
    **{name: (_NONE, _DIV) for name in ("elemwise_div", "_div", "_Div", "broadcast_div")},
    **{name: (_NONE, _MAX) for name in ("_maximum", "_Maximum", "broadcast_maximum")},
    **{name: (_NONE, _MIN) for name in ("_minimum", "_Minimum", "broadcast_minimum")},
    "_plus_scalar": (_SCALAR, _scalar(fw.AddOp)),
    "_minus_scalar": (_SCALAR, _scalar(fw.SubOp)),
    "_rminus_scalar": (_SCALAR, _scalar(fw.SubOp, reverse=True)),
    "_mul_scalar": (_SCALAR, _scalar(fw.MulOp)),
    "_div_scalar": (_SCALAR, _scalar(fw.DivOp)),
    "_rdiv_scalar": (_SCALAR, _scalar(fw.DivOp, reverse=True)),
    "_maximum_scalar": (_SCALAR, _scalar(fw.MaxOp)),
    "_minimum_scalar": (_SCALAR, _scalar(fw.MinOp)),
    "_power_scalar": (_SCALAR, _power_scalar),
    "add_n": (accepts("num_args"), _add_n),
    "ElementWiseSum": (accepts("num_args"), _add_n),
    "_copy": (_NONE, _identity),
    "identity": (_NONE, _identity),
    "BlockGrad": (_NONE, _identity),
    "stop_gradient": (_NONE, _identity),
    # Dropout mode 'always' drops at inference too; Cast: Kaena's MXNet graphs compute in float32
    # (auto-cast picks BF16 for the hardware)
    "Dropout": (accepts("p", "axes", "cudnn_off", mode=("training",)), _identity),
    "Cast": (accepts(dtype=("float32",)), _identity),
}
_BROADCAST = "numpy broadcasting"
NOTES = {
    **{name: _BROADCAST for name in CONVERTERS if name.startswith("broadcast_")},
    "Dropout": "inference (identity); no mode='always'",
    "Cast": "to float32 only (identity)",
    "_power_scalar": "exponent 1, 2, 3, 0.5, -0.5 or -1",
}
