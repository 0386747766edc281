"""rbmtut: energy-based unsupervised learning with TensorFlow 2.

The package behind the rbmtut book.  One concept per module:

- :mod:`rbmtut.data`: MNIST (four-tier lookup), binarisation, toy sets, batches;
- :mod:`rbmtut.rbm`: the Bernoulli RBM (energy, free energy, conditionals);
- :mod:`rbmtut.gibbs`: block Gibbs steps, k-step and persistent chains;
- :mod:`rbmtut.training`: CD-k, PCD-k, the surrogate loss and the trainer;
- :mod:`rbmtut.fitting`: the epoch loop, checkpoints and ``fit_rbm``;
- :mod:`rbmtut.keras_rbm`: an RBM that trains with Keras ``model.fit``;
- :mod:`rbmtut.distribute`: data-parallel updates with ``tf.distribute``, same noise as one device;
- :mod:`rbmtut.estimators`: reconstruction, pseudo-likelihood, exact and AIS log Z;
- :mod:`rbmtut.dbn`: deep belief nets: greedy pretraining, passes, sampling,
  unrolling into an autoencoder;
- :mod:`rbmtut.finetuning`: up-down fine-tuning and a Keras classifier from a stack;
- :mod:`rbmtut.pca`: principal component analysis, the linear baseline;
- :mod:`rbmtut.autoencoders`: dense autoencoders (tied or untied), stacking, corruption, sparsity;
- :mod:`rbmtut.vae`: the variational autoencoder with TFP distributions, ELBO and IWAE bounds;
- :mod:`rbmtut.hashing`: binary codes, packed Hamming search, retrieval metrics and the
  LSH, PCA-sign and PCA-ITQ baselines;
- :mod:`rbmtut.classifiers`: a fast RBF-kernel SVM for judging learned features;
- :mod:`rbmtut.plotting`: image tiles, curves and histograms;
- :mod:`rbmtut.timing` and :mod:`rbmtut.benchmarks`: side-by-side timings against scikit-learn
  and a matrix-multiply floor (the performance appendix and ``make bench``);
- :mod:`rbmtut.notebook`: ``setup_notebook`` and helpers for the chapters.
"""

__version__ = "0.1.0"

from . import autoencoders, benchmarks, classifiers, data, dbn, distribute, estimators, finetuning, fitting, gibbs, hashing, keras_rbm, notebook, pca, plotting, rbm, timing, training, vae
from .notebook import setup_notebook
from .rbm import BernoulliRBM
from .fitting import fit_rbm

__all__ = [
    "BernoulliRBM",
    "autoencoders",
    "benchmarks",
    "classifiers",
    "data",
    "dbn",
    "distribute",
    "estimators",
    "finetuning",
    "fit_rbm",
    "fitting",
    "gibbs",
    "hashing",
    "keras_rbm",
    "notebook",
    "pca",
    "plotting",
    "rbm",
    "setup_notebook",
    "timing",
    "training",
    "vae",
]
