"""MLPBackpropRegressor behaves as MLPRegressor where the two are observable side
by side, and reaches PoissonRegressor's optimum without hidden layers."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.neural_network import MLPRegressor

from skbackprop import MLPBackpropRegressor, check_gradients

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _quiet(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def _diabetes(n_targets=0):
    """Standardised diabetes features; 1-D y, or extra targets made from it."""
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X.mean(axis=0)) / X.std(axis=0), (y - y.mean()) / y.std()
    if n_targets == 0:
        return X, y
    rng = np.random.default_rng(0)
    return X, np.column_stack(
        [y] + [y * rng.normal() + X[:, k] for k in range(1, n_targets)]
    )


def _same_network(ours, theirs, atol):
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_targets", [0, 3], ids=["1 target", "3 targets"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_one_epoch_equals_mlpregressors(solver, n_targets, activation):
    X, y = _diabetes(n_targets)
    params = dict(
        hidden_layer_sizes=(12,),
        activation=activation,
        solver=solver,
        max_iter=1,
        batch_size=50,
        learning_rate_init=0.01,
        random_state=0,
    )
    ours = _quiet(MLPBackpropRegressor(**params), X, y)
    theirs = _quiet(MLPRegressor(**params), X, y)
    _same_network(ours, theirs, atol=1e-10)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=1e-10)
    assert ours.n_outputs_ == theirs.n_outputs_ == max(n_targets, 1)
    assert ours.out_activation_ == theirs.out_activation_ == "identity"
    assert ours.t_ == theirs.t_


def test_reported_loss_sums_over_targets_where_mlpregressor_averages():
    # the documented difference: both train on the gradient of the sum, ours
    # reports it; MLPRegressor reports the mean over targets (alpha=0: no penalty)
    X, Y = _diabetes(3)
    params = dict(
        hidden_layer_sizes=(8,), solver="sgd", max_iter=1, alpha=0.0, random_state=0
    )
    ours = _quiet(MLPBackpropRegressor(**params), X, Y)
    theirs = _quiet(MLPRegressor(**params), X, Y)
    _same_network(ours, theirs, atol=1e-10)
    assert ours.loss_ == pytest.approx(3 * theirs.loss_, rel=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_early_stopping_splits_and_scores_as_mlpregressor(solver):
    X, y = _diabetes(0)
    params = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=2,
    )
    ours = _quiet(MLPBackpropRegressor(**params), X, y)
    theirs = _quiet(MLPRegressor(**params), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    # R² on the same held-out samples, epoch by epoch
    assert_allclose(
        ours.validation_scores_, theirs.validation_scores_, rtol=0, atol=1e-10
    )
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    _same_network(ours, theirs, atol=1e-9)


def test_partial_fit_equals_mlpregressors():
    # without shuffling: a seeded MLPRegressor reseeds its shuffle at every
    # call, while ours draws on from one generator (the first call agrees)
    X, y = _diabetes(2)
    ours = MLPBackpropRegressor(hidden_layer_sizes=(6,), shuffle=False, random_state=0)
    theirs = MLPRegressor(hidden_layer_sizes=(6,), shuffle=False, random_state=0)
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    _same_network(ours, theirs, atol=1e-10)
    assert not hasattr(MLPBackpropRegressor(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="early_stopping"):
        MLPBackpropRegressor(early_stopping=True).partial_fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_poisson_without_hidden_layers_reaches_poissonregressors_optimum(solver):
    # as scikit-learn's test_mlp_vs_poisson_glm_equivalent: with alpha=0 both
    # minimise the same half deviance of an exp-linear model
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(X @ [0.4, -0.2, 0.1] + 0.5))
    glm = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=1000).fit(X, y)
    params = dict(loss="poisson", hidden_layer_sizes=(), alpha=0.0, random_state=0)
    if solver == "gd":
        params.update(
            learning_rate_init=0.2, max_iter=5000, tol=1e-12, n_iter_no_change=50
        )
    else:
        params.update(max_iter=1000, tol=1e-12)
    ours = _quiet(MLPBackpropRegressor(solver=solver, **params), X, y)
    assert ours.out_activation_ == "exp"
    assert_allclose(ours.coefs_[0][:, 0], glm.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(ours.intercepts_[0][0], glm.intercept_, rtol=1e-5)
    assert_allclose(ours.predict(X), glm.predict(X), rtol=1e-5)


def test_poisson_needs_non_negative_targets():
    X, y = _diabetes(0)
    with pytest.raises(ValueError, match="non-negative"):
        MLPBackpropRegressor(loss="poisson").fit(X, y)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_is_exact(loss, activation):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 4))
    # targets of unit scale: the check's floor is absolute, and the rounding of
    # a large loss's differences would reach it
    Y = rng.poisson(1.0, size=(25, 2)).astype(float)
    sw = rng.uniform(0.5, 2.0, size=25)
    est = MLPBackpropRegressor(
        loss=loss,
        hidden_layer_sizes=(5, 3),
        activation=activation,
        alpha=0.1,
        random_state=0,
    )
    report = check_gradients(est, X, Y, sample_weight=sw, random_state=0)
    assert report.max_rel_error < 1e-6, report
    fitted = _quiet(est.set_params(max_iter=5), X, Y)
    assert check_gradients(fitted, X, Y, random_state=0).max_rel_error < 1e-6


def test_column_y_is_raveled_with_mlpregressors_warning():
    X, y = _diabetes(0)
    ours = MLPBackpropRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with pytest.warns(DataConversionWarning):
        _quiet(ours, X, y[:, None])
    assert ours.n_outputs_ == 1
    assert ours.predict(X).shape == (X.shape[0],)


def test_warm_start_continues_and_float32_stays_float32():
    X, y = _diabetes(0)
    X32 = X.astype(np.float32)
    ours = MLPBackpropRegressor(
        hidden_layer_sizes=(6,), max_iter=5, warm_start=True, random_state=0
    )
    _quiet(ours, X32, y)
    first = [c.copy() for c in ours.coefs_]
    _quiet(ours, X32, y)
    assert ours.coefs_[0].dtype == np.float32
    assert ours.predict(X32).dtype == np.float32
    assert len(ours.loss_curve_) == 10
    assert not np.array_equal(first[0], ours.coefs_[0])
    assert ours.loss_curve_[5] < ours.loss_curve_[4]


def test_divergence_raises_without_early_stopping():
    X, y = _diabetes(0)
    ours = MLPBackpropRegressor(
        solver="sgd", learning_rate_init=5.0, max_iter=20, random_state=0
    )
    with pytest.raises(ValueError, match="learning_rate_init"):
        ours.fit(X * 100, y)
    assert not hasattr(ours, "coefs_")


def test_divergence_with_early_stopping_keeps_the_best_model():
    # scikit-learn's test_mlp_diverging_loss: fit completes, the last
    # validation score is NaN; ours also warns and keeps finite parameters
    X, y = _diabetes(0)
    ours = MLPBackpropRegressor(
        hidden_layer_sizes=(50,),
        activation="identity",
        solver="sgd",
        learning_rate_init=1.0,
        early_stopping=True,
        max_iter=20,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="learning_rate_init"):
        ours.fit(X, y * 50)
    assert np.isnan(ours.validation_scores_[-1])
    assert ours.best_validation_score_ == max(ours.validation_scores_[:-1])
    assert all(np.isfinite(c).all() for c in ours.coefs_ + ours.intercepts_)
