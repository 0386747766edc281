"""Helpers for the book's chapter notebooks.

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
:func:`show_source`.  :func:`check_notebook_conventions` is the checker that
the test suite runs on every chapter.
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # imported lazily at run time: importing TF is slow
    import tensorflow as tf

__all__ = [
    "ALLOWED_CELL_TAGS",
    "COLAB_INSTALL",
    "NotebookContext",
    "check_notebook_conventions",
    "get_source",
    "glue",
    "max_difference",
    "setup_notebook",
    "show_source",
]

#: Source of the first code cell of every chapter (tagged ``remove-cell``).
#: Outside Colab it only imports ``sys``; inside Colab it installs the
#: package from the repository, which pulls in the dependencies Colab lacks.
COLAB_INSTALL = """\
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "rbmtut @ git+https://github.com/rbmtut/rbmtut"
"""

#: Cell tags a chapter may use.  ``remove-*`` and ``hide-*`` are Jupyter
#: Book display tags (``remove-stderr`` hides, for example, the log lines
#: TensorFlow writes when it is first imported), ``nbval-ignore-output``
#: stops nbval comparing outputs that differ between machines, and
#: ``raises-exception`` marks a cell that demonstrates an error (both
#: Jupyter Book and nbval honour it).  Tags that
#: skip execution in only one of the two runners (``skip-execution``,
#: ``nbval-skip``) are deliberately absent: CI must run exactly what the
#: book runs.
ALLOWED_CELL_TAGS = frozenset(
    {
        "remove-cell",
        "remove-input",
        "remove-output",
        "remove-stderr",
        "remove-stdout",
        "hide-cell",
        "hide-input",
        "hide-output",
        "scroll-output",
        "full-width",
        "margin",
        "nbval-ignore-output",
        "raises-exception",
    }
)

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


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"seed must be a non-negative integer, got {seed!r} "
            f"({type(seed).__name__}); pass e.g. seed=0."
        )
    if seed < 0 or seed >= 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}; pass e.g. seed=0.")
    return int(seed)


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
        ValueError: if ``seed`` is not an integer in [0, 2**32).

    Example:
        The second code cell of every chapter::

            import rbmtut

            ctx = rbmtut.setup_notebook(seed=0)
    """
    seed = _check_seed(seed)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import matplotlib
    import matplotlib.pyplot as plt  # activates the notebook backend first
    import tensorflow as tf
    import tensorflow_probability as tfp

    from . import __version__
    from . import data as _data

    plt.rcParams.update(_FIGURE_DEFAULTS)
    tf.keras.utils.set_random_seed(seed)
    rng = tf.random.Generator.from_seed(seed)
    np_rng = np.random.default_rng(seed)
    device, devices = _default_device(tf)
    data_source = str(_data.load_mnist(verbose=False).source)

    if not quiet:
        rows = [
            ("python", platform.python_version()),
            ("rbmtut", __version__),
            ("tensorflow", tf.__version__),
            ("tensorflow-probability", tfp.__version__),
            ("numpy", np.__version__),
            ("matplotlib", matplotlib.__version__),
            ("devices", ", ".join(devices)),
            ("default device", device),
            ("oneDNN CPU kernels", {"0": "off"}.get(os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                                                    "TensorFlow's default")),
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
    package_root = Path(__file__).resolve().parent.parent
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


_COLAB_GUARD = re.compile(r"""^if\s+["']google\.colab["']\s+in\s+sys\.modules\s*:""", re.M)
_PIP_LINE = re.compile(r"^\s+%pip\s+install\s.*\brbmtut\b", re.M)
_IMPORT_SYS = re.compile(r"^import\s+sys\b", re.M)
_SETUP_CALL = re.compile(r"\bsetup_notebook\(")
_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+\w", re.M)


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
        raise ValueError(f"need lists of equal length; got {len(first)} and {len(second)}.")
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
            raise ValueError(f"{what!r}: need (measured, quoted, tolerance); got {entry!r}.")
        measured, said, tolerance = (float(v) for v in entry)
        if not tolerance >= 0:
            raise ValueError(f"{what!r}: tolerance must be >= 0; got {tolerance}.")
        if not abs(measured - said) <= tolerance:  # also catches NaN
            wrong.append(f"{what}: the text says {said:g} but the chapter measured "
                         f"{measured:.4g} (tolerance {tolerance:g})")
    if wrong:
        raise AssertionError("quoted numbers are off:\n  " + "\n  ".join(wrong))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def check_notebook_conventions(path: str | os.PathLike) -> list[str]:
    """List the ways a chapter notebook breaks the book's conventions.

    The conventions are:

    * stored without outputs: no outputs, no execution counts, no widget
      state;
    * kernelspec name ``python3``;
    * the first cell is a Markdown cell starting with a ``#`` heading (the page title);
    * only tags from :data:`ALLOWED_CELL_TAGS`;
    * no code cell defines a function or class (reusable code lives in
      ``rbmtut``);
    * the first code cell is the Colab-guarded install (``import sys``,
      ``if "google.colab" in sys.modules:`` and an indented ``%pip install``
      of ``rbmtut``), tagged ``remove-cell``;
    * the second code cell calls ``setup_notebook(``, tagged
      ``nbval-ignore-output``.

    Args:
        path: the ``.ipynb`` file.

    Returns:
        Human-readable problems, empty if the notebook follows every
        convention.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"cannot read the notebook as JSON: {exc}"]
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return ["not a notebook: no list of cells"]

    problems = []
    if nb.get("nbformat") != 4:
        problems.append(f"nbformat is {nb.get('nbformat')!r}, expected 4")
    metadata = nb.get("metadata", {})
    kernel = metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, expected 'python3'")
    if "widgets" in metadata:
        problems.append("notebook metadata stores widget state (clear it)")

    cells = nb["cells"]
    first = cells[0] if cells else {}
    if first.get("cell_type") != "markdown" or not _source(first).lstrip().startswith("# "):
        problems.append("the first cell must be a Markdown cell starting with a '# ' title")

    code_cells = []
    for index, cell in enumerate(cells):
        label = f"cell {index} ({cell.get('cell_type')})"
        unknown = sorted(set(_tags(cell)) - ALLOWED_CELL_TAGS)
        if unknown:
            problems.append(f"{label}: unknown tags {unknown}")
        if cell.get("cell_type") == "code":
            code_cells.append((index, cell))
            if cell.get("outputs"):
                problems.append(f"{label}: has stored outputs (clear them)")
            if cell.get("execution_count") is not None:
                problems.append(f"{label}: has an execution count (clear outputs)")
            if _DEFINITION.search(_source(cell)):
                problems.append(f"{label}: defines a function or class; reusable code "
                                "belongs in the rbmtut package")

    if not code_cells:
        problems.append("no code cells: expected the install and setup cells")
        return problems

    index, install = code_cells[0]
    source = _source(install)
    label = f"cell {index} (first code cell)"
    if not _IMPORT_SYS.search(source):
        problems.append(f"{label}: must 'import sys' for the Colab guard")
    if not _COLAB_GUARD.search(source):
        problems.append(
            f"{label}: must guard the install with 'if \"google.colab\" in sys.modules:'"
        )
    if not _PIP_LINE.search(source):
        problems.append(f"{label}: must contain an indented '%pip install' of rbmtut")
    if "remove-cell" not in _tags(install):
        problems.append(f"{label}: must be tagged 'remove-cell'")

    if len(code_cells) < 2:
        problems.append("no second code cell: expected a call to setup_notebook(")
        return problems
    index, setup = code_cells[1]
    label = f"cell {index} (second code cell)"
    if not _SETUP_CALL.search(_source(setup)):
        problems.append(f"{label}: must call rbmtut.setup_notebook(")
    if "nbval-ignore-output" not in _tags(setup):
        problems.append(f"{label}: must be tagged 'nbval-ignore-output'")
    return problems
