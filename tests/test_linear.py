"""SoftmaxClassifier and LogisticRegressionGD: agreement with scikit-learn, the
central identity of the derivation, and the behaviours of the contract.

Tolerances of the agreement tests
---------------------------------
* ``solver='lbfgs'`` against ``LogisticRegression``: probabilities within 1e-4
  (max abs) and objectives within 1e-6 (relative). Both sides run with
  ``tol=1e-8``: at the default ``tol=1e-4`` (a gradient tolerance) both
  libraries stop equally early, about 5e-3 apart in probability from the exact
  optimum on digits.
* ``'gd'`` (searched steps, run until the loss changes by less than 1e-9): objective
  within 1e-5 relative, probabilities within 5e-3.
* ``'sgd'`` and ``'adam'`` (constant-size mini-batch steps leave a noise floor):
  objective within 5e-3 relative, probabilities within 0.1, at least 97% of the
  predictions identical.

The objective is evaluated by one numpy formula, :func:`softmax_objective`,
written here from the definition and applied to the parameters of both models.
"""

import functools
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skbackprop import (
    LogisticRegressionGD,
    MLPBackprop,
    SoftmaxClassifier,
    _linesearch,
    _network,
    _solvers,
)

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]
STOCHASTIC = ["gd", "sgd", "adam"]
ESTIMATORS = [SoftmaxClassifier, LogisticRegressionGD]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # the matrices here are small: on a busy 2-core machine, BLAS threads that
    # wait for a core make L-BFGS on digits 100x slower, and change nothing else
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# data and the reference objective -------------------------------------------


@functools.cache
def _load(name, scaled=True):
    loader = {
        "iris": load_iris,
        "digits": load_digits,
        "breast_cancer": load_breast_cancer,
    }
    X, y = loader[name](return_X_y=True)
    if scaled:
        X = StandardScaler().fit_transform(X)
    X.setflags(write=False)
    return X, y


def _data(name, scaled=True):
    X, y = _load(name, scaled)
    return X.copy(), y.copy()


@functools.cache
def _sklearn_reference(name, C):
    """LogisticRegression(C) fitted to the exact optimum (tight tol)."""
    X, y = _load(name)
    return LogisticRegression(C=C, tol=1e-8, max_iter=10000).fit(X, y)


def softmax_objective(coef, intercept, X, y, alpha):
    """Mean softmax cross-entropy + alpha/2 ||coef||^2, straight from the definition.

    ``coef`` (k, d), ``intercept`` (k,), ``y`` class indices.
    """
    S = X @ coef.T + intercept
    m = S.max(axis=1, keepdims=True)
    log_P = S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean() + 0.5 * alpha * np.sum(coef**2)


def _split_rows(w, b):
    """A single binary weight vector as two softmax rows settled at -w/2, +w/2."""
    w, b = np.ravel(w), float(np.ravel(b)[0])
    return np.vstack([-w / 2, w / 2]), np.array([-b / 2, b / 2])


def _zero_negative_row(w, b):
    """A sigmoid unit as the two-class softmax with the negative logit fixed at 0."""
    w, b = np.ravel(w), float(np.ravel(b)[0])
    return np.vstack([np.zeros_like(w), w]), np.array([0.0, b])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# agreement with LogisticRegression ------------------------------------------


@pytest.mark.parametrize(
    "name, C",
    [
        ("iris", 1.0),
        ("iris", 0.1),
        ("digits", 0.1),
        ("breast_cancer", 1.0),
        ("breast_cancer", 0.1),
    ],
)
def test_softmax_lbfgs_matches_logistic_regression(name, C):
    X, y = _data(name)
    n = X.shape[0]
    alpha = 1.0 / (C * n)
    binary = np.unique(y).size == 2
    # binary: scikit-learn keeps one vector w, we keep two rows at +-w/2
    reference = _sklearn_reference(name, 2 * C if binary else C)
    ours = SoftmaxClassifier(solver="lbfgs", alpha=alpha, tol=1e-8).fit(X, y)

    assert_allclose(
        ours.predict_proba(X), reference.predict_proba(X), atol=1e-4, rtol=0
    )
    if binary:
        ref_coef, ref_intercept = _split_rows(reference.coef_, reference.intercept_)
    else:
        ref_coef, ref_intercept = reference.coef_, reference.intercept_
    j_ours = softmax_objective(ours.coef_, ours.intercept_, X, y, alpha)
    j_ref = softmax_objective(ref_coef, ref_intercept, X, y, alpha)
    assert abs(j_ours - j_ref) <= 1e-6 * j_ref
    # loss_ is the same objective, computed by the estimator
    assert ours.loss_ == pytest.approx(j_ours, rel=1e-9)
    assert_array_equal(ours.predict(X), reference.predict(X))


