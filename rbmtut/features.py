"""Learned features as scikit-learn transformers: an RBM or a DBN inside a ``Pipeline``.

:class:`RBMFeatures` and :class:`DBNFeatures` follow scikit-learn's estimator
contract (``fit``/``transform``/``fit_transform``, ``get_params``/``set_params``,
``clone``), so a student can write::

    Pipeline([("rbm", RBMFeatures(256, epochs=10)), ("clf", LogisticRegression())])

and cross-validate it like any other model.  The features are the
mean-field hidden probabilities ``p(h | x)`` of the (top) layer.  Inputs must
lie in [0, 1] (pixel intensities or bits), as for Bernoulli units.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .dbn import DBN
from .fitting import fit_rbm
from .pretraining import fit_dbn
from .rbm import BernoulliRBM

__all__ = ["RBMFeatures", "DBNFeatures"]


def _unit_interval(X, estimator, *, reset: bool) -> np.ndarray:
    X = validate_data(estimator, X, reset=reset, dtype=(np.float32, np.float64))
    if X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError(
            f"X must lie in [0, 1] for Bernoulli units (found [{X.min():g}, "
            f"{X.max():g}]); scale it, e.g. with MinMaxScaler, first.")
    return np.asarray(X, np.float32)


class RBMFeatures(TransformerMixin, BaseEstimator):
    """A Bernoulli RBM trained by :func:`rbmtut.fit_rbm`; features ``p(h = 1 | x)``.

    Args:
        n_hidden: hidden units (the number of features).
        epochs, batch_size, method, k, learning_rate, momentum, weight_decay:
            as for :func:`rbmtut.fit_rbm` (the batch is capped at the number
            of samples).
        seed: seeds the weights, the Gibbs noise and the shuffles.
        init_visible_bias: start the visible biases at the data's log-odds.

    Attributes:
        rbm_: the trained :class:`~rbmtut.rbm.BernoulliRBM`.
        history_: its training :class:`~rbmtut.History`.
        n_features_in_: input width seen by ``fit``.
    """

    def __init__(self, n_hidden: int = 256, *, epochs: int = 10, batch_size: int = 100,
                 method: str = "cd", k: int = 1, learning_rate: float = 0.05,
                 momentum: float = 0.5, weight_decay: float = 0.0, seed: int = 0,
                 init_visible_bias: bool = True):
        self.n_hidden = n_hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.method = method
        self.k = k
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.seed = seed
        self.init_visible_bias = init_visible_bias

    def fit(self, X, y=None) -> RBMFeatures:
        """Train an RBM on ``X`` (n_samples, n_features) in [0, 1]; ``y`` is ignored."""
        X = _unit_interval(X, self, reset=True)
        rbm = BernoulliRBM(X.shape[1], self.n_hidden, seed=self.seed)
        if self.init_visible_bias:
            rbm.init_visible_bias_from_data(X)
        self.history_ = fit_rbm(
            rbm, X, epochs=self.epochs, batch_size=min(self.batch_size, len(X)),
            method=self.method, k=self.k, learning_rate=self.learning_rate,
            momentum=self.momentum, weight_decay=self.weight_decay, seed=self.seed,
            monitors={}, progress=False)
        self.rbm_ = rbm
        return self

    def transform(self, X) -> np.ndarray:
        """Hidden probabilities (n_samples, n_hidden) of ``X``
        (n_samples, n_features).
        """
        check_is_fitted(self, "rbm_")
        return self.rbm_.hidden_probs(_unit_interval(X, self, reset=False)).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags


class DBNFeatures(TransformerMixin, BaseEstimator):
    """A DBN pretrained by :func:`rbmtut.fit_dbn`; features: the top layer's
    ``p(h | x)``.

    Args:
        layers: hidden layer sizes, e.g. ``(500, 500)`` for 784-500-500.
        epochs, batch_size, learning_rate, momentum, weight_decay, pass_up: as
            for :func:`rbmtut.fit_dbn` (the batch is capped at the number of
            samples).
        seed: seeds the weights and the training.

    Attributes:
        dbn_: the trained :class:`~rbmtut.dbn.DBN`.
        history_: its pretraining :class:`~rbmtut.History`.
        n_features_in_: input width seen by ``fit``.
    """

    def __init__(self, layers=(256, 256), *, epochs: int = 10, batch_size: int = 100,
                 learning_rate: float = 0.05, momentum: float = 0.5,
                 weight_decay: float = 0.0, pass_up: str = "probs", seed: int = 0):
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.pass_up = pass_up
        self.seed = seed

    def fit(self, X, y=None) -> DBNFeatures:
        """Pretrain a DBN on ``X`` (n_samples, n_features) in [0, 1];
        ``y`` is ignored.
        """
        X = _unit_interval(X, self, reset=True)
        if (isinstance(self.layers, (int, np.integer))
                or not hasattr(self.layers, "__iter__")):
            raise TypeError(
                f"layers must be a sequence of hidden sizes, e.g. (500, 500); got "
                f"{self.layers!r}.")
        dbn = DBN([X.shape[1], *self.layers], seed=self.seed)
        self.history_ = fit_dbn(
            dbn, X, epochs=self.epochs, batch_size=min(self.batch_size, len(X)),
            learning_rate=self.learning_rate, momentum=self.momentum,
            weight_decay=self.weight_decay, pass_up=self.pass_up, seed=self.seed,
            monitors={}, progress=False)
        self.dbn_ = dbn
        return self

    def transform(self, X) -> np.ndarray:
        """Top-layer probabilities (n_samples, layers[-1]) of ``X``."""
        check_is_fitted(self, "dbn_")
        return self.dbn_.up(_unit_interval(X, self, reset=False))[-1].numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

