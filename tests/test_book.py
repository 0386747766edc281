"""Chapter notebooks follow the book's conventions, and the helpers work.

The chapters themselves are *executed* by nbval (``make test`` passes
``book`` with ``--nbval-lax``); this file checks how they are stored (with
the checker in ``tests/notebook_conventions.py``), and tests :mod:`rbmtut.book`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import book
from rbmtut.book import COLAB_INSTALL, get_source, setup_notebook, show_source
import notebook_conventions
from notebook_conventions import ALLOWED_CELL_TAGS, check_notebook_conventions

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(
    path for path in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_chapter_follows_conventions(path):
    problems = check_notebook_conventions(path)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


# --- the checker, on small synthetic notebooks ------------------------------


def _good_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter\n\nSome prose."),
        nbformat.v4.new_code_cell(COLAB_INSTALL, metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell(
            "import rbmtut.book\n\nctx = rbmtut.book.setup_notebook(seed=0)",
            metadata={"tags": ["nbval-ignore-output", "remove-stderr"]},
        ),
        nbformat.v4.new_markdown_cell("More prose."),
        nbformat.v4.new_code_cell("x = 1 + 1", metadata={"tags": ["hide-input"]}),
    ]
    return nb


def _write(tmp_path: Path, nb) -> Path:
    path = tmp_path / "chapter.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def _stored_output(nb):
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]


def _execution_count(nb):
    nb.cells[4].execution_count = 3


def _kernel(nb):
    nb.metadata["kernelspec"]["name"] = "venv-rbmtut"


def _no_kernel(nb):
    del nb.metadata["kernelspec"]


def _widgets(nb):
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}


def _unknown_tag(nb):
    nb.cells[4].metadata["tags"] = ["skip-execution"]


def _no_title(nb):
    nb.cells[0].source = "Some prose without a title."


def _no_guard(nb):
    nb.cells[1].source = "%pip install rbmtut"


def _no_import_sys(nb):
    nb.cells[1].source = COLAB_INSTALL.replace("import sys\n", "")


def _pip_of_something_else(nb):
    package = "rbmtut @ git+https://github.com/rbmtut/rbmtut"
    nb.cells[1].source = COLAB_INSTALL.replace(package, "numpy")


def _install_not_removed(nb):
    nb.cells[1].metadata["tags"] = ["hide-cell"]


def _setup_first(nb):
    nb.cells[1], nb.cells[2] = nb.cells[2], nb.cells[1]


def _no_setup(nb):
    nb.cells[2].source = "import rbmtut"


def _setup_output_checked(nb):
    nb.cells[2].metadata["tags"] = ["remove-stderr"]


def _only_install(nb):
    nb.cells = nb.cells[:2]


def _defines_function(nb):
    nb.cells[4].source = "import numpy as np\n\n\ndef helper(x):\n    return 2 * x"


def _defines_class(nb):
    nb.cells[4].source = "class Helper:\n    pass"


def _long_line(nb):
    nb.cells[4].source = "x = 1\n" + "y = " + "1 + " * 22 + "1"


BAD = {
    "long code line": (_long_line, "lines [2] are longer than 88 characters"),
    "stored output": (_stored_output, "has stored outputs"),
    "execution count": (_execution_count, "has an execution count"),
    "kernel name": (_kernel, "kernelspec name is 'venv-rbmtut'"),
    "no kernelspec": (_no_kernel, "kernelspec name is None"),
    "widget state": (_widgets, "widget state"),
    "unknown tag": (_unknown_tag, "unknown tags ['skip-execution']"),
    "no title": (_no_title, "'# ' title"),
    "no colab guard": (_no_guard, "google.colab"),
    "no import sys": (_no_import_sys, "import sys"),
    "installs something else": (_pip_of_something_else, "'%pip install' of rbmtut"),
    "install cell shown": (_install_not_removed, "tagged 'remove-cell'"),
    "setup before install": (_setup_first, "google.colab"),
    "no setup call": (_no_setup, "must call rbmtut.book.setup_notebook("),
    "setup output checked": (_setup_output_checked, "tagged 'nbval-ignore-output'"),
    "no setup cell": (_only_install, "no second code cell"),
    "defines a function": (_defines_function, "defines a function or class"),
    "defines a class": (_defines_class, "defines a function or class"),
}


def test_checker_accepts_a_notebook_that_follows_the_conventions(tmp_path):
    assert check_notebook_conventions(_write(tmp_path, _good_notebook())) == []


def test_checker_accepts_every_allowed_tag(tmp_path):
    nb = _good_notebook()
    nb.cells[4].metadata["tags"] = sorted(ALLOWED_CELL_TAGS)
    assert check_notebook_conventions(_write(tmp_path, nb)) == []


@pytest.mark.parametrize("name", sorted(BAD))
def test_checker_rejects(tmp_path, name):
    mutate, expected = BAD[name]
    nb = copy.deepcopy(_good_notebook())
    mutate(nb)
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    problems = check_notebook_conventions(path)
    assert any(expected in problem for problem in problems), problems


def test_checker_reports_unreadable_files(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json", encoding="utf-8")
    assert check_notebook_conventions(path)[0].startswith("cannot read")
    path.write_text("[]", encoding="utf-8")
    assert check_notebook_conventions(path) == ["not a notebook: no list of cells"]


def test_colab_install_cell_is_valid_ipython():
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(COLAB_INSTALL)
    assert "run_line_magic('pip'" in python
    compile(python, "<install cell>", "exec")


# --- setup_notebook and show_source --------------------------------------------


def test_setup_notebook_seeds_and_reports(capsys):
    ctx = setup_notebook(seed=7)
    printed = capsys.readouterr().out
    names = ("python", "rbmtut", "tensorflow", "tensorflow-probability", "numpy", "MNIST source")
    for name in names:
        assert name in printed
    assert ctx.seed == 7
    assert isinstance(ctx.rng, tf.random.Generator)
    expected = tf.random.Generator.from_seed(7).normal([5])
    np.testing.assert_array_equal(ctx.rng.normal([5]).numpy(), expected.numpy())
    np.testing.assert_array_equal(ctx.np_rng.random(4), np.random.default_rng(7).random(4))
    assert isinstance(ctx.data_source, str) and ctx.data_source
    assert ctx.device.startswith("/") and ctx.device in printed
    assert ctx.data_source in printed


def test_setup_notebook_seeds_global_generators_and_can_be_quiet(capsys):
    setup_notebook(seed=3, quiet=True)
    first = (np.random.random(3), tf.random.uniform([3]).numpy())
    setup_notebook(seed=3, quiet=True)
    second = (np.random.random(3), tf.random.uniform([3]).numpy())
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_setup_notebook_sets_figure_defaults():
    import matplotlib

    setup_notebook(seed=0, quiet=True)
    assert matplotlib.rcParams["image.interpolation"] == "nearest"
    assert matplotlib.rcParams["figure.dpi"] >= 100


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                         ("0", TypeError), (True, TypeError), (None, TypeError)])
def test_setup_notebook_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        setup_notebook(seed=seed, quiet=True)


@tf.function
def _compiled_square(x):
    return x * x  # a marker comment


class _Example:
    @property
    def answer(self):
        return 42

    def method(self):
        return "method body"


def test_get_source_sees_through_wrappers():
    assert "a marker comment" in get_source(_compiled_square)
    assert get_source(_compiled_square).startswith("@tf.function")
    assert "return 42" in get_source(_Example.answer)
    assert "method body" in get_source(_Example().method)
    assert get_source(setup_notebook).startswith("def setup_notebook(")
    assert "def check_notebook_conventions" in get_source(notebook_conventions)


def test_get_source_explains_what_it_cannot_show():
    with pytest.raises(ValueError, match="cannot find the source"):
        get_source(len)


def test_show_source_prints_outside_ipython(capsys):
    show_source(setup_notebook)
    printed = capsys.readouterr().out
    assert printed.startswith("# rbmtut.book.setup_notebook (rbmtut/book/__init__.py, line ")
    assert "def setup_notebook(" in printed


def test_show_source_displays_markdown_in_ipython(monkeypatch):
    display = pytest.importorskip("IPython.display")
    import IPython

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(display, "display", shown.append)
    show_source(_compiled_square)
    (markdown,) = shown
    text = markdown.data
    assert text.startswith("`test_book._compiled_square (")
    assert "```python\n@tf.function" in text
    assert text.rstrip().endswith("```")


def test_max_difference_compares_lists_of_arrays():
    from rbmtut.book import max_difference

    a = [np.zeros((2, 3)), np.array([1.0, 2.0])]
    b = [np.zeros((2, 3)), np.array([1.0, 2.5])]
    assert max_difference(a, b) == 0.5
    assert max_difference(a, a) == 0.0
    with pytest.raises(ValueError, match="equal length"):
        max_difference(a, b[:1])
    with pytest.raises(ValueError, match="shapes differ"):
        max_difference([np.zeros(2)], [np.zeros(3)])


def test_check_quoted_names_every_number_that_is_off():
    book.check_quoted({"a": (93.71, 93.7, 0.05), "b": (2, 2, 0)})
    with pytest.raises(AssertionError) as error:
        book.check_quoted({"a": (93.71, 93.7, 0.05), "b": (3.5, 3.0, 0.4),
                           "c": (float("nan"), 1.0, 10.0)})
    message = str(error.value)
    assert "b: the text says 3 but the chapter measured 3.5" in message
    assert "c: the text says 1" in message and "a:" not in message
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        book.check_quoted({"a": (1.0, 1.0, -0.1)})
    with pytest.raises(ValueError, match="need \\(measured, quoted, tolerance\\)"):
        book.check_quoted({"a": (1.0, 1.0)})


def test_glue_stores_plain_numbers_without_displaying_them(monkeypatch):
    myst_nb = pytest.importorskip("myst_nb")
    glued = []
    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: glued.append((args, kwargs)))
    book.glue("speed-up", np.float64(2.5))
    book.glue("label", "fast")
    assert glued == [(("speed-up", 2.5), {"display": False}), (("label", "fast"), {"display": False})]
    assert type(glued[0][0][1]) is float  # text/plain "2.5", not "np.float64(2.5)"
    with pytest.raises(TypeError, match="number or a string"):
        book.glue("bad", [1, 2])


def test_glue_does_nothing_without_myst_nb(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # makes the import fail
    assert book.glue("speed-up", 2.5) is None
