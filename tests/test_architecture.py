"""The package's shape: dependencies point one way, no private names cross modules.

The rules (see the API page): every module imports only modules below it in
:data:`LAYERS` (generic code at the bottom, the subject above it); no module
imports another module's private name; nothing in the core imports
``rbmtut.book`` (``test_packaging`` checks that ``import rbmtut`` loads none of it); each module stays readable in one sitting; and the chapters
show public code only.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rbmtut"

#: Every core module, lowest first.  A module may import only modules listed before it.
LAYERS = [
    "rbmtut._data", "rbmtut._validation", "rbmtut._loop", "rbmtut._seeding", "rbmtut.saving", "rbmtut.nn", "rbmtut._mnist_files",
    "rbmtut.data", "rbmtut.plotting", "rbmtut.pca", "rbmtut.gibbs", "rbmtut.rbm", "rbmtut.labelled_rbm", "rbmtut.gaussian", "rbmtut.exact",
    "rbmtut.tempering", "rbmtut.centering", "rbmtut.fast_weights",
    "rbmtut.learning_rule", "rbmtut.learning", "rbmtut.likelihood", "rbmtut.gaussian_likelihood", "rbmtut.conservative",
    "rbmtut.distribute",
    "rbmtut.fitting", "rbmtut.keras_rbm", "rbmtut.regularizers", "rbmtut.autoencoders",
    "rbmtut.autoencoder_training",
    "rbmtut.dbn", "rbmtut.dbn_likelihood", "rbmtut.pretraining", "rbmtut.updown", "rbmtut.labelled_dbn", "rbmtut.vae",
    "rbmtut.hashing.codes", "rbmtut.hashing.semantic", "rbmtut.hashing.search", "rbmtut.hashing.reranking",
    "rbmtut.hashing.metrics",
    "rbmtut.hashing.baselines", "rbmtut.hashing", "rbmtut.classifiers", "rbmtut.features",
    "rbmtut",
]
#: The book's plumbing: it may import anything in the core, and the core never imports it.
BOOK = ["rbmtut.book", "rbmtut.book.timing", "rbmtut.book.floors", "rbmtut.book.benchmarks",
        "rbmtut.book.inference_benchmarks", "rbmtut.book.environments", "rbmtut.book.tables",
        "rbmtut.book.scaling", "rbmtut.book.projection", "rbmtut.book.diagrams"]
MAX_LINES = 350


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str):
    """``(imported module, imported names)`` for every import of ``name``'s module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for n in ast.walk(block)}  # imports for type hints only: no dependency
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [a.name for a in node.names]
            if module.startswith("rbmtut"):
                # `from . import x` imports the module rbmtut.x.
                submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
                if submodules:
                    for sub in submodules:
                        yield sub, []
                    continue
            yield module, names


def test_every_module_is_placed_in_a_layer():
    assert set(MODULES) == set(LAYERS) | set(BOOK), (
        "add new modules to LAYERS or BOOK: "
        f"{sorted(set(MODULES) ^ (set(LAYERS) | set(BOOK)))}")


@pytest.mark.parametrize("name", LAYERS)
def test_core_modules_import_only_modules_below_them(name):
    rank = LAYERS.index(name)
    for module, _ in _imports(name):
        if not module.startswith("rbmtut"):
            continue
        assert not module.startswith("rbmtut.book"), f"{name} imports the book plumbing {module}"
        assert module in LAYERS, f"{name} imports unknown module {module}"
        if name == "rbmtut":  # the package re-exports everything
            continue
        assert LAYERS.index(module) < rank or module.startswith(name + "."), (
            f"{name} imports {module}, which is above it")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_name_crosses_modules(name):
    for module, names in _imports(name):
        if module.startswith("rbmtut"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{name} imports private names {private} from {module}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_short(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_the_main_models_and_fitters_are_at_the_top_level():
    import rbmtut

    for name in ("BernoulliRBM", "fit_rbm", "RBMTrainer", "LearningRule", "History",
                 "train_epochs", "DBN", "fit_dbn", "UntiedDBN", "fit_updown", "Autoencoder",
                 "fit_autoencoder", "VAE", "fit_vae", "load_mnist", "load_model"):
        assert hasattr(rbmtut, name), name


def _shown_sources():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                for target in re.findall(r"show_source\(([^)]*)\)", "".join(cell["source"])):
                    yield path.name, target


def test_chapters_show_public_code_only():
    shown = list(_shown_sources())
    assert len(shown) > 30  # the check cannot pass vacuously
    private = [(page, target) for page, target in shown
               if any(part.startswith("_") for part in target.split("."))]
    assert not private, f"show_source of private names: {private}"


def test_docstrings_cite_chapters_that_exist():
    chapters = {p.stem for p in (ROOT / "book").glob("*.ipynb")}
    cited = set()
    for name, path in MODULES.items():
        for chapter in re.findall(r"``(\d\d[ab]?_[a-z0-9_]+)``", path.read_text(encoding="utf-8")):
            cited.add(chapter)
            assert chapter in chapters, f"{name} cites {chapter}, which is not a chapter"
    assert len(cited) >= 6


#: The longest line the book's listings show without scrolling (see book/_static).
MAX_LINE_LENGTH = 88


@pytest.mark.parametrize("name", sorted(MODULES))
def test_package_lines_fit_the_page(name):
    """``show_source`` prints package code into the book: no line may need scrolling."""
    lines = MODULES[name].read_text(encoding="utf-8").splitlines()
    long = [f"line {i}: {len(line)} characters" for i, line in enumerate(lines, 1)
            if len(line) > MAX_LINE_LENGTH]
    assert not long, f"{name} has lines over {MAX_LINE_LENGTH} characters: {long}"
