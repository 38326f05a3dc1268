"""What the host hands the device for each model input: exact conversions only, one
clean line for anything else (docs/neff-format.md, "int32 inputs and their valid range")."""

from __future__ import annotations

import numpy as np

from kaena.errors import KaenaError
from kaena.neff import Neff
from kaena.simulator.memory import np_dtype_of


_INT32 = np.iinfo(np.int32)


def host_input(model: str, name: str, spec, value) -> np.ndarray:
    """What the host hands the device for one model input. A float32 input takes float32,
    and other arrays only where converting them is exact: float16, bfloat16 and bool (masks:
    0.0/1.0) always, float64 and integers when every value is a float32 (integers within 2**24).
    An int32 input takes integer arrays only: int64 (and narrower) are converted on the host
    after checking every value fits int32 and the input's declared ``valid_range``. The first
    bad value is named by its flat position."""
    arr = np.asarray(value)
    if spec.dtype != "int32":
        return _exact_float_input(model, name, arr, np_dtype_of(spec.dtype))
    if arr.dtype.kind not in "biu":
        raise KaenaError(
            f"{model}: input '{name}' is int32 (token ids, masks): pass an int32 or int64 array, got {arr.dtype}"
        )
    flat = arr.reshape(-1)
    if arr.dtype.kind != "b" and arr.dtype != np.int32:
        bad = np.flatnonzero((flat < _INT32.min) | (flat > _INT32.max))
        if len(bad):
            k = int(bad[0])
            raise KaenaError(
                f"{model}: value {int(flat[k])} at position {k} of input '{name}' does not fit int32 "
                f"[{_INT32.min}, {_INT32.max}]"
            )
    out = arr.astype(np.int32)
    if spec.valid_range is not None:
        lo, hi = spec.valid_range
        flat = out.reshape(-1)
        bad = np.flatnonzero((flat < lo) | (flat >= hi))
        if len(bad):
            k = int(bad[0])
            # [0, V) comes from a gather's table; a range reaching below 0 from the
            # engines' FP32 view of int32 (exact within 2**24)
            what = "token id" if lo >= 0 else "value"
            why = "" if lo >= 0 else " (the engines compare int32 exactly only within 2**24)"
            raise KaenaError(f"{model}: {what} {int(flat[k])} at position {k} of input '{name}' is outside "
                             f"[{lo}, {hi}){why}")
    return out


def _exact_float_input(model: str, name: str, arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if arr.dtype == dtype or arr.dtype in (np.float16, np_dtype_of("bfloat16"), np.bool_):
        return arr.astype(dtype)
    if arr.dtype.kind not in "iuf":
        raise KaenaError(f"{model}: input '{name}' is {np.dtype(dtype).name}: pass a {np.dtype(dtype).name} "
                         f"array, got {arr.dtype}")
    out = arr.astype(dtype)
    flat, back = arr.reshape(-1), out.reshape(-1)
    if arr.dtype.kind == "f":
        exact = (back.astype(arr.dtype) == flat) | (np.isnan(back) & np.isnan(flat))
    else:  # integers: exact within 2**24
        exact = (flat >= -(1 << 24)) & (flat <= 1 << 24)
    inexact = np.flatnonzero(~exact)
    if len(inexact):
        k = int(inexact[0])
        raise KaenaError(
            f"{model}: input '{name}' is {np.dtype(dtype).name}, and value {flat[k].item()!r} at position {k} of the "
            f"{arr.dtype} array you passed is not exactly a {np.dtype(dtype).name}: convert it yourself "
            f"(x.astype(np.{np.dtype(dtype).name})) if rounding is what you want"
        )
    return out


def check_inputs(neff: Neff, inputs: dict[str, np.ndarray], timing_only: bool) -> dict[str, np.ndarray]:
    declared = {t.name: t for t in neff.inputs}
    extra = sorted(set(inputs) - set(declared))
    if extra:
        raise KaenaError(
            f"{neff.name}: unknown input '{extra[0]}'; the model's inputs are: {', '.join(declared) or '(none)'}"
        )
    env = {}
    for name, spec in declared.items():
        if name not in inputs:
            if timing_only:
                continue
            raise KaenaError(
                f"{neff.name}: missing input '{name}' (shape {tuple(spec.shape)}, {spec.dtype}); pass a value for it"
            )
        try:
            arr = host_input(neff.name, name, spec, inputs[name])
        except (TypeError, ValueError) as e:
            raise KaenaError(f"{neff.name}: input '{name}' is not a numeric array ({e})") from None
        if tuple(arr.shape) != tuple(spec.shape):
            raise KaenaError(
                f"{neff.name}: input '{name}' has shape {tuple(arr.shape)} but the model expects {tuple(spec.shape)}"
            )
        env[name] = arr
    return env
