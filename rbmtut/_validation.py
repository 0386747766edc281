"""One input policy for every public entry point of rbmtut.

A wrong *type* is a ``TypeError``, a wrong *value* a ``ValueError``, and the
message names the argument and says what to do.  Data are checked once, where
they enter (:func:`as_model_input`): rank, width, emptiness, NaN/inf, range,
and bits where a likelihood needs bits; then converted to the model's dtype,
so float64 data reach a float32 model as float32 and nothing is silently
rounded into something else.  Symbolic tensors (inside ``tf.function``) have no
values yet, so only their static shape is checked: the checks cost nothing in
compiled loops.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import tensorflow as tf

__all__ = [
    "MAX_SEED", "check_int", "check_seed", "check_real", "check_bool", "check_choice",
    "check_instance", "check_callable", "check_float_dtype", "check_matrix",
    "as_model_input", "check_no_label_units",
]

#: Seeds are non-negative and fit in a signed 64-bit integer (TensorFlow's seed type).
MAX_SEED = 2**63 - 1


def _is_int(value) -> bool:
    return (isinstance(value, (int, np.integer))
            and not isinstance(value, (bool, np.bool_)))


def check_int(value, name: str, *, low: int | None = None,
              high: int | None = None) -> int:
    """``value`` as a Python int in ``[low, high]``; TypeError unless it is an int
    (not a bool)."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int; "
                        f"got {value!r} ({type(value).__name__}).")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            bounds = f">= {low}"
        elif low is None:
            bounds = f"<= {high}"
        else:
            bounds = f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an int {bounds}; got {value}.")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """A seed: an int in ``[0, 2**63 - 1]``; e.g. ``seed=0``."""
    if not _is_int(seed):
        raise TypeError(f"{name} must be an int in [0, 2**63 - 1], e.g. {name}=0; "
                        f"got {seed!r} ({type(seed).__name__}).")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be an int in [0, 2**63 - 1], e.g. {name}=0; "
                         f"got {seed}.")
    return int(seed)


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite Python float within the given bounds (open or closed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; "
                        f"got {value!r} ({type(value).__name__}).")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = (f"in {left}, {right}" if low is not None and high is not None
                 else f"{'>' if low_open else '>='} {low:g}" if low is not None
                 else f"{'<' if high_open else '<='} {high:g}" if high is not None
                 else "finite")
        raise ValueError(f"{name} must be a finite number {where}; got {value!r}.")
    return value


def check_bool(value, name: str) -> bool:
    """``value`` if it is a bool (True/False), else a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_choice(value, name: str, options) -> str:
    """``value`` if it is one of the strings ``options``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(options)}; got {value!r}.")
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}; got {value!r}.")
    return value


def check_instance(value, name: str, types, hint: str = "", *, what: str | None = None):
    """``value`` if it is an instance of ``types``, else a TypeError naming ``what``
    was wanted."""
    if not isinstance(value, types):
        classes = types if isinstance(types, tuple) else (types,)
        wanted = what or " or ".join(t.__name__ for t in classes)
        raise TypeError(f"{name} must be an instance of {wanted}; "
                        f"got {type(value).__name__}."
                        + (f" {hint}" if hint else ""))
    return value


def check_no_label_units(rbm, what: str) -> None:
    """Refuse an RBM with softmax label units (:class:`rbmtut.labelled_rbm.LabelledRBM`)
    where ``what`` treats every visible unit as an independent bit."""
    n_labels = getattr(rbm, "n_labels", 0)
    if n_labels:
        raise TypeError(f"{what} treats every visible unit as an independent bit; "
                        f"this RBM has {n_labels} softmax label units. Use its "
                        "label_probabilities, settle and sample_features instead.")


def check_callable(value, name: str, signature: str):
    """``value`` if it is callable, else a TypeError that shows the expected
    ``signature``."""
    if not callable(value):
        raise TypeError(f"{name} must be a function {signature}; got {value!r}.")
    return value



def check_monitors(monitors) -> dict:
    """``monitors`` (name -> ``f(model) -> number``) checked; ``None`` is ``{}``."""
    if monitors is None:
        return {}
    if not isinstance(monitors, dict):
        raise TypeError(
            "monitors must be a dict: name -> function(model) -> number, e.g. "
            "{'recon': lambda m: reconstruction_cross_entropy(m, x_valid)}; got "
            f"{type(monitors).__name__}.")
    for key, monitor in monitors.items():
        check_instance(key, "each monitor's name", str)
        check_callable(monitor, f"monitors[{key!r}]", "model -> number")
    return monitors

def check_float_dtype(dtype, name: str = "dtype") -> tf.DType:
    """``tf.float32`` or ``tf.float64`` (also given as a name or a NumPy dtype)."""
    try:
        dtype = tf.as_dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be tf.float32 or tf.float64; "
                        f"got {dtype!r}.") from err
    if dtype not in (tf.float32, tf.float64):
        raise ValueError(f"{name} must be tf.float32 or tf.float64; got {dtype.name}.")
    return dtype


def _numeric(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype == bool:
        return values
    if (not np.issubdtype(values.dtype, np.number)
            or np.issubdtype(values.dtype, np.complexfloating)):
        raise TypeError(f"{name} must hold real numbers; got dtype {values.dtype}.")
    return values


def check_matrix(x, name: str = "x", *, width: int | None = None, min_rows: int = 1,
                 what: str = "columns") -> np.ndarray:
    """A finite, real-valued NumPy matrix (n, d) with ``n >= min_rows``
    (and ``d == width``)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 2-D array of numbers; "
                        f"got {type(x).__name__}.")
    values = _numeric(np.asarray(x.numpy() if hasattr(x, "numpy") else x), name)
    _check_shape(values.shape, name, width, what)
    if values.shape[0] < min_rows:
        raise ValueError(f"{name} has {values.shape[0]} rows; need at least {min_rows}"
                         + (" (it is empty)." if values.shape[0] == 0 else "."))
    if values.shape[1] == 0:
        raise ValueError(f"{name} has no columns; need shape (n, d) with d >= 1.")
    if values.dtype != bool and not np.all(np.isfinite(values)):
        raise ValueError(
            f"{name} contains NaN or infinite values; clean the data first.")
    return values


