"""Multilabel targets: one sigmoid unit per label of a 0/1 indicator matrix."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        n_samples=120, n_features=8, n_classes=4, random_state=0
    )
    return StandardScaler().fit_transform(X), Y


def _quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_logistic_regression_gd_labels_equal_per_label_binary_fits(data):
    # the objective is the sum of the labels' binary objectives, so each
    # label's unit is the binary model of that label alone
    X, Y = data
    params = dict(solver="lbfgs", tol=1e-10, alpha=1e-2)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    together = LogisticRegressionGD(**params).fit(X, Y, sample_weight=w)
    assert together.coef_.shape == (4, 8) and together.intercept_.shape == (4,)
    assert_array_equal(together.classes_, np.arange(4))
    for label in range(4):
        alone = LogisticRegressionGD(**params).fit(X, Y[:, label], sample_weight=w)
        assert_allclose(together.coef_[label], alone.coef_[0], rtol=1e-5, atol=1e-8)
        assert_allclose(together.intercept_[label], alone.intercept_[0], rtol=1e-5)
        p_alone = alone.predict_proba(X)[:, 1]
        assert_allclose(together.predict_proba(X)[:, label], p_alone, rtol=1e-5)


@pytest.mark.parametrize("Est", [LogisticRegressionGD, MLPBackprop])
def test_predictions_are_indicator_matrices(Est, data):
    X, Y = data
    est = _quiet(Est(random_state=0), X, Y)
    P = est.predict_proba(X)
    assert P.shape == Y.shape and ((P > 0) & (P < 1)).all()
    assert not np.allclose(P.sum(axis=1), 1)  # each label its own probability
    assert_array_equal(est.predict(X), (P > 0.5).astype(int))
    assert_allclose(est.predict_log_proba(X), np.log(P))
    assert 0 <= est.score(X, Y) <= 1  # subset accuracy


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_mlp_multilabel_trains_mlpclassifiers_network(solver, data):
    X, Y = data
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        max_iter=1,
        random_state=0,
        learning_rate_init=0.05,
        batch_size=30,
    )
    ours = _quiet(MLPBackprop(**params), X, Y)
    theirs = _quiet(MLPClassifier(**params), X, Y)
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert ours.n_outputs_ == theirs.n_outputs_ == 4
    pairs = zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    )
    for a, b in pairs:
        assert_allclose(a, b, rtol=0, atol=1e-10)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert_array_equal(ours.predict(X), theirs.predict(X))


def test_mlp_multilabel_partial_fit_as_mlpclassifier(data):
    X, Y = data
    params = dict(hidden_layer_sizes=(6,), solver="sgd", random_state=0)
    ours, theirs = MLPBackprop(**params), MLPClassifier(**params)
    for _ in range(3):
        ours.partial_fit(X, Y, classes=[0, 1, 2, 3])
        theirs.partial_fit(X, Y, classes=[0, 1, 2, 3])
    assert_array_equal(ours.classes_, theirs.classes_)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)


def test_softmax_classifier_rejects_an_indicator_matrix(data):
    X, Y = data
    with pytest.raises(ValueError, match="LogisticRegressionGD"):
        SoftmaxClassifier().fit(X, Y)


@pytest.mark.parametrize("Est", [LogisticRegressionGD, MLPBackprop])
def test_class_weight_is_refused_for_multilabel_y(Est, data):
    X, Y = data
    with pytest.raises(ValueError, match="class_weight must be None"):
        Est(class_weight="balanced").fit(X, Y)


@pytest.mark.parametrize("Est", [LogisticRegressionGD, MLPBackprop])
def test_later_calls_keep_the_kind_of_target(Est, data):
    X, Y = data
    est = Est(solver="sgd", random_state=0).partial_fit(X, Y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="another kind"):
        est.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="labels"):
        est.partial_fit(X, Y[:, :3])
