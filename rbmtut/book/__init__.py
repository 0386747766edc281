"""Helpers for the book's chapter notebooks: set-up, showing code, quoting numbers.

Every chapter starts with the same two code cells:

1. an install cell (:data:`COLAB_INSTALL`) that does something only inside
   Google Colab, tagged ``remove-cell`` so the book does not show it;
2. a call to :func:`setup_notebook`, tagged ``nbval-ignore-output`` because
   it prints versions and devices that differ between machines (and
   usually ``remove-stderr`` too, which hides TensorFlow's start-up log).

:func:`setup_notebook` is the one documented place in the project that seeds
global random generators (for third-party code such as Keras initialisers).
Everything in ``rbmtut`` itself takes an explicit ``seed`` or
``tf.random.Generator`` instead.

Chapters never define reusable code; they show the package's code with
:func:`show_source`, hand measured numbers to the prose with :func:`glue`,
check the numbers the prose quotes with :func:`check_quoted`, and display
results tables with :func:`show_table` (:mod:`rbmtut.book.tables`).  The
benchmarks of the performance appendix are in :mod:`rbmtut.book.timing` and
:mod:`rbmtut.book.benchmarks`.  Nothing in the rest of rbmtut imports this
sub-package.
"""

from __future__ import annotations

import inspect
import os
import platform
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._validation import check_int
from .tables import Table, show_table

if TYPE_CHECKING:  # imported lazily at run time: importing TF is slow
    import tensorflow as tf

__all__ = [
    "COLAB_INSTALL",
    "NotebookContext",
    "Table",
    "check_quoted",
    "get_source",
    "glue",
    "max_difference",
    "setup_notebook",
    "show_source",
    "show_table",
]

#: Source of the first code cell of every chapter (tagged ``remove-cell``).
#: Outside Colab it only imports ``sys``; inside Colab it installs the
#: package from the repository, which pulls in the dependencies Colab lacks.
COLAB_INSTALL = """\
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "rbmtut @ git+https://github.com/rbmtut/rbmtut"
"""

_FIGURE_DEFAULTS = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "figure.figsize": (6.4, 4.0),
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
}


class NotebookContext(NamedTuple):
    """What :func:`setup_notebook` prepared for a chapter."""

    #: The seed the chapter was set up with.
    seed: int
    #: A TensorFlow generator made with ``from_seed(seed)``; pass it (or
    #: seeds drawn from it) to the ``rbmtut`` functions that sample.
    rng: tf.random.Generator
    #: A NumPy generator made with ``np.random.default_rng(seed)``.
    np_rng: np.random.Generator
    #: Where the MNIST digits come from, as reported by
    #: ``rbmtut.data.load_mnist``.
    data_source: str
    #: Name of the device TensorFlow places operations on by default, for
    #: example ``"/device:CPU:0"`` or ``"/device:GPU:0"``.
    device: str


def _default_device(tf: Any) -> tuple[str, list[str]]:
    """Return the default device name and a description of all devices."""
    gpus = tf.config.list_logical_devices("GPU")
    cpus = tf.config.list_logical_devices("CPU")
    described = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        described.append(f"{gpu.name} ({details.get('device_name', 'GPU')})")
    described.extend(cpu.name for cpu in tf.config.list_physical_devices("CPU"))
    default = (gpus or cpus)[0].name
    return default, described


