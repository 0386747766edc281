"""rbmtut: energy-based unsupervised learning with TensorFlow 2.

The package behind the rbmtut book.  One concept per module:

- :mod:`rbmtut.data`: MNIST (four-tier lookup), binarisation, toy sets, batches;
- :mod:`rbmtut.notebook`: ``setup_notebook`` and helpers for the chapters.
"""

__version__ = "0.1.0"

from . import data, notebook
from .notebook import setup_notebook

__all__ = ["data", "notebook", "setup_notebook"]
