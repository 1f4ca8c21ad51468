"""MLPBackprop behaves as MLPClassifier where the two are observable side by side."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skbackprop import MLPBackprop


def _quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:700] / 16, y[:700]


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("problem", [_digits, _breast_cancer])
def test_early_stopping_trains_mlpclassifiers_network(solver, problem):
    # the validation split is made as MLPClassifier makes it (stratified only
    # with one output unit), so the same seed gives the same run
    X, y = problem()
    params = dict(
        hidden_layer_sizes=(15,),
        solver=solver,
        early_stopping=True,
        random_state=3,
        learning_rate_init=0.01,
        max_iter=40,
    )
    ours = _quiet(MLPBackprop(**params), X, y)
    theirs = _quiet(MLPClassifier(**params), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=1e-10)
    assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-10)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
        assert_allclose(a, b, atol=1e-9)


def test_too_rare_a_class_for_the_split_raises_mlpclassifiers_error():
    X, y = [[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1]
    with pytest.raises(ValueError, match=r"too few members are: \['True'\]"):
        MLPBackprop(early_stopping=True).fit(X, y)


def test_partial_fit_with_other_classes_raises():
    X, y = _digits()
    est = MLPBackprop(solver="sgd").partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match=r"`classes=\[1, 2\]` is not the same"):
        est.partial_fit(X[y < 2], y[y < 2], classes=[1, 2])


def test_warm_start_error_names_both_class_sets():
    X, y = _digits()
    est = _quiet(MLPBackprop((5,), warm_start=True, max_iter=2), X, y)
    with pytest.raises(ValueError, match=r"Previously got \[0 1 2 .*`y` has \[0 1\]"):
        est.fit(X[y < 2], y[y < 2])


def test_n_iter_no_change_inf_runs_every_epoch():
    X, y = _digits()
    est = _quiet(MLPBackprop((5,), n_iter_no_change=np.inf, max_iter=7), X, y)
    assert est.n_iter_ == 7
