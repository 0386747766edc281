"""The chapters' Colab install cell: what it runs in Colab, and that it does nothing elsewhere.

``tests/colab_install_check.py`` (``make colab-check``) runs the same cell in
fresh environments that hold Colab's TensorFlow stack; these tests cover its
logic without installing anything.
"""

from pathlib import Path

import nbformat
import pytest

import colab_install_check
from rbmtut.book import COLAB_INSTALL

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
#: Chapters that train MNIST models for minutes: a Colab GPU runtime helps them.
GPU_CHAPTERS = {"02_gibbs_cd_pcd", "02b_checking_likelihoods", "02c_training_well",
                "03_tf2_surrogate_loss",
                "04_stacked_pretraining", "05a_autoencoders",
                "05b_vae_and_deep_autoencoders", "06_semantic_hashing"}


def test_outside_colab_the_cell_does_nothing():
    assert colab_install_check.run_install_cell(in_colab=False) == []


def test_in_colab_the_cell_runs_one_pip_install_of_the_package():
    [(magic, line)] = colab_install_check.run_install_cell(in_colab=True)
    assert magic == "pip"
    assert line.split()[0] == "install"
    assert '"rbmtut @ git+https://github.com/rbmtut/rbmtut"' in line


def test_check_script_reads_the_same_arguments_and_points_them_at_a_checkout(tmp_path):
    arguments = colab_install_check.install_cell_pip_arguments()
    assert arguments == ["install", "--quiet", "rbmtut @ git+https://github.com/rbmtut/rbmtut"]
    local = colab_install_check.local_requirement(arguments, tmp_path)
    assert local == ["install", "--quiet", f"rbmtut @ {tmp_path.as_uri()}"]
    with pytest.raises(AssertionError, match="one 'name @ url'"):
        colab_install_check.local_requirement(["install", "rbmtut"], tmp_path)


def test_check_script_copies_the_checkout_without_its_environment(tmp_path):
    copy = colab_install_check.copy_checkout(tmp_path / "src")
    assert (copy / "pyproject.toml").is_file() and (copy / "rbmtut" / "rbm.py").is_file()
    assert not (copy / ".venv").exists() and not (copy / ".git").exists()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_the_install_cell_and_states_its_accelerator(path):
    nb = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert first_code.source.strip() == COLAB_INSTALL.strip()
    if path.stem in GPU_CHAPTERS:
        assert nb.metadata.get("accelerator") == "GPU"
        assert nb.metadata.get("colab", {}).get("gpuType") == "T4"
    else:
        assert "accelerator" not in nb.metadata
