"""Off-the-shelf classifiers for judging learned features.

Chapter 4 (``04_stacked_pretraining``) asks how useful each layer of a deep
belief net is to a classifier that is not fine-tuned, and chapter 6 asks the
same of binary codes.  A Gaussian-kernel support vector machine is the
classic yardstick, but scikit-learn's ``SVC(kernel="rbf")`` evaluates the
kernel one pair of examples at a time inside libsvm, which makes training on
10,000 MNIST digits and testing on 10,000 take most of a minute.
:class:`RBFKernelSVC` is the same classifier with the kernel matrices
computed by matrix products (BLAS) and handed to libsvm precomputed: the
same support vectors and predictions, several times faster.

:func:`keras_classifier` builds the other kind of judge: a Keras network with
a pretrained stack's (or an autoencoder's encoder's) architecture and,
optionally, its weights, for fine-tuning by backpropagation.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from ._validation import check_bool, check_instance, check_int, check_real, check_seed
from .autoencoders import Autoencoder
from .dbn import DBN

__all__ = ["RBFKernelSVC", "dense_classifier", "keras_classifier"]


class RBFKernelSVC(ClassifierMixin, BaseEstimator):
    """``sklearn.svm.SVC(kernel="rbf")`` with the kernel computed by BLAS.

    The kernel is ``k(x, x') = exp(-gamma |x - x'|^2)``; libsvm solves the
    usual one-vs-one soft-margin problems on the precomputed training kernel
    (n_train, n_train), and prediction needs only the kernel between the
    test points and the support vectors.  Memory: one (n_train, n_train)
    float64 matrix while fitting (800 MB for 10,000 examples).

    Args:
        C: soft-margin penalty, as in ``SVC``.
        gamma: kernel width, a positive float or ``"scale"``:
            ``1 / (n_features * X.var())`` of the training data, ``SVC``'s default.
        batch_size: test points per kernel block in :meth:`predict`.

    Attributes:
        gamma_: the kernel width used (set by :meth:`fit`, like the others).
        classes_: the class labels.
        support_: indices of the support vectors in the training data.
        support_vectors_: the support vectors (n_support, n_features).
    """

    def __init__(self, C: float = 1.0, gamma="scale", batch_size: int = 2000):
        self.C = C
        self.gamma = gamma
        self.batch_size = batch_size

    def fit(self, X, y) -> "RBFKernelSVC":
        """Fit on ``X`` (n, n_features) with labels ``y`` (n,)."""
        X, y = check_X_y(X, y, dtype=np.float64)
        if isinstance(self.gamma, str):
            if self.gamma != "scale":
                raise ValueError(
                    f"gamma must be a positive float or 'scale'; got {self.gamma!r}.")
            variance = X.var()
            gamma = 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        elif isinstance(self.gamma, (int, float, np.floating)) and self.gamma > 0:
            gamma = float(self.gamma)
        else:
            raise ValueError(
                f"gamma must be a positive float or 'scale'; got {self.gamma!r}.")
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.C, "C", low=0.0, low_open=True)
        self.gamma_ = gamma
        self.svc_ = SVC(kernel="precomputed", C=self.C).fit(
            rbf_kernel(X, gamma=gamma), y)
        self.classes_ = self.svc_.classes_
        self.support_ = self.svc_.support_
        self.support_vectors_ = X[self.support_]
        self.n_features_in_ = X.shape[1]
        self.n_train_ = X.shape[0]
        return self

    def _test_kernel(self, X):
        """Kernel blocks (batch, n_train) against the training set;
        zero off the support.
        """
        check_is_fitted(self, "svc_")
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the SVM was fitted on "
                             f"{self.n_features_in_}.")
        for start in range(0, len(X), self.batch_size):
            block = np.zeros((min(self.batch_size, len(X) - start), self.n_train_))
            # libsvm reads only the support vectors' columns.
            block[:, self.support_] = rbf_kernel(
                X[start:start + self.batch_size], self.support_vectors_,
                gamma=self.gamma_)
            yield block

    def decision_function(self, X) -> np.ndarray:
        """One-vs-one decision values (n, n_classes * (n_classes - 1) / 2), as
        ``SVC``'s.
        """
        return np.concatenate([self.svc_.decision_function(k)
                               for k in self._test_kernel(X)])

    def predict(self, X) -> np.ndarray:
        """Predicted labels (n,) of ``X`` (n, n_features)."""
        return np.concatenate([self.svc_.predict(k) for k in self._test_kernel(X)])


def dense_classifier(sizes, n_classes: int, *, activations="sigmoid", weights=None,
                     seed: int = 0, dtype: str = "float32", name: str = "classifier"):
    """A Keras ``Sequential`` classifier: ``Dense`` layers of ``sizes[1:]``,
    then softmax.

    Hidden layer ``l`` starts from ``weights[l] = (W (n_l, n_{l+1}), b
    (n_{l+1},))`` when given, and from Keras's Glorot-uniform weights seeded
    with seed ``l`` of ``np.random.SeedSequence(seed)`` otherwise; the
    softmax layer is initialised the same way in both cases, so a
    pretrained-versus-random comparison differs only in the hidden layers.
    The model is built but not compiled.

    Args:
        sizes: ``[n_0, n_1, ..., n_L]``: inputs, then the hidden layers.
        n_classes: number of classes, at least 2.
        activations: one Keras activation name, or one per hidden layer.
        weights: ``None`` or a list of ``(W, b)`` pairs, one per hidden layer.
        seed: seeds the initialisers.
        dtype: the layers' dtype name.
        name: model name.

    Returns:
        A ``keras.Sequential`` mapping (n, n_0) inputs to (n, n_classes) probabilities.
    """
    sizes = [check_int(s, "each size", low=1) for s in sizes]
    n_classes = check_int(n_classes, "n_classes", low=2)
    n_hidden = len(sizes) - 1
    activations = ([activations] * n_hidden if isinstance(activations, str)
                   else list(activations))
    if (len(activations) != n_hidden
            or (weights is not None and len(weights) != n_hidden)):
        raise ValueError("need one activation (and one (W, b) pair) per hidden layer: "
                         f"{n_hidden}.")
    states = np.random.SeedSequence(check_seed(seed)).generate_state(n_hidden + 1)
    seeds = [int(s) for s in states]
    model = keras.Sequential([keras.Input((sizes[0],), dtype=dtype)], name=name)
    for l, (width, activation) in enumerate(zip(sizes[1:], activations)):
        layer = keras.layers.Dense(
            width, activation=activation, dtype=dtype, name=f"hidden{l + 1}",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seeds[l]))
        model.add(layer)
        if weights is not None:
            layer.set_weights([np.asarray(w) for w in weights[l]])
    model.add(keras.layers.Dense(
        n_classes, activation="softmax", dtype=dtype, name="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seeds[-1])))
    return model


def keras_classifier(model, n_classes: int, *, pretrained: bool = True, seed: int = 0,
                     name: str | None = None):
    """A Keras classifier with the architecture of a DBN or of an autoencoder's encoder.

    One ``Dense`` layer per RBM (sigmoid units, weights ``W_l`` and biases
    ``c_l``) or per encoder layer (its activations, weights and biases), then
    a softmax layer.  With ``pretrained=False`` the hidden layers start from
    seeded Glorot-uniform weights instead; the softmax layer starts the same
    way in both cases, so a pretrained-versus-random comparison differs only
    in the hidden layers (see :func:`dense_classifier`).

    Args:
        model: a :class:`~rbmtut.dbn.DBN` or an
            :class:`~rbmtut.autoencoders.Autoencoder`.
        n_classes: number of classes, at least 2.
        pretrained: copy the model's weights into the hidden layers.
        seed: seeds the Keras initialisers.
        name: model name (default ``"dbn_classifier"`` or ``"encoder_classifier"``).

    Returns:
        An uncompiled ``keras.Sequential`` (n, n_0) -> (n, n_classes) probabilities.
    """
    check_instance(model, "model", (DBN, Autoencoder))
    pretrained = check_bool(pretrained, "pretrained")
    if isinstance(model, DBN):
        sizes, name = model.layer_sizes, name or "dbn_classifier"
        activations = "sigmoid"
        layers = [(rbm.W, rbm.c) for rbm in model.rbms]
    else:
        sizes, name = model.sizes, name or "encoder_classifier"
        activations = ([model.activation] * (model.n_layers - 1)
                       + [model.code_activation])
        layers = list(zip(model.encoder_weights, model.encoder_biases))
    weights = [(W.numpy(), b.numpy()) for W, b in layers] if pretrained else None
    return dense_classifier(sizes, n_classes, activations=activations, weights=weights,
                            seed=seed, dtype=model.dtype.name, name=name)