def _check_shape(shape, name: str, width: int | None, what: str) -> None:
    if len(shape) != 2:
        expected = f"(n, {width})" if width is not None else "(n, d)"
        raise ValueError(f"{name} must be a 2-D batch of shape {expected}; got shape "
                         f"{tuple(shape)}. Flatten images first, "
                         "e.g. x.reshape(len(x), -1).")
    if width is not None and shape[1] is not None and shape[1] != width:
        raise ValueError(f"{name} has {shape[1]} columns but the model has {width} "
                         f"{what}; pass data of shape (n, {width}).")


_HINTS = {
    "unit": (
        "must lie in [0, 1] for Bernoulli units",
        "Scale pixels with rbmtut.data.to_unit_interval or binarise them first."),
    "binary": (
        "must be binary (0 or 1): a likelihood of grey levels is not a likelihood",
        "Binarise first, e.g. rbmtut.data.binarize_stochastic(images, seed=0)."),
}


def as_model_input(x, width: int, dtype, *, name: str = "x", values: str = "unit",
                   min_rows: int = 1, what: str = "visible units") -> tf.Tensor:
    """Check data (n, width) for a model and return it as a tensor of ``dtype``.

    Args:
        x: array-like or tensor (n, width).
        width: the model's input width.
        dtype: the model's float dtype; the data are cast to it.
        name: the argument's name, for messages.
        values: ``"unit"`` (each entry in [0, 1]: bits or probabilities),
            ``"binary"`` (0 or 1 only) or ``"real"`` (any finite number).
        min_rows: fewest rows allowed (1: an empty batch is an error).
        what: what the columns are, for messages.

    Returns:
        A tensor (n, width) of ``dtype``.  Symbolic tensors (while tracing a
        ``tf.function``) are only checked for their static shape.
    """
    dtype = tf.as_dtype(dtype)
    if isinstance(x, tf.Tensor) and not hasattr(x, "numpy"):  # symbolic: values unknown
        _check_shape(tuple(x.shape), name, width, what)
        return tf.cast(x, dtype)
    if isinstance(x, (tf.Tensor, tf.Variable)):
        if not (x.dtype.is_floating or x.dtype.is_integer or x.dtype == tf.bool):
            raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype.name}.")
        array = x.numpy()
    else:
        array = x
    array = check_matrix(array, name, width=width, min_rows=min_rows, what=what)
    if values != "real" and array.size:
        rule, advice = _HINTS[values]
        if values == "binary":
            bad = not np.all((array == 0) | (array == 1))
        else:
            bad = array.min() < 0 or array.max() > 1
        if bad:
            found = (f" (found values in [{array.min():g}, {array.max():g}])"
                     if values == "unit" else "")
            raise ValueError(f"{name} {rule}{found}. {advice}")
    if isinstance(x, tf.Tensor):  # keep the tensor: a cast to its own dtype is free
        return tf.cast(x, dtype)
    return tf.convert_to_tensor(np.asarray(array, dtype=dtype.as_numpy_dtype))
