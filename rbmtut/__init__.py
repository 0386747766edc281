"""rbmtut: energy-based unsupervised learning with TensorFlow 2.

The package behind the rbmtut book.  One concept per module, in dependency
order (each module imports only those above it):

- :mod:`rbmtut.nn`: binary units, activations, dense layers, the Bernoulli
  cross-entropy;
- :mod:`rbmtut.data`: MNIST (four-tier lookup), binarisation, toy sets;
- :mod:`rbmtut.gibbs`: block Gibbs steps, k-step and persistent chains;
- :mod:`rbmtut.rbm`: the Bernoulli RBM (energy, free energy, conditionals, sampling);
- :mod:`rbmtut.gaussian`: RBMs with Gaussian units (real-valued visibles,
  linear hidden units);
- :mod:`rbmtut.exact`: exact log Z, p(v) and model statistics of tiny RBMs;
- :mod:`rbmtut.learning_rule` and :mod:`rbmtut.learning`: CD-k, PCD-k, the
  surrogate loss, the learning rule and the trainer;
- :mod:`rbmtut.likelihood`: reconstruction, pseudo-likelihood, AIS, log-likelihood;
  :mod:`rbmtut.gaussian_likelihood`: the same for Gaussian units, and the
  full-covariance Gaussian baseline;
- :mod:`rbmtut.distribute`: the multi-device trainer, same noise as one device;
- :mod:`rbmtut.fitting`: ``fit_rbm``, monitors and checkpoints;
- :mod:`rbmtut.keras_rbm`: an RBM that trains with Keras ``model.fit``;
- :mod:`rbmtut.autoencoders`, :mod:`rbmtut.autoencoder_training` and
  :mod:`rbmtut.regularizers`: dense autoencoders, their training, corruption
  and sparsity; :mod:`rbmtut.pca`: the linear baseline;
- :mod:`rbmtut.dbn`, :mod:`rbmtut.pretraining`, :mod:`rbmtut.updown`: deep belief
  nets, greedy pretraining, up-down fine-tuning; :mod:`rbmtut.dbn_likelihood`:
  the variational bound on a DBN's log-likelihood; :mod:`rbmtut.labelled_rbm`
  and :mod:`rbmtut.labelled_dbn`: the DBN with softmax label units;
- :mod:`rbmtut.vae`: the variational autoencoder, ELBO and IWAE bounds;
- :mod:`rbmtut.hashing`: binary codes, Hamming search, retrieval metrics, baselines;
- :mod:`rbmtut.classifiers` and :mod:`rbmtut.features`: judging learned
  features (an RBF SVM, Keras classifiers, scikit-learn transformers);
- :mod:`rbmtut.plotting`: image tiles, curves and histograms;
- :mod:`rbmtut.saving`: ``save``/``load`` of every model.

The generic machinery lives in two private modules: ``rbmtut._validation``
(one input policy) and ``rbmtut._loop`` (the one training loop and
:class:`History`).  :mod:`rbmtut.book` holds the chapters' helpers and the
benchmarks; nothing above imports it.
"""

__version__ = "0.1.0"

from . import (autoencoder_training, autoencoders, classifiers, data, dbn,
               dbn_likelihood, distribute,
               exact, features, fitting, gaussian, gaussian_likelihood, gibbs,
               hashing, keras_rbm, labelled_dbn, labelled_rbm, learning,
               learning_rule, likelihood, nn, pca, plotting, pretraining, rbm,
               regularizers, saving, updown, vae)
from ._loop import History, train_epochs
from .autoencoder_training import fit_autoencoder
from .autoencoders import Autoencoder
from .data import load_mnist
from .dbn import DBN
from .fitting import fit_rbm
from .gaussian import BernoulliGaussianRBM, GaussianBernoulliRBM
from .labelled_dbn import LabelledDBN
from .labelled_rbm import LabelledRBM
from .learning import RBMTrainer
from .learning_rule import LearningRule
from .pretraining import fit_dbn
from .rbm import BernoulliRBM
from .saving import load_model
from .updown import UntiedDBN, UpDownTrainer, fit_updown
from .vae import VAE, fit_vae

__all__ = [
    # models and how they learn
    "BernoulliRBM", "GaussianBernoulliRBM", "BernoulliGaussianRBM", "LabelledRBM",
    "LearningRule", "RBMTrainer", "fit_rbm", "train_epochs", "History",
    "DBN", "fit_dbn", "UntiedDBN", "UpDownTrainer", "fit_updown", "LabelledDBN",
    "Autoencoder", "fit_autoencoder", "VAE", "fit_vae", "load_mnist", "load_model",
    # modules
    "autoencoder_training", "autoencoders", "classifiers", "data", "dbn",
    "dbn_likelihood", "distribute",
    "exact", "features", "fitting", "gaussian", "gaussian_likelihood", "gibbs",
    "hashing", "keras_rbm", "labelled_dbn", "labelled_rbm", "learning",
    "learning_rule", "likelihood", "nn", "pca", "plotting", "pretraining", "rbm",
    "regularizers", "saving", "updown", "vae",
]