def setup_notebook(seed: int = 0, *, quiet: bool = False) -> NotebookContext:
    """Prepare a chapter: report versions, device and data, set seeds and figure style.

    This is the only function in ``rbmtut`` that touches global random state:
    it calls ``tf.keras.utils.set_random_seed(seed)``, which seeds Python's
    ``random``, NumPy's global generator and TensorFlow's global seed, so
    that third-party code (for example Keras weight initialisers) is
    reproducible too.  Library functions take explicit seeds or generators;
    use ``ctx.rng`` and ``ctx.np_rng`` for those.

    It also sets a few matplotlib defaults (resolution, font sizes, nearest
    neighbour interpolation for pixel images) and loads MNIST to report
    where the digits come from (see ``rbmtut.data.load_mnist``).

    Args:
        seed: non-negative integer below 2**32 that seeds everything.
        quiet: if True, print nothing.

    Returns:
        A :class:`NotebookContext` with the seed, a ``tf.random.Generator``,
        a NumPy ``Generator``, the MNIST data source and the default device.

    Raises:
        TypeError: if ``seed`` is not an int; ValueError: if it is outside [0, 2**32).

    Example:
        The second code cell of every chapter::

            from rbmtut import book

            ctx = book.setup_notebook(seed=0)
    """
    # NumPy's global seed is 32-bit.
    seed = check_int(seed, "seed", low=0, high=2**32 - 1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import matplotlib
    import matplotlib.pyplot as plt  # activates the notebook backend first
    import tensorflow as tf
    import tensorflow_probability as tfp

    from .. import __version__
    from ..data import load_mnist

    plt.rcParams.update(_FIGURE_DEFAULTS)
    tf.keras.utils.set_random_seed(seed)
    rng = tf.random.Generator.from_seed(seed)
    np_rng = np.random.default_rng(seed)
    device, devices = _default_device(tf)
    data_source = str(load_mnist(verbose=False).source)

    if not quiet:
        onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
        onednn = "off" if onednn == "0" else "TensorFlow's default"
        rows = [
            ("python", platform.python_version()),
            ("rbmtut", __version__),
            ("tensorflow", tf.__version__),
            ("tensorflow-probability", tfp.__version__),
            ("numpy", np.__version__),
            ("matplotlib", matplotlib.__version__),
            ("devices", ", ".join(devices)),
            ("default device", device),
            ("oneDNN CPU kernels", onednn),
            ("MNIST source", data_source),
            ("seed", str(seed)),
        ]
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
    return NotebookContext(seed, rng, np_rng, data_source, device)


def _unwrap(obj: Any) -> Any:
    """Find the plain Python object behind ``tf.function`` and other wrappers."""
    for attr in ("python_function", "__wrapped__", "__func__", "func", "fget"):
        inner = getattr(obj, attr, None)
        if inner is not None and inner is not obj:
            return _unwrap(inner)
    return obj


def get_source(obj: Any) -> str:
    """Return the source code of a function, method, class or module.

    Works through ``tf.function``, ``functools.wraps`` decorators, bound
    methods and properties.

    Args:
        obj: the object, e.g. ``rbmtut.rbm.BernoulliRBM.free_energy``.

    Returns:
        The dedented source text, decorators included.

    Raises:
        ValueError: if Python cannot find the source (for example for a
            built-in or for something defined interactively).
    """
    target = obj
    try:
        source = inspect.getsource(target)
    except (TypeError, OSError):
        target = _unwrap(obj)
        try:
            source = inspect.getsource(target)
        except (TypeError, OSError) as exc:
            raise ValueError(
                f"cannot find the source of {obj!r}: pass a function, class, "
                "method or module defined in a .py file."
            ) from exc
    return textwrap.dedent(source)


def _describe(obj: Any) -> str:
    target = _unwrap(obj)
    module = getattr(target, "__module__", None) or getattr(target, "__name__", "")
    qualname = getattr(target, "__qualname__", None)
    name = f"{module}.{qualname}" if qualname else str(module)
    try:
        path = Path(inspect.getsourcefile(target) or "")
        _, first = inspect.getsourcelines(target)
    except (TypeError, OSError):
        return name
    package_root = Path(__file__).resolve().parent.parent.parent
    try:
        shown = path.resolve().relative_to(package_root).as_posix()
    except ValueError:
        shown = path.name
    return f"{name} ({shown}, line {first})"


def show_source(obj: Any) -> None:
    """Display the source code of a package object in a notebook.

    Chapters use this instead of defining code themselves: the text shown is
    the code that runs.  In IPython/Jupyter the source is displayed as a
    highlighted Markdown code block (the book renders it the same way);
    elsewhere it is printed.

    Args:
        obj: the function, method, class or module to show.

    Raises:
        ValueError: if the source cannot be found (see :func:`get_source`).
    """
    source = get_source(obj)
    title = _describe(obj)
    longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    markdown = f"`{title}`\n\n{fence}python\n{source.rstrip()}\n{fence}\n"
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(markdown))
    else:
        print(f"# {title}\n{source.rstrip()}")


def max_difference(first, second) -> float:
    """Largest absolute elementwise difference between two lists of arrays.

    Chapters use it to compare gradients or parameters, e.g. autodiff against
    the analytic statistics, or a resumed run against an uninterrupted one.

    Args:
        first, second: sequences of equally shaped arrays or tensors.

    Returns:
        ``max_k max |first[k] - second[k]|`` as a Python float.
    """
    first, second = list(first), list(second)
    if len(first) != len(second):
        raise ValueError(
            f"need lists of equal length; got {len(first)} and {len(second)}."
        )
    gaps = []
    for a, b in zip(first, second):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"shapes differ: {a.shape} and {b.shape}.")
        gaps.append(np.max(np.abs(a - b), initial=0.0))
    return float(max(gaps, default=0.0))


def glue(name: str, value: Any) -> None:
    """Hand a measured number (or text) to the page's prose, without displaying it.

    The prose shows it with a MyST role such as ``{glue:text}`name:.1f```,
    so a number that varies from machine to machine (a timing) is printed
    as this run measured it.  Uses ``myst_nb.glue``; where myst-nb is not
    installed (Colab, a bare Jupyter) it does nothing, and the prose shows
    the role's text instead of the number.

    Args:
        name: the key the prose refers to.
        value: a real number (stored as a Python float or int) or a string.
    """
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if not isinstance(value, (int, float, str)) or isinstance(value, bool):
        raise TypeError(f"glue takes a number or a string; got {type(value).__name__}.")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)


def check_quoted(quoted: dict) -> None:
    """Assert that every number a chapter's prose quotes is what the chapter measured.

    Args:
        quoted: description -> ``(measured, quoted, tolerance)``; the prose
            says ``quoted``, the chapter computed ``measured``, and they may
            differ by at most ``tolerance`` (room for rounding and for the
            run-to-run differences of another machine).

    Raises:
        AssertionError: naming every quoted number that is off.
        ValueError: if a tolerance is negative or an entry is malformed.
    """
    wrong = []
    for what, entry in quoted.items():
        if len(entry) != 3:
            raise ValueError(
                f"{what!r}: need (measured, quoted, tolerance); got {entry!r}."
            )
        measured, said, tolerance = (float(v) for v in entry)
        if not tolerance >= 0:
            raise ValueError(f"{what!r}: tolerance must be >= 0; got {tolerance}.")
        if not abs(measured - said) <= tolerance:  # also catches NaN
            wrong.append(f"{what}: the text says {said:g} but the chapter measured "
                         f"{measured:.4g} (tolerance {tolerance:g})")
    if wrong:
        raise AssertionError("quoted numbers are off:\n  " + "\n  ".join(wrong))


