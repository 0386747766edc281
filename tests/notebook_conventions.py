"""The conventions every chapter notebook follows, as a checker the tests run.

See ``DESIGN`` §5 and :mod:`rbmtut.book`: stored without outputs, a ``#``
title, known cell tags only, no reusable code defined in a notebook, the
Colab-guarded install first and ``setup_notebook`` second.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

__all__ = ["ALLOWED_CELL_TAGS", "check_notebook_conventions"]

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



_COLAB_GUARD = re.compile(r"""^if\s+["']google\.colab["']\s+in\s+sys\.modules\s*:""", re.M)
_PIP_LINE = re.compile(r"^\s+%pip\s+install\s.*\brbmtut\b", re.M)
_IMPORT_SYS = re.compile(r"^import\s+sys\b", re.M)
_SETUP_CALL = re.compile(r"\bsetup_notebook\(")
_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+\w", re.M)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


#: The longest code line a chapter may show (as for the package's code).
MAX_CODE_LINE = 88


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
    * no code line is longer than :data:`MAX_CODE_LINE` characters (the book
      shows cells without horizontal scrolling);
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
            long = [n for n, line in enumerate(_source(cell).splitlines(), 1)
                    if len(line) > MAX_CODE_LINE]
            if long:
                problems.append(f"{label}: lines {long} are longer than {MAX_CODE_LINE} "
                                "characters (wrap them)")
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
        problems.append(f"{label}: must call rbmtut.book.setup_notebook(")
    if "nbval-ignore-output" not in _tags(setup):
        problems.append(f"{label}: must be tagged 'nbval-ignore-output'")
    return problems
