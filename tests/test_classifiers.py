"""The BLAS-kernel SVM is scikit-learn's RBF SVM, faster."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.svm import SVC

from rbmtut.classifiers import RBFKernelSVC
from rbmtut.data import small_digits


@pytest.fixture(scope="module")
def digits():
    x, y = small_digits()
    x = x.reshape(len(x), -1).astype(np.float64)
    return x[:500], y[:500], x[500:900], y[500:900]


@pytest.mark.parametrize("C, gamma", [(1.0, "scale"), (10.0, 0.02)])
def test_same_classifier_as_sklearn_rbf_svc(digits, C, gamma):
    x, y, x_test, y_test = digits
    reference = SVC(kernel="rbf", C=C, gamma=gamma).fit(x, y)
    ours = RBFKernelSVC(C=C, gamma=gamma, batch_size=37).fit(x, y)  # several kernel blocks
    np.testing.assert_array_equal(ours.support_, reference.support_)
    np.testing.assert_array_equal(ours.classes_, reference.classes_)
    np.testing.assert_allclose(ours.decision_function(x_test), reference.decision_function(x_test),
                               rtol=0, atol=1e-8)
    np.testing.assert_array_equal(ours.predict(x_test), reference.predict(x_test))
    assert ours.score(x_test, y_test) == reference.score(x_test, y_test) > 0.9
    if gamma == "scale":
        assert ours.gamma_ == pytest.approx(1.0 / (x.shape[1] * x.var()))


def test_bad_input_is_rejected(digits):
    x, y, x_test, _ = digits
    with pytest.raises(ValueError, match="gamma must be a positive float or 'scale'"):
        RBFKernelSVC(gamma="auto").fit(x, y)
    with pytest.raises(ValueError, match="gamma must be a positive float"):
        RBFKernelSVC(gamma=-1.0).fit(x, y)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        RBFKernelSVC(batch_size=0).fit(x, y)
    with pytest.raises(ValueError, match="NaN"):
        RBFKernelSVC().fit(np.where(x == x.max(), np.nan, x), y)
    with pytest.raises(NotFittedError):
        RBFKernelSVC().predict(x_test)
    fitted = RBFKernelSVC().fit(x, y)
    with pytest.raises(ValueError, match="has 10 features, but the SVM was fitted on 64"):
        fitted.predict(x_test[:, :10])
