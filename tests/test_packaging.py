"""The repository's packaging, book layout and quickstart stay consistent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).replace('"', "'").lower()


def _toc_files() -> list[str]:
    """Every document named in _toc.yml (root included), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in toc.items() if key != "root"})
    return found


def _book_sources(suffix: str) -> set[str]:
    return {
        path.relative_to(ROOT).with_suffix("").as_posix()
        for path in BOOK.rglob(f"*{suffix}")
        if ".ipynb_checkpoints" not in path.parts
    }


def test_environment_yml_installs_exactly_the_pyproject_requirements():
    project = _pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in ("book", "test"):
        declared += project["optional-dependencies"][extra]

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    assert any(dep.split("=")[0].strip() == "python" for dep in conda)
    assert "pip" in conda
    pip_sections = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict)]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    pip = [str(item) for item in pip_sections[0]]

    assert "-e ." in pip, "environment.yml must install the package itself (-e .)"
    listed = [_normalise(item) for item in pip if item != "-e ."]
    expected = [_normalise(item) for item in declared]
    assert len(listed) == len(set(listed)), "duplicate pip requirement"
    assert sorted(listed) == sorted(set(expected))


def test_runtime_requirements_have_lower_bounds_only():
    for requirement in _pyproject()["project"]["dependencies"]:
        assert ">=" in requirement, requirement
        assert not re.search(r"==|<|~=", requirement), requirement


def test_package_data_covers_the_embedded_data():
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]["rbmtut"]
    data_dir = ROOT / "rbmtut" / "_data"
    for path in sorted(data_dir.glob("*")):
        if path.suffix in {".npz", ".md"}:
            assert f"_data/*{path.suffix}" in package_data


def test_toc_entries_exist():
    for entry in _toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(path.is_file() for path in candidates), f"_toc.yml: {entry} missing"


def test_every_book_page_is_in_the_toc_and_vice_versa():
    toc = set(_toc_files())
    assert len(toc) == len(_toc_files()), "a page is listed twice in _toc.yml"
    notebooks = _book_sources(".ipynb")
    pages = _book_sources(".md")
    assert notebooks <= toc, f"notebooks missing from _toc.yml: {sorted(notebooks - toc)}"
    assert pages <= toc, f"pages missing from _toc.yml: {sorted(pages - toc)}"
    assert toc <= notebooks | pages


def test_config_is_valid_for_jupyter_book():
    jb_config = pytest.importorskip("jupyter_book.config")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    jb_config.validate_yaml(config, raise_on_errors=True)
    execute = config["execute"]
    assert execute["execute_notebooks"] == "force"
    assert execute["allow_errors"] is False and execute["raise_on_error"] is True
    for bib in config["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()


def test_readme_quickstart_is_exactly_the_two_make_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quickstart\n(.*?)(?=^## )", readme, re.M | re.S)
    assert section, "README.md needs a '## Quickstart' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.M | re.S)
    assert len(blocks) == 1, "the quickstart has exactly one code block"
    commands = [line.strip() for line in blocks[0].splitlines() if line.strip()]
    assert commands == ["make book", "make test"]


def test_makefile_and_ci_entry_point():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("install", "test", "book", "book-check", "bench", "clean"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    text = ci.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text and "make test" in text


def test_package_imports_in_a_fresh_interpreter(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import sys, rbmtut; print(rbmtut.__version__); "
         "print(sorted(m for m in sys.modules if m.startswith('rbmtut.book')))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr
    version, book_modules = result.stdout.strip().splitlines()[-2:]
    assert version == _pyproject()["project"]["version"]
    assert book_modules == "[]", "import rbmtut must not load the book's plumbing"
