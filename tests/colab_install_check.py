"""Run the chapters' install cell as Colab would, in fresh virtual environments.

Colab ships its own TensorFlow, TensorFlow Probability and tf-keras.  The first
code cell of every chapter (``rbmtut.book.COLAB_INSTALL``) must then install the
package and whatever else it needs *without replacing those*, and the package
must import.  For each environment below this script:

1. creates a virtual environment and installs the given TensorFlow stack (as
   Colab's image holds it): the project's lower bounds, and the newest releases;
2. runs the install cell's ``%pip`` line with pip, the requirement pointing at
   a copy of this checkout instead of the repository's URL (``rbmtut @
   file:///…``: the same requirement syntax);
3. imports rbmtut, runs a tiny CD-1 update, and checks that TensorFlow, TFP
   and tf-keras are the versions installed in step 1.

Usage: ``python tests/colab_install_check.py [--keep] [--only lower|newest]``.
It downloads two TensorFlow stacks (about 1.5 GB), so it is a separate step of
CI (``make colab-check``) rather than part of ``make test``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What Colab's image holds, in the two cases the package promises to support.
ENVIRONMENTS = {
    "lower": ["tensorflow==2.16.*", "tensorflow-probability==0.24.*", "tf-keras==2.16.*"],
    "newest": ["tensorflow", "tensorflow-probability", "tf-keras"],
}
STACK = ("tensorflow", "tensorflow-probability", "tf-keras")

SMOKE = """
import importlib.metadata as md, json
import numpy as np
import rbmtut
from rbmtut import BernoulliRBM, fit_rbm
x = (np.random.default_rng(0).random((64, 12)) < 0.3).astype("float32")
rbm = BernoulliRBM(12, 5, seed=0)
history = fit_rbm(rbm, x, epochs=1, batch_size=16, seed=0, progress=False)
assert np.isfinite(rbm.W.numpy()).all()
print(json.dumps({name: md.version(name) for name in %r}))
""" % (STACK,)


def run_install_cell(*, in_colab: bool) -> list[tuple[str, str]]:
    """Run the chapters' install cell, in or outside a (faked) Colab.

    Returns the IPython line magics it ran, as ``(magic, line)`` pairs, without
    running them.
    """
    from rbmtut.book import COLAB_INSTALL

    calls = []

    class Recorder:
        def run_line_magic(self, magic, line):
            calls.append((magic, line))

    python = TransformerManager().transform_cell(COLAB_INSTALL)
    saved = sys.modules.pop("google.colab", None)
    if in_colab:
        sys.modules["google.colab"] = type(sys)("google.colab")
    try:
        exec(compile(python, "<install cell>", "exec"), {"get_ipython": Recorder})
    finally:
        sys.modules.pop("google.colab", None)
        if saved is not None:
            sys.modules["google.colab"] = saved
    return calls


def install_cell_pip_arguments() -> list[str]:
    """The arguments of the install cell's ``%pip`` line, as pip receives them."""
    calls = run_install_cell(in_colab=True)
    if [magic for magic, _ in calls] != ["pip"]:
        raise AssertionError(f"the install cell should run one %pip line; it ran {calls}")
    return shlex.split(calls[0][1])


def local_requirement(arguments: list[str], checkout: Path) -> list[str]:
    """``arguments`` with the ``name @ url`` requirement pointed at ``checkout``."""
    out, replaced = [], 0
    for argument in arguments:
        if " @ " in argument:
            name, _ = argument.split(" @ ", 1)
            argument = f"{name.strip()} @ {checkout.as_uri()}"
            replaced += 1
        out.append(argument)
    if replaced != 1:
        raise AssertionError(f"expected one 'name @ url' requirement in {arguments}")
    return out


def copy_checkout(destination: Path) -> Path:
    """This checkout without its environment, builds and history."""
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "_build", "build", "dist", "*.egg-info", "__pycache__",
        ".pytest_cache", ".ipynb_checkpoints",
    )
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def run(command, **kwargs):
    print("$", " ".join(map(str, command)), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def check_environment(name: str, stack: list[str], workdir: Path) -> dict:
    venv = workdir / f"venv-{name}"
    python = venv / "bin" / "python"
    started = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "install", "--quiet", "--progress-bar", "off", "--upgrade", "pip"])
    run([*pip, "install", "--quiet", "--progress-bar", "off", *stack])
    before = subprocess.run(
        [str(python), "-c",
         f"import importlib.metadata as md, json; "
         f"print(json.dumps({{n: md.version(n) for n in {STACK!r}}}))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    arguments = local_requirement(install_cell_pip_arguments(), workdir / "rbmtut-src")
    run([*pip, *arguments])
    after = subprocess.run(
        [str(python), "-c", SMOKE], check=True, capture_output=True, text=True,
        cwd=workdir,
    ).stdout.strip().splitlines()[-1]
    if before != after:
        raise AssertionError(
            f"{name}: installing rbmtut changed the TensorFlow stack: {before} -> {after}"
        )
    seconds = time.perf_counter() - started
    print(f"colab_install_check [{name}]: rbmtut imports and trains with {after} "
          f"(unchanged by the install cell), {seconds:.0f} s", flush=True)
    return {"name": name, "versions": after, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(ENVIRONMENTS), action="append")
    parser.add_argument("--keep", action="store_true", help="keep the environments")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rbmtut-colab-"))
    try:
        copy_checkout(workdir / "rbmtut-src")
        for name in args.only or list(ENVIRONMENTS):
            check_environment(name, ENVIRONMENTS[name], workdir)
    finally:
        if args.keep:
            print(f"environments kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