_STOCHASTIC_SETTINGS = {
    "gd": dict(tol=1e-9, max_iter=3000),
    "sgd": dict(
        learning_rate="adaptive",
        batch_size=50,
        tol=1e-6,
        n_iter_no_change=5,
        max_iter=300,
    ),
    "adam": dict(
        learning_rate_init=0.003,
        batch_size=50,
        tol=1e-6,
        n_iter_no_change=20,
        max_iter=300,
    ),
}


def _assert_near_optimum(solver, P, P_ref, j, j_ref):
    if solver == "gd":
        assert np.abs(P - P_ref).max() <= 5e-3
        assert abs(j - j_ref) <= 1e-5 * j_ref
    else:
        assert np.abs(P - P_ref).max() <= 0.1
        assert abs(j - j_ref) <= 5e-3 * j_ref
        assert np.mean(P.argmax(axis=1) == P_ref.argmax(axis=1)) >= 0.97


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("name", ["iris", "breast_cancer", "digits"])
def test_softmax_first_order_solvers_reach_the_same_optimum(solver, name):
    C = 0.1
    X, y = _data(name)
    alpha = 1.0 / (C * X.shape[0])
    binary = np.unique(y).size == 2
    reference = _sklearn_reference(name, 2 * C if binary else C)
    ref_coef, ref_intercept = (
        _split_rows(reference.coef_, reference.intercept_)
        if binary
        else (reference.coef_, reference.intercept_)
    )
    est = SoftmaxClassifier(
        solver=solver, alpha=alpha, random_state=0, **_STOCHASTIC_SETTINGS[solver]
    ).fit(X, y)
    _assert_near_optimum(
        solver,
        est.predict_proba(X),
        reference.predict_proba(X),
        softmax_objective(est.coef_, est.intercept_, X, y, alpha),
        softmax_objective(ref_coef, ref_intercept, X, y, alpha),
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_binary_logistic_gd_matches_logistic_regression(solver):
    C = 0.1
    X, y = _data("breast_cancer")
    alpha = 1.0 / (C * X.shape[0])
    reference = _sklearn_reference("breast_cancer", C)
    settings = {"lbfgs": dict(tol=1e-8), **_STOCHASTIC_SETTINGS}[solver]
    est = LogisticRegressionGD(solver=solver, alpha=alpha, random_state=0, **settings)
    est.fit(X, y)
    assert est.coef_.shape == (1, X.shape[1]) and est.intercept_.shape == (1,)
    P, P_ref = est.predict_proba(X), reference.predict_proba(X)
    j = softmax_objective(*_zero_negative_row(est.coef_, est.intercept_), X, y, alpha)
    j_ref = softmax_objective(
        *_zero_negative_row(reference.coef_, reference.intercept_), X, y, alpha
    )
    if solver == "lbfgs":
        assert_allclose(P, P_ref, atol=1e-4, rtol=0)
        assert abs(j - j_ref) <= 1e-6 * j_ref
    else:
        _assert_near_optimum(solver, P, P_ref, j, j_ref)


# the central identity --------------------------------------------------------


def _binary_data():
    X, y = _data("breast_cancer")
    return X[:, :10], y


def test_softmax_binary_decision_function_is_score_difference():
    X, y = _binary_data()
    est = SoftmaxClassifier(alpha=1e-2).fit(X, y)
    assert est.coef_.shape == (2, 10) and est.intercept_.shape == (2,)
    S = X @ est.coef_.T + est.intercept_
    d = est.decision_function(X)
    assert d.shape == (X.shape[0],)
    assert_allclose(d, S[:, 1] - S[:, 0], rtol=1e-10, atol=1e-10)
    assert_allclose(est.predict_proba(X)[:, 1], _sigmoid(d), rtol=1e-10, atol=1e-12)
    assert_array_equal(est.predict(X), est.classes_[(d > 0).astype(int)])


def test_logistic_binary_is_softmax_with_negative_logit_fixed_at_zero():
    X, y = _binary_data()
    est = LogisticRegressionGD(alpha=1e-2, solver="lbfgs").fit(X, y)
    z = X @ est.coef_[0] + est.intercept_[0]
    assert_allclose(est.decision_function(X), z, rtol=1e-10, atol=1e-10)
    S = np.column_stack([np.zeros_like(z), z])
    E = np.exp(S - S.max(axis=1, keepdims=True))
    assert_allclose(
        est.predict_proba(X), E / E.sum(axis=1, keepdims=True), rtol=1e-10, atol=1e-12
    )
    assert_allclose(est.predict_proba(X)[:, 1], _sigmoid(z), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_logistic_alpha_equals_softmax_twice_alpha(solver):
    X, y = _binary_data()
    a = 1e-2
    settings = {"lbfgs": dict(tol=1e-9), "gd": dict(tol=1e-10, max_iter=3000)}[solver]
    logistic = LogisticRegressionGD(alpha=a, solver=solver, **settings).fit(X, y)
    softmax = SoftmaxClassifier(alpha=2 * a, solver=solver, **settings).fit(X, y)
    atol = 1e-6 if solver == "lbfgs" else 1e-4
    assert_allclose(softmax.predict_proba(X), logistic.predict_proba(X), atol=atol)
    w, b = logistic.coef_[0], logistic.intercept_[0]
    scale = np.abs(w).max()
    # the two softmax rows settle at -w/2 and +w/2 (and the intercepts likewise)
    assert_allclose(softmax.coef_[1], w / 2, atol=atol * 10 * scale)
    assert_allclose(softmax.coef_[0], -w / 2, atol=atol * 10 * scale)
    assert_allclose(
        softmax.intercept_, [-b / 2, b / 2], atol=atol * 10 * max(1, abs(b))
    )


def test_logistic_one_vs_rest_units_equal_binary_models():
    X, y = _data("iris")
    a = 1e-2
    ovr = LogisticRegressionGD(alpha=a, solver="lbfgs", tol=1e-9).fit(X, y)
    assert ovr.coef_.shape == (3, 4) and ovr.intercept_.shape == (3,)
    Z = X @ ovr.coef_.T + ovr.intercept_
    sig = _sigmoid(Z)
    assert_allclose(
        ovr.predict_proba(X), sig / sig.sum(axis=1, keepdims=True), rtol=1e-8
    )
    assert_allclose(ovr.decision_function(X), Z, rtol=1e-10, atol=1e-10)
    for k in range(3):
        unit = LogisticRegressionGD(alpha=a, solver="lbfgs", tol=1e-9).fit(X, y == k)
        assert_allclose(ovr.coef_[k], unit.coef_[0], atol=1e-5)
        assert_allclose(ovr.intercept_[k], unit.intercept_[0], atol=1e-5)


def test_decision_function_shapes():
    X, y = _data("iris")
    for Est in ESTIMATORS:
        est = Est().fit(X, y)
        d = est.decision_function(X)
        assert d.shape == (150, 3)
        assert_array_equal(est.predict(X), est.classes_[d.argmax(axis=1)])
        P = est.predict_proba(X)
        assert_allclose(P.sum(axis=1), 1.0)
        assert_allclose(est.predict_log_proba(X), np.log(P))


# partial_fit ------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_availability(Est):
    assert not hasattr(Est(solver="lbfgs"), "partial_fit")
    for solver in STOCHASTIC:
        assert hasattr(Est(solver=solver), "partial_fit")
    X, y = _data("iris")
    with pytest.raises(AttributeError) as excinfo:
        Est(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])
    assert "lbfgs" in str(excinfo.value.__cause__)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_needs_classes_and_rejects_unseen_labels(Est):
    X, y = _data("iris")
    est = Est(solver="sgd", random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    assert not hasattr(est, "coef_")
    # the first call may see only some of the classes
    est.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert_array_equal(est.classes_, [0, 1, 2])
    assert est.coef_.shape[0] == 3
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=r"\[7\]"):
        est.partial_fit(X[:5], np.array([0, 1, 2, 7, 0]))
    assert_array_equal(est.coef_, coef)  # a failed call leaves the model as it was
    with pytest.raises(ValueError, match="not in classes"):
        Est(solver="sgd").partial_fit(X, y, classes=[0, 1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_epochs_equal_fit(Est, solver):
    X, y = _data("iris")
    # a fixed step: with 'auto' each call ends at its epoch's mean iterate and
    # the next goes on from it, where a fit goes on from the last iterate
    step = {"learning_rate_init": 0.1 if solver == "gd" else 0.01}
    fitted = Est(solver=solver, random_state=0, max_iter=5, tol=0, **step).fit(X, y)
    incremental = Est(solver=solver, random_state=0, **step)
    for _ in range(5):
        incremental.partial_fit(X, y, classes=[0, 1, 2])
    assert_allclose(incremental.coef_, fitted.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(incremental.intercept_, fitted.intercept_, rtol=1e-10, atol=1e-12)
    assert incremental.n_iter_ == 1
    assert len(incremental.loss_curve_) == 5
    assert_allclose(incremental.loss_curve_, fitted.loss_curve_, rtol=1e-10)


# warm start -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_warm_start_continues_gd(Est):
    X, y = _data("iris")
    # plain descent (a fixed step) has no memory: 4 + 6 steps are 10 steps
    ten = Est(solver="gd", learning_rate_init=0.1, max_iter=10, tol=0).fit(X, y)
    warm = Est(
        solver="gd", learning_rate_init=0.1, max_iter=4, tol=0, warm_start=True
    ).fit(X, y)
    assert warm.n_iter_ == 4
    warm.set_params(max_iter=6).fit(X, y)
    assert warm.n_iter_ == 6  # up to max_iter more
    assert_allclose(warm.coef_, ten.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(warm.intercept_, ten.intercept_, rtol=1e-10, atol=1e-12)
    cold = Est(solver="gd", learning_rate_init=0.1, max_iter=6, tol=0).fit(X, y)
    assert warm.loss_ < cold.loss_
    # the searched 'auto' step continues too, from where the last fit ended
    warm = Est(solver="gd", max_iter=4, tol=0, warm_start=True).fit(X, y)
    end_of_first = warm.loss_curve_[-1]
    warm.set_params(max_iter=6).fit(X, y)
    assert warm.n_iter_ == 6 and len(warm.loss_curve_) == 10
    assert warm.loss_curve_[4] < end_of_first
    cold = Est(solver="gd", max_iter=6, tol=0).fit(X, y)
    assert warm.loss_ < cold.loss_


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_warm_start_lbfgs_starts_from_the_optimum(Est):
    X, y = _data("iris")
    est = Est(solver="lbfgs", warm_start=True, alpha=1e-2).fit(X, y)
    first_iter, coef = est.n_iter_, est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_ < first_iter / 2
    assert_allclose(est.coef_, coef, atol=1e-3)
    # without warm_start the second fit starts over
    est.set_params(warm_start=False).fit(X, y)
    assert est.n_iter_ == first_iter


def test_warm_start_rejects_new_classes():
    X, y = _data("iris")
    est = SoftmaxClassifier(warm_start=True).fit(X[y < 2], y[y < 2])
    coef = est.coef_.copy()
    with pytest.raises(ValueError):
        est.fit(X, y)
    assert_array_equal(est.coef_, coef)


# early stopping ---------------------------------------------------------------


def _noisy_data():
    return make_classification(
        n_samples=400,
        n_features=20,
        n_informative=5,
        flip_y=0.2,
        n_classes=3,
        random_state=0,
    )


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_restores_the_best_weights(Est):
    X, y = _noisy_data()
    params = dict(
        solver="sgd",
        early_stopping=True,
        learning_rate_init=0.5,
        validation_fraction=0.2,
        n_iter_no_change=5,
        max_iter=200,
        random_state=0,
    )
    est = Est(**params).fit(X, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(scores)
    assert est.best_loss_ is None
    best = int(np.argmax(scores))
    assert best < est.n_iter_ - 1  # stopped after the best epoch
    # the same run cut right after its best epoch ends on the best weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cut = Est(**{**params, "max_iter": best + 1}).fit(X, y)
    assert cut.validation_scores_ == scores[: best + 1]
    assert_allclose(est.coef_, cut.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(est.intercept_, cut.intercept_, rtol=1e-12, atol=1e-14)


def test_without_early_stopping_best_loss_is_set():
    X, y = _data("iris")
    est = SoftmaxClassifier(solver="gd", max_iter=2000).fit(X, y)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)


# class_weight and sample_weight ---------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
def test_class_weight_multiplies_sample_weight(Est, solver, class_weight):
    X, y = _data("iris")
    X, y = X[20:], y[20:]  # unbalanced: 30 / 50 / 50
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=y.size)
    if class_weight == "balanced":
        counts = np.bincount(y)
        per_class = y.size / (3 * counts)
    else:
        per_class = np.array([class_weight[c] for c in range(3)])
    settings = dict(solver=solver, max_iter=300, tol=1e-6, alpha=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = Est(class_weight=class_weight, **settings).fit(
            X, y, sample_weight=sw
        )
        explicit = Est(**settings).fit(X, y, sample_weight=sw * per_class[y])
        plain = Est(**settings).fit(X, y, sample_weight=sw)
    assert_allclose(weighted.coef_, explicit.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(weighted.intercept_, explicit.intercept_, rtol=1e-8, atol=1e-10)
    assert not np.allclose(weighted.coef_, plain.coef_, atol=1e-3)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_integer_sample_weights_equal_repeated_samples(Est):
    X, y = _data("iris")
    sw = np.random.RandomState(1).randint(0, 4, size=y.size)
    weighted = Est(alpha=1e-2, tol=1e-9, solver="lbfgs").fit(X, y, sample_weight=sw)
    repeated = Est(alpha=1e-2, tol=1e-9, solver="lbfgs").fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)


def test_sample_weight_scales_each_samples_loss():
    X, y = _data("iris")
    sw = np.random.RandomState(2).uniform(0, 3, size=y.size)
    alpha = 1e-2
    est = SoftmaxClassifier(alpha=alpha, tol=1e-9).fit(X, y, sample_weight=sw)
    S = X @ est.coef_.T + est.intercept_
    m = S.max(axis=1, keepdims=True)
    log_P = S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))
    expected = (
        -(sw / sw.sum()) @ log_P[np.arange(y.size), y]
        + alpha / 2 * (est.coef_**2).sum()
    )
    assert est.loss_ == pytest.approx(expected, rel=1e-9)


# float32 ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
def test_float32_kept_end_to_end(Est, solver, name):
    X, y = _data(name)
    X32 = X.astype(np.float32)
    est = Est(solver=solver, max_iter=50, random_state=0).fit(
        X32, y, sample_weight=np.ones(y.size)
    )
    assert est.coef_.dtype == np.float32
    assert est.intercept_.dtype == np.float32
    for method in ("predict_proba", "predict_log_proba", "decision_function"):
        assert getattr(est, method)(X32).dtype == np.float32, method
    assert np.isfinite(est.loss_)
    est64 = Est(solver=solver, max_iter=50, random_state=0).fit(X, y)
    assert est64.coef_.dtype == np.float64
    assert est64.predict_proba(X).dtype == np.float64
    assert np.mean(est.predict(X32) == est64.predict(X)) > 0.95
    # integer input trains in float64
    est_int = Est(solver=solver, max_iter=5).fit(np.round(X * 10).astype(int), y)
    assert est_int.coef_.dtype == np.float64


# sparse input -----------------------------------------------------------------


def _sparse_problem():
    X, y = _data("digits", scaled=False)
    return X[:600] / 16.0, y[:600]  # about half the entries are zero


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_sparse_gives_the_same_model_as_dense(Est, solver, monkeypatch):
    X, y = _sparse_problem()
    params = dict(solver=solver, max_iter=30, random_state=0, alpha=1e-3)
    dense = Est(**params).fit(X, y)
    Xs = {"csr": sparse.csr_matrix(X), "csc": sparse.csc_matrix(X)}

    def no_densify(*args, **kwargs):
        raise AssertionError("sparse X was densified")

    monkeypatch.setattr(sparse.csr_matrix, "toarray", no_densify)
    monkeypatch.setattr(sparse.csc_matrix, "toarray", no_densify)
    monkeypatch.setattr(sparse.csr_matrix, "todense", no_densify)
    monkeypatch.setattr(sparse.csc_matrix, "todense", no_densify)
    for fmt, X_sparse in Xs.items():
        est = Est(**params).fit(X_sparse, y)
        assert_allclose(est.coef_, dense.coef_, rtol=1e-7, atol=1e-9, err_msg=fmt)
        assert_allclose(est.intercept_, dense.intercept_, rtol=1e-7, atol=1e-9)
        assert_allclose(est.predict_proba(X_sparse), dense.predict_proba(X), atol=1e-9)


# convergence, verbose, random_state ------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_convergence_warning_when_max_iter_is_reached(Est, solver):
    X, y = _data("digits")
    with pytest.warns(ConvergenceWarning):
        est = Est(solver=solver, max_iter=2, tol=1e-12, random_state=0).fit(X, y)
    assert est.n_iter_ <= 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Est(solver=solver, max_iter=2000, random_state=0, alpha=1e-2).fit(
            *_data("iris")
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_one_line_per_iteration(solver, capsys):
    X, y = _data("iris")
    est = SoftmaxClassifier(
        solver=solver, verbose=1, max_iter=300, random_state=0, alpha=1e-2
    ).fit(X, y)
    out = capsys.readouterr().out
    found = re.findall(r"^Iteration (\d+), loss = ([0-9.eE+-]+)$", out, flags=re.M)
    assert len(found) == est.n_iter_ == len(est.loss_curve_) > 0
    assert [int(i) for i, _ in found] == list(range(1, est.n_iter_ + 1))
    assert_allclose([float(v) for _, v in found], est.loss_curve_, atol=1e-8)
    SoftmaxClassifier(solver=solver, max_iter=300, alpha=1e-2).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_verbose_reports_validation_score(solver, capsys):
    X, y = _noisy_data()
    est = SoftmaxClassifier(
        solver=solver, verbose=1, early_stopping=True, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out
    assert len(re.findall(r"^Iteration \d+, loss = ", out, flags=re.M)) == est.n_iter_
    scores = re.findall(r"^Validation score: ([0-9.]+)$", out, flags=re.M)
    assert_allclose([float(s) for s in scores], est.validation_scores_, atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_random_state_gives_identical_parameters(solver):
    X, y = _noisy_data()
    a = SoftmaxClassifier(solver=solver, random_state=3, max_iter=20).fit(X, y)
    b = SoftmaxClassifier(solver=solver, random_state=3, max_iter=20).fit(X, y)
    c = SoftmaxClassifier(solver=solver, random_state=4, max_iter=20).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert not np.array_equal(a.coef_, c.coef_)


# divergence and extreme inputs ---------------------------------------------


def _assert_finite_model(est):
    for name in ("coef_", "intercept_", "loss_", "loss_curve_"):
        assert np.isfinite(np.asarray(getattr(est, name), dtype=float)).all(), name


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_divergence_raises_and_keeps_no_non_finite_values(Est):
    X, y = _data("iris")
    # batches of 10: the one epoch of partial_fit takes 15 steps
    est = Est(solver="sgd", learning_rate_init=1e6, batch_size=10, random_state=0)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.fit(X, y)
    assert not hasattr(est, "coef_") and not hasattr(est, "classes_")
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_divergence_keeps_the_previous_state(Est):
    X, y = _data("iris")
    est = Est(
        solver="sgd", warm_start=True, random_state=0, max_iter=500, batch_size=10
    ).fit(X, y)
    coef, intercept, P = est.coef_.copy(), est.intercept_.copy(), est.predict_proba(X)
    curve, n_iter = list(est.loss_curve_), est.n_iter_
    est.set_params(learning_rate_init=1e6)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.fit(X, y)
    assert_array_equal(est.coef_, coef)
    assert_array_equal(est.intercept_, intercept)
    assert est.loss_curve_ == curve and est.n_iter_ == n_iter
    assert_array_equal(est.predict_proba(X), P)
    _assert_finite_model(est)
    # partial_fit keeps its optimizer (and step size), as MLPClassifier does:
    # a batch of far larger features makes it diverge, and nothing is lost
    est.set_params(learning_rate_init="auto")
    est.partial_fit(X, y)
    coef, curve = est.coef_.copy(), list(est.loss_curve_)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.partial_fit(X * 1e8, y)
    assert_array_equal(est.coef_, coef)
    assert est.loss_curve_ == curve
    _assert_finite_model(est)
    est.partial_fit(X, y)
    assert len(est.loss_curve_) == len(curve) + 1


@pytest.mark.parametrize("solver", ["gd", "sgd", "lbfgs"])
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_huge_features_give_finite_probabilities_without_warnings(Est, solver):
    X, y = _data("iris")
    X_huge = X * 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 'auto' stops full batches on its gradient test only, which 200
        # epochs need not reach (the penalty is nil at this scale)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(solver=solver, random_state=0, max_iter=200).fit(X_huge, y)
        P = est.predict_proba(X_huge)
        log_P = est.predict_log_proba(X_huge)
        d = est.decision_function(X_huge)
    assert np.isfinite(P).all() and np.isfinite(log_P).all()
    assert not np.isnan(d).any()
    assert_allclose(P.sum(axis=1), 1.0)
    _assert_finite_model(est)
    # the model learned something (3 balanced classes: chance is 1/3)
    assert est.score(X_huge, y) > 0.7


def test_lbfgs_without_preconditioning_keeps_its_start_and_says_so():
    # L-BFGS-B's first trial step has norm 1: with features of 1e150 no line
    # search can shrink it enough. The linear models precondition it away (see
    # above); MLPBackprop, which follows MLPClassifier's L-BFGS exactly, does
    # not, and must then not end worse than it started.
    X, y = _data("iris")
    X_huge = X * 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="no progress"):
            est = MLPBackprop(
                hidden_layer_sizes=(), solver="lbfgs", random_state=0
            ).fit(X_huge, y)
        P = est.predict_proba(X_huge)
    assert np.isfinite(P).all()
    # the weights are still MLPClassifier's Glorot-uniform draw for seed 0
    rng = np.random.RandomState(0)
    bound = np.sqrt(6 / (4 + 3))
    assert_array_equal(est.coefs_[0], rng.uniform(-bound, bound, (4, 3)))
    assert_array_equal(est.intercepts_[0], rng.uniform(-bound, bound, 3))


# 'gd' with learning_rate_init='auto': a step searched at every iteration ------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_searched_gd_step_beats_the_fixed_step_by_far():
    # digits: the objective's curvature spans ~3 orders of magnitude, and the
    # fixed step 1/L only moves fast along the most curved directions
    C = 0.1
    X, y = _data("digits")
    alpha = 1.0 / (C * X.shape[0])
    reference = _sklearn_reference("digits", C)
    optimum = softmax_objective(reference.coef_, reference.intercept_, X, y, alpha)

    def gap(est):
        return softmax_objective(est.coef_, est.intercept_, X, y, alpha) - optimum

    settings = dict(solver="gd", alpha=alpha, max_iter=150, tol=0.0)
    searched = SoftmaxClassifier(**settings).fit(X, y)
    safe_step = searched._optimizer.learning_rate_init  # 1/L
    fixed = SoftmaxClassifier(learning_rate_init=safe_step, **settings).fit(X, y)
    assert gap(searched) < 1e-4 * optimum
    assert gap(fixed) > 100 * gap(searched)
    # every update is still theta := theta - step * gradient, with a step never
    # below the safe one
    assert searched._optimizer.learning_rate >= safe_step


def test_fixed_or_scheduled_gd_step_is_plain_descent():
    X, y = _data("iris")
    for params in (
        {"learning_rate_init": 0.3},
        {"learning_rate": "adaptive"},
        {"learning_rate": "invscaling"},
    ):
        est = SoftmaxClassifier(solver="gd", max_iter=1, **params).fit(X, y)
        assert type(est._optimizer) is _solvers.GradientDescent, params
    est = SoftmaxClassifier(solver="gd", max_iter=1).fit(X, y)
    assert type(est._optimizer) is _linesearch.BarzilaiBorwein


def test_searched_step_partial_fit_takes_the_safe_step():
    # each partial_fit call may see other data: the search starts afresh, with
    # the safe step 1/L of the first chunk, so 3 calls are plain descent
    X, y = _data("iris")
    streamed = SoftmaxClassifier(solver="gd", random_state=0)
    for _ in range(3):
        streamed.partial_fit(X, y, classes=[0, 1, 2])
    plain = SoftmaxClassifier(
        solver="gd",
        learning_rate_init=streamed._optimizer.learning_rate_init,
        max_iter=3,
        tol=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(X, y)
    assert_allclose(streamed.coef_, plain.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(streamed.loss_curve_, plain.loss_curve_, rtol=1e-12)


def test_searched_step_ending_on_a_non_finite_loss_raises(monkeypatch):
    # even on the last iteration: the point it would return is known to be bad
    X, y = _data("iris")
    evaluations = []
    objective = _network.Objective.__call__

    def infinite_after_3(self, *args):
        evaluations.append(1)
        loss = objective(self, *args)
        return np.inf if len(evaluations) > 3 else loss

    monkeypatch.setattr(_network.Objective, "__call__", infinite_after_3)
    with pytest.raises(ValueError, match="learning_rate_init"):
        SoftmaxClassifier(solver="gd", max_iter=3).fit(X, y)


@pytest.mark.parametrize(
    "trial_loss, expected",
    [
        # 1 - 0.5 a + a^2 through (1, 1.5): its minimum is at a = 1/4
        (1.0 + 0.5, 0.25),
        (0.6, 0.5),  # a fall, though short of the test: at most half the step
        (1.0 + 100.0, 0.1),  # a steep rise: at least a tenth of the step
        (np.inf, 0.1),
        (np.nan, 0.1),
    ],
)
def test_step_shortening_fits_a_quadratic_within_bounds(trial_loss, expected):
    # loss 1 at step 0, slope -||g||^2 = -0.5, trial step 1
    step = _linesearch._shorter(1.0, 1.0, trial_loss, 0.5)
    assert step == pytest.approx(expected)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "name, scaled, min_accuracy",
    [
        ("digits", True, 0.95),
        ("digits", False, 0.93),
        ("breast_cancer", True, 0.97),
        ("breast_cancer", False, 0.88),
    ],
)
def test_auto_learning_rate_converges_on_scaled_and_raw_data(
    Est, solver, name, scaled, min_accuracy
):
    if name == "digits":
        X, y = _data(name, scaled)
        X, y = X[::2], y[::2]
    else:
        X, y = _data(name, scaled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence, no numerical warning
        if solver == "sgd":
            # with a few batches an epoch 'sgd' may cross a flat valley until
            # max_iter (the defaults' rule, see test_defaults_converge.py)
            warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(solver=solver, random_state=0, max_iter=2000).fit(X, y)
    curve = np.array(est.loss_curve_)
    assert np.isfinite(curve).all()
    if solver == "gd":
        # the searched step may raise the loss, but never above the largest
        # of the last 10 losses (the non-monotone test)
        for k in range(1, curve.size):
            assert curve[k] < curve[max(0, k - 10) : k].max()
    assert curve[-1] < 0.6 * curve[0]
    assert est.score(X, y) >= min_accuracy
