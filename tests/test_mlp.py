"""MLPBackprop: a drop-in for scikit-learn's MLPClassifier (issue 3).

The reference throughout is scikit-learn's own MLPClassifier: started from the
same weights, one epoch of the same solver must land on the same weights.
"""

import inspect
import pickle
import re
import warnings
from itertools import pairwise

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from skbackprop import (
    LogisticRegressionGD,
    MLPBackprop,
    SoftmaxClassifier,
    check_gradients,
)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
FITTED_ATTRIBUTES = [
    "classes_",
    "coefs_",
    "intercepts_",
    "n_features_in_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "t_",
    "n_iter_",
]


def _data(n_classes, n_samples=60, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = rng.randint(0, n_classes, n_samples)
    y[:n_classes] = np.arange(n_classes)  # every class present
    return X, y


def _params(est):
    return [*est.coefs_, *est.intercepts_]


def _max_diff(a, b):
    assert len(_params(a)) == len(_params(b))
    return max(
        float(np.abs(p - q).max()) for p, q in zip(_params(a), _params(b), strict=True)
    )


def _quiet_fit(est, *args, **kwargs):
    """fit with max_iter reached on purpose: its ConvergenceWarning is expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _start_from(est, weights, X, y):
    """Warm-start ``est`` from given weights, through its public attributes.

    A first fit of one epoch builds the structure; the weights are then
    replaced, and the next ``fit`` continues from them (``warm_start``).
    """
    est.set_params(warm_start=True)
    _quiet_fit(est, X, y)
    coefs, intercepts = weights
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    return est


def _random_weights(layer_units, seed):
    rng = np.random.RandomState(seed)
    coefs = [rng.uniform(-0.7, 0.7, (a, b)) for a, b in pairwise(layer_units)]
    intercepts = [rng.uniform(-0.3, 0.3, b) for b in layer_units[1:]]
    return coefs, intercepts


# --- 1. the drop-in signature ----------------------------------------------------


def test_signature_is_mlpclassifiers_plus_class_weight():
    ours = list(inspect.signature(MLPBackprop).parameters.values())
    theirs = list(inspect.signature(MLPClassifier).parameters.values())
    assert len(ours) == len(theirs) + 1
    for mine, ref in zip(ours[:-1], theirs, strict=True):
        assert (mine.name, mine.kind, mine.default) == (ref.name, ref.kind, ref.default)
    extra = ours[-1]
    assert (extra.name, extra.default) == ("class_weight", None)
    assert extra.kind == inspect.Parameter.KEYWORD_ONLY


def test_partial_fit_signature_has_mlpclassifiers_order():
    ours = inspect.signature(MLPBackprop.partial_fit).parameters
    theirs = inspect.signature(MLPClassifier.partial_fit).parameters
    assert list(ours) == list(theirs) == ["self", "X", "y", "sample_weight", "classes"]
    # positional use as with MLPClassifier: weights third, classes fourth
    X, y = _data(3)
    w = np.ones(len(y))
    est = MLPBackprop(hidden_layer_sizes=(4,), random_state=0).partial_fit(
        X, y, w, [0, 1, 2]
    )
    assert_array_equal(est.classes_, [0, 1, 2])


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam", "lbfgs"])
def test_every_solver_is_accepted(solver):
    X, y = _data(3)
    est = _quiet_fit(
        MLPBackprop(hidden_layer_sizes=(4,), solver=solver, max_iter=3, random_state=0),
        X,
        y,
    )
    assert est.predict(X).shape == y.shape
    with pytest.raises(ValueError, match="solver"):
        MLPBackprop(solver="newton").fit(X, y)


# --- 2. fitted attributes and layouts -----------------------------------------------


# MLPClassifier stratifies its early-stopping split only for binary problems;
# ours is stratified for every problem, so multiclass early stopping is
# compared with MLPClassifier without it, and tested on its own below.
@pytest.mark.parametrize(
    "n_classes, early_stopping", [(2, False), (2, True), (4, False)]
)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fitted_attributes_equal_mlpclassifiers(n_classes, early_stopping, solver):
    # same seed: same initial weights, same shuffles, same validation split
    X, y = _data(n_classes, n_samples=90)
    params = dict(
        hidden_layer_sizes=(6, 3),
        activation="tanh",
        solver=solver,
        batch_size=20,
        max_iter=8,
        learning_rate_init=0.05,
        random_state=3,
        early_stopping=early_stopping,
        n_iter_no_change=3,
    )
    ours = _quiet_fit(MLPBackprop(**params), X, y)
    ref = _quiet_fit(MLPClassifier(**params), X, y)
    for name in FITTED_ATTRIBUTES:
        mine, theirs = getattr(ours, name), getattr(ref, name)
        if name in ("coefs_", "intercepts_"):
            assert [a.shape for a in mine] == [b.shape for b in theirs]
            for a, b in zip(mine, theirs, strict=True):
                assert_allclose(a, b, rtol=0, atol=1e-10)
        elif theirs is None or isinstance(theirs, str):
            assert mine == theirs, name
        else:
            assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, err_msg=name)
    assert ours.coefs_[0].shape == (5, 6) and ours.coefs_[-1].shape[0] == 3
    assert ours.n_layers_ == 4
    assert ours.n_outputs_ == (1 if n_classes == 2 else n_classes)
    assert ours.out_activation_ == ("logistic" if n_classes == 2 else "softmax")
    assert len(ours.loss_curve_) == ours.n_iter_
    if early_stopping:
        assert ours.best_loss_ is None
        assert len(ours.validation_scores_) == ours.n_iter_
    else:
        assert ours.best_loss_ == min(ours.loss_curve_)


@pytest.mark.parametrize("solver", ["sgd", "adam", "gd"])
def test_early_stopping_restores_the_best_weights(solver):
    X, y = _data(4, n_samples=120)
    params = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        batch_size=20,
        learning_rate_init=0.05 if solver != "gd" else 0.5,
        random_state=0,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=1000,
    )
    est = _quiet_fit(MLPBackprop(max_iter=30, **params), X, y)
    scores = est.validation_scores_
    assert len(scores) == len(est.loss_curve_) == est.n_iter_ == 30
    assert est.best_validation_score_ == max(scores)
    assert est.best_loss_ is None
    assert est.t_ == 30 * 90  # trained on the 90 samples not held out
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < 30  # the restore matters
    # the same run stopped at the best epoch ends on the weights restored above
    at_best = _quiet_fit(MLPBackprop(max_iter=best_epoch, **params), X, y)
    assert _max_diff(est, at_best) == 0
    assert est.validation_scores_[:best_epoch] == at_best.validation_scores_


def test_lbfgs_attributes_and_agreement():
    X, y = _data(3, n_samples=90)
    params = dict(
        hidden_layer_sizes=(6,),
        activation="tanh",
        solver="lbfgs",
        max_iter=15,
        random_state=3,
    )
    ours = _quiet_fit(MLPBackprop(**params), X, y)
    ref = _quiet_fit(MLPClassifier(**params), X, y)
    assert _max_diff(ours, ref) < 1e-8
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_ == 0
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-10)
    # one loss per L-BFGS iteration (MLPClassifier keeps none)
    assert len(ours.loss_curve_) == ours.n_iter_
    assert ours.loss_curve_[-1] == pytest.approx(ours.loss_, rel=1e-10)
    assert ours.best_loss_ == min(ours.loss_curve_)


def test_weights_copy_into_mlpclassifier_and_predict_the_same():
    X, y = _data(4)
    ours = _quiet_fit(
        MLPBackprop(hidden_layer_sizes=(7,), max_iter=20, random_state=0), X, y
    )
    ref = _quiet_fit(
        MLPClassifier(hidden_layer_sizes=(7,), max_iter=1, random_state=5), X, y
    )
    ref.coefs_, ref.intercepts_ = ours.coefs_, ours.intercepts_
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert_array_equal(ours.predict(X), ref.predict(X))


# --- 3. exact agreement with MLPClassifier's mathematics ------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_epoch_from_copied_weights_equals_mlpclassifier(
    activation, n_classes, solver, weighted
):
    X, y = _data(n_classes)
    rng = np.random.RandomState(1)
    sample_weight = rng.uniform(0.1, 3.0, len(y)) if weighted else None
    n_outputs = 1 if n_classes == 2 else n_classes
    weights = _random_weights([X.shape[1], 7, 4, n_outputs], seed=2)
    params = dict(
        hidden_layer_sizes=(7, 4),
        activation=activation,
        solver=solver,
        batch_size=16,
        shuffle=False,
        max_iter=1,
        alpha=0.01,
        learning_rate_init=0.1,
    )
    # each starts from its own random weights, then both get the same ones
    ours = _start_from(MLPBackprop(random_state=0, **params), weights, X, y)
    ref = _start_from(MLPClassifier(random_state=1, **params), weights, X, y)
    assert _max_diff(ours, ref) == 0
    _quiet_fit(ours, X, y, sample_weight=sample_weight)
    _quiet_fit(ref, X, y, sample_weight=sample_weight)
    # the epoch moved the weights (4 mini-batches), identically in both
    assert (
        max(
            np.abs(a - b).max()
            for a, b in zip(_params(ours), [*weights[0], *weights[1]], strict=True)
        )
        > 1e-3
    )
    assert _max_diff(ours, ref) < 1e-10
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_same_seed_same_start_and_shuffles_as_mlpclassifier(activation, n_classes):
    # MLPBackprop draws its initial weights and shuffles as MLPClassifier does
    X, y = _data(n_classes)
    params = dict(
        hidden_layer_sizes=(5,),
        activation=activation,
        solver="sgd",
        batch_size=10,
        max_iter=3,
        learning_rate_init=0.05,
        random_state=7,
    )
    ours = _quiet_fit(MLPBackprop(**params), X, y)
    ref = _quiet_fit(MLPClassifier(**params), X, y)
    assert _max_diff(ours, ref) < 1e-10
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_sequence_equals_mlpclassifier(solver):
    # the optimizer's state (velocity, Adam's moments and step count) carries over
    X, y = _data(3, n_samples=90)
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        batch_size=20,
        shuffle=False,
        learning_rate_init=0.05,
        random_state=3,
    )
    ours, ref = MLPBackprop(**params), MLPClassifier(**params)
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        ref.partial_fit(X, y, classes=[0, 1, 2])
    assert _max_diff(ours, ref) < 1e-10
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-12)
    assert ours.t_ == ref.t_ == 3 * len(y)
    assert ours.n_iter_ == ref.n_iter_ == 1


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_equals_mlpclassifier(solver):
    # a warm-started fit: fresh optimizer, re-seeded shuffles, as MLPClassifier
    X, y = _data(2, n_samples=80)
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        batch_size=25,
        max_iter=4,
        learning_rate_init=0.05,
        random_state=3,
        warm_start=True,
    )
    ours, ref = MLPBackprop(**params), MLPClassifier(**params)
    for _ in range(2):
        _quiet_fit(ours, X, y)
        _quiet_fit(ref, X, y)
    assert _max_diff(ours, ref) < 1e-10
    assert ours.n_iter_ == ref.n_iter_ == 4
    assert len(ours.loss_curve_) == 8


@pytest.mark.parametrize(
    "learning_rate, nesterovs_momentum",
    [("constant", False), ("invscaling", True), ("adaptive", True)],
)
def test_schedules_and_momentum_mean_what_they_mean_in_mlpclassifier(
    learning_rate, nesterovs_momentum
):
    # tol=0.05: the loss soon "stalls", so 'adaptive' divides its rate by 5 and
    # the others stop, on the same epoch in both
    X, y = _data(3, n_samples=80)
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        batch_size=16,
        max_iter=30,
        learning_rate=learning_rate,
        nesterovs_momentum=nesterovs_momentum,
        learning_rate_init=0.05,
        power_t=0.3,
        tol=0.05,
        n_iter_no_change=2,
        random_state=2,
    )
    ours = _quiet_fit(MLPBackprop(**params), X, y)
    ref = _quiet_fit(MLPClassifier(**params), X, y)
    assert ours.n_iter_ == ref.n_iter_ < 30
    assert _max_diff(ours, ref) < 1e-10
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_max_iter_and_max_fun_stop_with_a_convergence_warning():
    X, y = _data(3)
    with pytest.warns(ConvergenceWarning):
        MLPBackprop(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        lbfgs = MLPBackprop(
            hidden_layer_sizes=(5,), solver="lbfgs", max_fun=6, random_state=0
        ).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        ref = MLPClassifier(
            hidden_layer_sizes=(5,), solver="lbfgs", max_fun=6, random_state=0
        ).fit(X, y)
    assert lbfgs.n_iter_ == ref.n_iter_ <= 6  # an iteration costs at least one call
    assert _max_diff(lbfgs, ref) < 1e-10


def test_gd_is_full_batch_sgd_without_momentum():
    # plain gradient descent is MLPClassifier's sgd with one batch and no momentum
    X, y = _data(3)
    common = dict(
        hidden_layer_sizes=(6,),
        activation="tanh",
        learning_rate_init=0.3,
        max_iter=10,
        shuffle=False,
        random_state=0,
        alpha=0.01,
    )
    ours = _quiet_fit(MLPBackprop(solver="gd", **common), X, y)
    ref = _quiet_fit(
        MLPClassifier(solver="sgd", momentum=0.0, batch_size=len(y), **common), X, y
    )
    assert _max_diff(ours, ref) < 1e-10
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_gd_converges_with_a_sensible_learning_rate():
    X, y = make_blobs(n_samples=120, centers=3, cluster_std=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPBackprop(
            hidden_layer_sizes=(8,),
            activation="tanh",
            solver="gd",
            learning_rate_init=0.5,
            max_iter=2000,
            random_state=0,
        ).fit(X, y)
    assert est.n_iter_ < 2000  # stopped by tol, not by max_iter
    # full-batch descent with a small enough step never increases the objective
    assert np.all(np.diff(est.loss_curve_) <= 1e-12)
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]
    # at least as good as the linear model on these overlapping blobs (0.92)
    assert est.score(X, y) >= LogisticRegression().fit(X, y).score(X, y) > 0.9
    assert est.t_ == est.n_iter_ * len(y)


# --- accuracy parity on digits -----------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.mark.parametrize(
    "solver, max_iter, learning_rate_init",
    [("adam", 40, 0.001), ("sgd", 40, 0.01), ("lbfgs", 80, 0.001)],
)
def test_accuracy_parity_on_digits(digits, solver, max_iter, learning_rate_init):
    X_train, X_test, y_train, y_test = digits
    params = dict(
        hidden_layer_sizes=(32,),
        solver=solver,
        max_iter=max_iter,
        learning_rate_init=learning_rate_init,
        random_state=0,
    )
    ours = _quiet_fit(MLPBackprop(**params), X_train, y_train)
    ref = _quiet_fit(MLPClassifier(**params), X_train, y_train)
    ours_acc, ref_acc = ours.score(X_test, y_test), ref.score(X_test, y_test)
    assert ref_acc > 0.9  # the comparison is meaningful
    assert abs(ours_acc - ref_acc) <= 0.01


# --- 4. gradients ---------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse_input", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_check_gradients(activation, n_classes, sparse_input, weighted):
    rng = np.random.RandomState(0)
    X, y = _data(n_classes, n_samples=15, n_features=4)
    X[rng.rand(*X.shape) < 0.3] = 0.0
    if sparse_input:
        X = sparse.csr_matrix(X)
    sample_weight = rng.uniform(0.2, 3.0, len(y)) if weighted else None
    est = MLPBackprop(
        hidden_layer_sizes=(4, 3), activation=activation, alpha=0.3, random_state=0
    )
    report = check_gradients(est, X, y, sample_weight=sample_weight)
    assert report.max_rel_error < 1e-6
    assert set(report.details) == {
        f"{kind}_[{i}]" for kind in ("coefs", "intercepts") for i in range(3)
    }
    assert not hasattr(est, "coefs_")  # the estimator is left untouched
    # and at fitted weights
    _quiet_fit(est.set_params(max_iter=5), X, y, sample_weight=sample_weight)
    assert check_gradients(est, X, y, sample_weight=sample_weight).max_rel_error < 1e-6


def test_check_gradients_detects_a_wrong_derivative(monkeypatch):
    # the gradient tests above can fail: tanh's derivative replaced by 1
    from skbackprop import _network

    X, y = _data(3, n_samples=15, n_features=4)
    est = MLPBackprop(hidden_layer_sizes=(3,), activation="tanh", random_state=0)
    monkeypatch.setitem(
        _network.ACTIVATIONS,
        "tanh",
        (_network.ACTIVATIONS["tanh"][0], lambda A, dA, e: dA),
    )
    assert check_gradients(est, X, y).max_rel_error > 1e-3


@pytest.mark.parametrize(
    "n_classes, linear", [(3, SoftmaxClassifier), (2, LogisticRegressionGD)]
)
def test_no_hidden_layer_is_the_linear_model(n_classes, linear):
    # MLPBackprop's penalty is alpha/(2n) ||W||^2, the linear models' alpha/2 ||W||^2
    X, y = _data(n_classes, n_samples=80)
    alpha = 0.5
    # a fixed start: where scipy's default ftol stops L-BFGS depends on it
    mlp = MLPBackprop(
        hidden_layer_sizes=(),
        solver="lbfgs",
        alpha=alpha,
        tol=1e-10,
        max_iter=1000,
        random_state=0,
    ).fit(X, y)
    lin = linear(alpha=alpha / len(y), solver="lbfgs", tol=1e-10).fit(X, y)
    assert mlp.n_layers_ == 2
    assert mlp.coefs_[0].shape == (X.shape[1], 1 if n_classes == 2 else n_classes)
    assert mlp.out_activation_ == ("logistic" if n_classes == 2 else "softmax")
    # the same optimum (MLPBackprop's L-BFGS keeps scipy's default ftol, as
    # MLPClassifier does, so it stops ~1e-9 relative short of it)
    assert mlp.loss_ == pytest.approx(lin.loss_, rel=1e-7)
    assert_allclose(mlp.predict_proba(X), lin.predict_proba(X), atol=2e-5)
    # the same model: the linear weights, copied in, give the same probabilities
    mlp.coefs_, mlp.intercepts_ = [lin.coef_.T.copy()], [lin.intercept_.copy()]
    assert_allclose(mlp.predict_proba(X), lin.predict_proba(X), rtol=1e-12, atol=1e-15)
    # and its gradient is right
    assert (
        check_gradients(
            MLPBackprop(hidden_layer_sizes=(), random_state=0), X, y
        ).max_rel_error
        < 1e-6
    )


# --- 4. what users of MLPClassifier rely on, and what it lacks -------------------


def test_partial_fit_classes_and_labels():
    X, y = _data(3)
    est = MLPBackprop(hidden_layer_sizes=(4,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    # a first batch need not hold every class
    est.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert_array_equal(est.classes_, [0, 1, 2])
    assert est.n_outputs_ == 3
    est.partial_fit(X, y)
    with pytest.raises(ValueError, match="not seen"):
        est.partial_fit(X, np.where(y == 2, 7, y))
    assert not hasattr(MLPBackprop(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPBackprop(solver="gd"), "partial_fit")


@pytest.mark.parametrize("solver", ["sgd", "adam", "gd"])
def test_partial_fit_epochs_equal_fit_epochs(solver):
    # k calls of partial_fit run the k epochs of fit(max_iter=k): same start,
    # optimizer state (velocity, Adam's moments and step count) kept
    X, y = _data(3, n_samples=70)
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        batch_size=16,
        shuffle=False,
        learning_rate_init=0.05,
        random_state=4,
        n_iter_no_change=100,
    )
    fitted = _quiet_fit(MLPBackprop(max_iter=3, **params), X, y)
    stepped = MLPBackprop(**params)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    assert _max_diff(fitted, stepped) == 0
    assert stepped.loss_curve_ == fitted.loss_curve_
    assert stepped.t_ == fitted.t_ == 3 * len(y)


def test_warm_start_continues_and_cold_start_restarts():
    X, y = _data(3)
    params = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        max_iter=3,
        learning_rate_init=0.05,
        random_state=0,
    )
    cold = _quiet_fit(MLPBackprop(**params), X, y)
    again = _quiet_fit(cold, X, y)
    assert len(again.loss_curve_) == 3  # a cold fit starts over
    warm = _quiet_fit(MLPBackprop(warm_start=True, **params), X, y)
    first = [p.copy() for p in _params(warm)]
    _quiet_fit(warm, X, y)
    assert warm.n_iter_ == 3 and len(warm.loss_curve_) == 6
    assert (
        max(np.abs(a - b).max() for a, b in zip(_params(warm), first, strict=True))
        > 1e-4
    )
    # warm_start with a different set of classes is refused
    with pytest.raises(ValueError, match="classes"):
        warm.fit(X[y != 2], y[y != 2])


def test_integer_sample_weight_equals_repeated_samples():
    # 'gd' (full batch, no shuffling): the weighted mean is the mean over copies
    X, y = _data(3, n_samples=40)
    rng = np.random.RandomState(0)
    sample_weight = rng.randint(0, 4, len(y))
    sample_weight[:3] = 1
    params = dict(
        hidden_layer_sizes=(5,),
        solver="gd",
        learning_rate_init=0.3,
        max_iter=15,
        alpha=0.01,
        random_state=0,
    )
    weighted = _quiet_fit(MLPBackprop(**params), X, y, sample_weight=sample_weight)
    repeated = _quiet_fit(
        MLPBackprop(**params),
        np.repeat(X, sample_weight, axis=0),
        np.repeat(y, sample_weight),
    )
    assert _max_diff(weighted, repeated) < 1e-10
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    unweighted = _quiet_fit(MLPBackprop(**params), X, y)
    assert _max_diff(weighted, unweighted) > 1e-3


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_class_weight_equals_explicit_sample_weight(solver):
    X, y = _data(3)
    y[y == 2] = 1
    y[:6] = 2  # imbalanced: 'balanced' is not all ones
    rng = np.random.RandomState(0)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        random_state=0,
        learning_rate_init=0.05,
    )
    balanced = compute_class_weight("balanced", classes=np.arange(3), y=y)
    as_dict = {0: 0.5, 1: 2.0, 2: 3.0}
    for class_weight, per_class in [("balanced", balanced), (as_dict, [0.5, 2.0, 3.0])]:
        implicit = _quiet_fit(
            MLPBackprop(class_weight=class_weight, **params),
            X,
            y,
            sample_weight=sample_weight,
        )
        explicit = _quiet_fit(
            MLPBackprop(**params),
            X,
            y,
            sample_weight=sample_weight * np.asarray(per_class)[y],
        )
        assert _max_diff(implicit, explicit) < 1e-12
        plain = _quiet_fit(MLPBackprop(**params), X, y, sample_weight=sample_weight)
        assert _max_diff(implicit, plain) > 1e-4
    if solver != "lbfgs":  # 'balanced' needs all of y: partial_fit refuses it
        with pytest.raises(ValueError, match="balanced"):
            MLPBackprop(class_weight="balanced", **params).partial_fit(
                X, y, classes=[0, 1, 2]
            )


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_gives_the_dense_result(solver, fmt):
    X, y = _data(3, n_features=8)
    X[np.random.RandomState(0).rand(*X.shape) < 0.6] = 0.0
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        random_state=0,
        batch_size=16,
        learning_rate_init=0.05,
    )
    dense = _quiet_fit(MLPBackprop(**params), X, y)
    sparse_est = _quiet_fit(
        MLPBackprop(**params), sparse.csr_matrix(X).asformat(fmt), y
    )
    assert _max_diff(dense, sparse_est) < 1e-10
    assert_allclose(
        sparse_est.predict_proba(sparse.csr_matrix(X)),
        dense.predict_proba(X),
        rtol=1e-9,
        atol=1e-12,
    )


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_is_kept_with_every_solver(solver, n_classes):
    X, y = _data(n_classes)
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        random_state=0,
        learning_rate_init=0.05,
    )
    est32 = _quiet_fit(MLPBackprop(**params), X.astype(np.float32), y)
    assert all(p.dtype == np.float32 for p in _params(est32))
    assert est32.predict_proba(X.astype(np.float32)).dtype == np.float32
    est64 = _quiet_fit(MLPBackprop(**params), X, y)
    assert all(p.dtype == np.float64 for p in _params(est64))
    assert est64.predict_proba(X).dtype == np.float64
    # the same training, in lower precision
    assert _max_diff(est32, est64) < 1e-3
    # integer input trains in float64, as scikit-learn does
    est_int = _quiet_fit(MLPBackprop(**params), np.round(X * 10).astype(np.int64), y)
    assert est_int.coefs_[0].dtype == np.float64


def test_partial_fit_with_early_stopping_raises_as_mlpclassifier():
    X, y = _data(3)
    for Est in (MLPClassifier, MLPBackprop):
        est = Est(early_stopping=True, random_state=0)
        with pytest.raises(ValueError, match="partial_fit does not support early_"):
            est.partial_fit(X, y, classes=[0, 1, 2])


@pytest.fixture(scope="module")
def blown_up_iris():
    X, y = load_iris(return_X_y=True)
    return X * 1e6, y


def test_mlpclassifier_diverges_silently_ours_raises(blown_up_iris):
    X, y = blown_up_iris
    params = dict(solver="sgd", learning_rate_init=10, max_iter=20, random_state=0)
    ref = _quiet_fit(MLPClassifier(**params), X, y)
    assert ref.loss_ > 1e20  # the reference trains on without a word
    with pytest.raises(ValueError, match="learning_rate_init"):
        _quiet_fit(MLPBackprop(**params), X, y)
    est = MLPBackprop(**params)
    with pytest.raises(ValueError, match="learning_rate_init"):
        _quiet_fit(est, X, y)
    with pytest.raises(NotFittedError):  # nothing non-finite (or half-trained) is kept
        est.predict(X)


@pytest.mark.parametrize("solver", ["sgd", "gd"])
def test_divergence_keeps_the_previous_model(blown_up_iris, solver):
    X, y = blown_up_iris
    est = _quiet_fit(
        MLPBackprop(
            solver=solver,
            learning_rate_init=0.01,
            max_iter=5,
            warm_start=True,
            random_state=0,
        ),
        X / 1e6,
        y,
    )
    before = [p.copy() for p in _params(est)]
    curve, proba = list(est.loss_curve_), est.predict_proba(X / 1e6)
    est.set_params(learning_rate_init=10)
    with pytest.raises(ValueError, match="learning_rate_init"):
        _quiet_fit(est, X, y)
    assert all(np.array_equal(a, b) for a, b in zip(_params(est), before, strict=True))
    assert est.loss_curve_ == curve and est.n_iter_ == 5
    assert_array_equal(est.predict_proba(X / 1e6), proba)


def test_divergence_in_partial_fit(blown_up_iris):
    X, y = blown_up_iris
    est = MLPBackprop(solver="sgd", learning_rate_init=10, random_state=0)
    states = []
    with pytest.raises(ValueError, match="learning_rate_init"):
        for _ in range(10):
            est.partial_fit(X, y, classes=[0, 1, 2])
            states.append([p.copy() for p in _params(est)])
    assert states  # the first epochs were accepted; the explosion was caught later
    assert all(np.isfinite(p).all() for p in _params(est))
    assert all(
        np.array_equal(a, b) for a, b in zip(_params(est), states[-1], strict=True)
    )


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_verbose_prints_one_line_per_iteration(capsys, solver):
    X, y = _data(3)
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=4,
        learning_rate_init=0.05,
        random_state=0,
        verbose=True,
    )
    est = _quiet_fit(MLPBackprop(**params), X, y)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Iteration")
    ]
    assert len(lines) == est.n_iter_ == 4
    for i, (line, loss) in enumerate(zip(lines, est.loss_curve_, strict=True), start=1):
        assert re.fullmatch(rf"Iteration {i}, loss = \d+\.\d{{8}}", line)
        assert float(line.split("= ")[1]) == pytest.approx(loss, abs=1e-8)
    if solver == "sgd":  # the very lines MLPClassifier prints
        _quiet_fit(MLPClassifier(**params), X, y)
        ref = [
            line
            for line in capsys.readouterr().out.splitlines()
            if line.startswith("Iteration")
        ]
        assert lines == ref


def test_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), MLPBackprop(solver="lbfgs", max_iter=300, random_state=0)
    )
    grid = GridSearchCV(
        pipe,
        {
            "mlpbackprop__hidden_layer_sizes": [(3,), (8,)],
            "mlpbackprop__alpha": [1e-4, 1.0],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.9
    assert grid.score(X, y) > 0.9
    assert (
        grid.best_estimator_[-1].coefs_[0].shape[1]
        == (grid.best_params_["mlpbackprop__hidden_layer_sizes"][0])
    )


def test_pickle_round_trip_predicts_and_continues_the_same():
    X, y = _data(3)
    est = MLPBackprop(
        hidden_layer_sizes=(5,), solver="adam", random_state=0, learning_rate_init=0.05
    ).partial_fit(X, y, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(est))
    assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    assert_array_equal(copy.predict(X), est.predict(X))
    # the optimizer's state travels too: the next epoch is the same
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert _max_diff(est, copy) == 0


def test_bad_inputs_raise_clear_errors():
    X, y = _data(3)
    est = MLPBackprop(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X_nan, y)
    X_inf = X.copy()
    X_inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.fit(X_inf, y)
    with pytest.raises(ValueError, match="[Nn]egative"):
        est.fit(X, y, sample_weight=np.where(y == 0, -1.0, 1.0))
    with pytest.raises(ValueError, match="zero"):
        est.fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sample_weight|samples"):
        est.fit(X, y, sample_weight=np.ones(len(y) - 1))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPBackprop(hidden_layer_sizes=(3, 0)).fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        MLPBackprop(activation="softplus").fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)
    _quiet_fit(est, X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        est.predict_proba(X_nan)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :-1], y)


def test_string_labels_and_dataframe_input():
    pd = pytest.importorskip("pandas")
    X, y = _data(3)
    labels = np.array(["cat", "dog", "emu"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = _quiet_fit(
        MLPBackprop(hidden_layer_sizes=(4,), max_iter=3, random_state=0), frame, labels
    )
    assert_array_equal(est.classes_, ["cat", "dog", "emu"])
    assert_array_equal(est.feature_names_in_, frame.columns)
    assert set(est.predict(frame)) <= {"cat", "dog", "emu"}
    ref = _quiet_fit(
        MLPBackprop(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, y
    )
    assert _max_diff(est, ref) == 0
