"""Defaults that converge: with ``learning_rate_init='auto'`` (the default) the
linear models' first-order solvers end near the optimum of their objective.

The optimum is the one ``solver='lbfgs'`` reaches with a tight tolerance; the
objective is recomputed here from ``coef_`` and ``intercept_``.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

from skbackprop import LogisticRegressionGD, SoftmaxClassifier
from skbackprop._params import Layout
from skbackprop._step_size import Standardised

ALPHA = 1e-4
TARGET = 1e-3


def _objective(est, X, y):
    """Mean log-loss + alpha/2 ||coef||^2 of a fitted linear model."""
    S = X @ est.coef_.T + est.intercept_
    index = np.searchsorted(est.classes_, y)
    if isinstance(est, SoftmaxClassifier):
        S = S - S.max(axis=1, keepdims=True)
        loss = np.mean(np.log(np.exp(S).sum(axis=1)) - S[np.arange(y.size), index])
    else:
        T = (
            (index[:, None] == np.arange(S.shape[1]))
            if S.shape[1] > 1
            else (index == 1)[:, None]
        )
        loss = np.sum(np.mean(np.logaddexp(0, S) - T * S, axis=0))
    return loss + 0.5 * est.alpha * np.sum(est.coef_**2)


def _data(name, scaled):
    loader = {"iris": load_iris, "wine": load_wine, "cancer": load_breast_cancer}
    X, y = (loader.get(name) or load_digits)(return_X_y=True)
    return (StandardScaler().fit_transform(X) if scaled else X), y


def _gap(cls, solver, X, y, stops=True, random_state=0):
    best = cls(alpha=ALPHA, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        # the defaults stop by their own rule, not at max_iter (unless not
        # expected to: ``stops=False``)
        warnings.simplefilter("error" if stops else "ignore", ConvergenceWarning)
        est = cls(alpha=ALPHA, solver=solver, random_state=random_state).fit(X, y)
    return _objective(est, X, y) - _objective(best, X, y)


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
@pytest.mark.parametrize(
    "name, scaled",
    [
        ("iris", False),
        ("iris", True),
        ("wine", False),
        ("wine", True),
        ("cancer", True),
        ("digits", True),
    ],
)
def test_gd_default_reaches_the_optimum(cls, name, scaled):
    X, y = _data(name, scaled)
    assert _gap(cls, "gd", X, y) <= TARGET


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("scaled", [False, True])
def test_sgd_default_reaches_the_optimum_on_small_data(cls, name, scaled):
    # fewer samples than a batch: one full batch per epoch, whose step follows
    # the curvature at the model (SoftmaxClassifier) or runs in the whitened
    # coordinates (LogisticRegressionGD); at the global step these ran to
    # max_iter (raw iris: 1.03e-3 away), now a stopping test ends them
    X, y = _data(name, scaled)
    assert _gap(cls, "sgd", X, y) <= TARGET


@pytest.mark.parametrize(
    "cls, name",
    [
        (SoftmaxClassifier, "digits"),
        (LogisticRegressionGD, "digits"),
        (SoftmaxClassifier, "cancer"),
        (LogisticRegressionGD, "cancer"),
    ],
)
def test_sgd_default_crosses_a_flat_valley_on_few_batches(cls, name):
    # 3 (breast_cancer) or 9 (digits) batches an epoch, standardised: the
    # loss falls by less than tol an epoch for hundreds of epochs; with so few
    # batches nothing passes for noise, and the fit goes on instead of stopping
    # at the stall (it stopped 7e-3 to 5e-2 above the optimum), at a step
    # that follows the curvature at the model (SoftmaxClassifier on
    # breast_cancer ended 1.2e-3 away at the global step), or in the
    # whitened coordinates (LogisticRegressionGD)
    X, y = _data(name, scaled=True)
    assert _gap(cls, "sgd", X, y, stops=False) <= TARGET


def test_sgd_default_reaches_the_optimum_on_raw_digits():
    # nine batches an epoch, a condition number of 1e5: the step from the
    # curvature at the model was halved by the ripples of a long crawl and
    # ended at the global step, 1.4e-3 away at max_iter; taking a halving back
    # after ten calm epochs gets there
    X, y = _data("digits", scaled=False)
    assert _gap(SoftmaxClassifier, "sgd", X, y, stops=False) <= TARGET


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
@pytest.mark.parametrize(
    "name, scaled", [("iris", False), ("wine", False), ("cancer", True)]
)
def test_adam_default_reaches_the_optimum_on_small_data(cls, name, scaled):
    # one batch an epoch (iris, wine: raw) or three (breast_cancer): Adam
    # crept along their flat valleys at its starting step and ended at
    # max_iter 1.1e-3 to 2.7e-3 away; a step grown while the loss falls along
    # one direction crosses them (SoftmaxClassifier; LogisticRegressionGD runs
    # in the whitened coordinates), and a stopping test ends the fit
    X, y = _data(name, scaled)
    assert _gap(cls, "adam", X, y) <= TARGET


def _decide(
    state, losses, drifting, noise_dominated=False, few_batches=False, stalled=False
):
    """The 'auto' stopping rule after an epoch whose statistics are given
    (``stalled``: eleven epochs without an improvement of tol)."""
    from types import SimpleNamespace

    from skbackprop._converging import Converging
    from skbackprop._training import Record

    driver = Converging.__new__(Converging)
    driver.state, driver.decrement, driver.whitening = state, None, None
    driver.statistics = SimpleNamespace(
        gradient_max=1.0,
        average=True,
        drifting=drifting,
        noise_dominated=noise_dominated,
        stochastic=True,
        few_batches=few_batches,
    )
    record = Record(loss_curve=list(losses), no_improvement_count=11 * stalled)
    return driver._decide(record, n_iter_no_change=10)


def test_adam_step_grows_while_the_loss_falls_along_one_direction():
    from skbackprop._converging import GROW, LONGEST_STEP, SHRINK
    from skbackprop._solvers import Adam, MomentumSGD

    adam = Adam(4, np.float64, 0.1)
    adam.auto_shrunk = 1.0
    assert _decide(adam, [1.0, 0.9], drifting=True) == (False, None)
    assert adam.learning_rate_init == pytest.approx(0.1 * GROW)
    # no growth when the direction turns or the loss does not fall
    _decide(adam, [1.0, 0.9], drifting=False)
    _decide(adam, [0.9, 0.9], drifting=True)
    assert adam.learning_rate_init == pytest.approx(0.1 * GROW)
    # at most LONGEST_STEP times the start
    for _ in range(50):
        _decide(adam, [1.0, 0.9], drifting=True)
    assert 0.1 * LONGEST_STEP / GROW < adam.learning_rate_init <= 0.1 * LONGEST_STEP
    # a noisy plateau still divides it
    longest = adam.learning_rate_init
    _decide(adam, [0.9, 0.9], drifting=False, noise_dominated=True)
    assert adam.learning_rate_init == pytest.approx(longest / SHRINK)
    # momentum SGD keeps its step: 1/L_b is the largest stable one
    sgd = MomentumSGD(4, np.float64, 0.1)
    sgd.auto_shrunk = 1.0
    _decide(sgd, [1.0, 0.9], drifting=True)
    assert sgd.learning_rate == 0.1


def test_adam_on_few_batches_shrinks_only_above_the_recent_losses():
    from skbackprop._converging import MEMORY, SHRINK
    from skbackprop._solvers import Adam

    adam = Adam(4, np.float64, 0.1)
    adam.auto_shrunk = 1.0
    ripple = [1.0, 0.99, 1.02] + [0.98, 0.985] * (MEMORY // 2 - 1)
    # many batches: a stalled plateau divides the step
    _decide(adam, ripple + [0.99], drifting=False, stalled=True)
    assert adam.learning_rate_init == pytest.approx(0.1 / SHRINK)
    # a few batches: a loss above the last epoch's, below the highest of the
    # last MEMORY, is a ripple and keeps the step
    adam.learning_rate_init, adam.auto_shrunk = 0.1, 1.0
    _decide(adam, ripple + [0.99], drifting=False, stalled=True, few_batches=True)
    assert adam.learning_rate_init == 0.1
    # above all of them: the steps went too far
    _decide(adam, ripple + [1.03], drifting=False, stalled=True, few_batches=True)
    assert adam.learning_rate_init == pytest.approx(0.1 / SHRINK)
    # ... but only once the loss has stalled
    _decide(adam, ripple + [1.03], drifting=False, few_batches=True)
    assert adam.learning_rate_init == pytest.approx(0.1 / SHRINK)


@pytest.mark.parametrize("random_state", [0, 1, 2])
@pytest.mark.parametrize(
    "cls, name, scaled, stops",
    [
        (SoftmaxClassifier, "cancer", False, False),
        # in the whitened coordinates: the decrement test stops it
        (LogisticRegressionGD, "digits", True, True),
    ],
)
def test_adam_default_crosses_a_flat_valley_on_few_batches(
    cls, name, scaled, stops, random_state
):
    # three or nine batches an epoch and a loss falling by less than tol an
    # epoch: Adam's step was divided at every epoch that rippled above the
    # last, and the fits ended at max_iter 1.2e-3 to 1.8e-3 (breast_cancer)
    # and 3.1e-3 to 4.5e-3 (digits) away over seeds 0-5; divided only when
    # the loss tops the last ten epochs, SoftmaxClassifier crosses the valley.
    # One-vs-rest digits still ended 1.1e-4 to 1.6e-3 away depending on the
    # shuffle; whitened by each unit's Hessian, it has no flat valley left
    X, y = _data(name, scaled)
    gap = _gap(cls, "adam", X, y, stops=stops, random_state=random_state)
    assert gap <= TARGET


def test_few_batches_never_pass_for_noise():
    from skbackprop._converging import EpochStatistics
    from skbackprop._engine import NumPyEngine

    e = NumPyEngine()
    rng = np.random.default_rng(0)
    for n_batches, expected in [(3, False), (9, False), (50, True)]:
        statistics = EpochStatistics(n_batches, np.zeros(4), average=True)
        # batch gradients of tiny mean, large spread: noise, if m is large
        grads = rng.standard_normal((n_batches, 4))
        grads -= grads.mean(axis=0) - 1e-3
        for g in grads:
            statistics.add(np.zeros(4), g, 1, e)
        statistics.end_epoch(e, np.zeros(4))
        assert statistics.noise_dominated is expected
        assert statistics.few_batches is (n_batches <= 9)


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_default_reaches_the_optimum_on_badly_scaled_features(cls, solver):
    # 25 batches an epoch; features of scales 0.1 to 100, all offset by 5
    X, y = make_classification(5000, 20, n_informative=10, n_classes=3, random_state=0)
    X = X * np.linspace(0.1, 100, 20) + 5
    assert _gap(cls, solver, X, y) <= TARGET


_MEANS = 3 + 0.4 * np.random.default_rng(0).standard_normal((3, 20))


def _gaussian_stream(n_samples, seed):
    """Three Gaussian classes (identity covariance, means offset by 3): the
    Bayes classifier is linear."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n_samples)
    return _MEANS[y] + rng.standard_normal((n_samples, 20)), y


def _bayes_accuracy(X, y):
    """Accuracy of the Bayes classifier: the nearest mean (equal priors)."""
    scores = X @ _MEANS.T - 0.5 * np.sum(_MEANS**2, axis=1)
    return np.mean(scores.argmax(axis=1) == y)


@pytest.mark.parametrize(
    "est",
    [
        SoftmaxClassifier(solver="sgd", random_state=0),
        LogisticRegressionGD(solver="sgd", random_state=0),
        SoftmaxClassifier(solver="adam", random_state=0),
    ],
    ids=["softmax-sgd", "logistic-sgd", "softmax-adam"],
)
def test_one_pass_of_partial_fit_is_as_accurate_as_sgdclassifier(est):
    X, y = _gaussian_stream(60_000, seed=1)
    X_test, y_test = _gaussian_stream(50_000, seed=2)
    peer = SGDClassifier(loss="log_loss", random_state=0)
    for model in (est, peer):
        for start in range(0, 60_000, 5000):
            chunk = slice(start, start + 5000)
            model.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    accuracy = est.score(X_test, y_test)
    assert accuracy >= peer.score(X_test, y_test) - 0.005
    assert accuracy >= _bayes_accuracy(X_test, y_test) - 0.005


def test_shifted_features_train_alike():
    # the 'auto' solvers run on the weights of centred, scaled features, and a
    # shift of the features changes neither those nor the penalty on W
    X, y = load_wine(return_X_y=True)
    warnings.simplefilter("ignore", ConvergenceWarning)
    for solver in ("gd", "sgd", "adam"):
        fits = [
            SoftmaxClassifier(solver=solver, alpha=ALPHA, random_state=0).fit(Z, y)
            for Z in (X, X + 1000.0)
        ]
        np.testing.assert_allclose(
            fits[0].predict_proba(X), fits[1].predict_proba(X + 1000.0), atol=1e-6
        )
        assert fits[0].n_iter_ == fits[1].n_iter_


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_change_of_variables_is_the_same_model(fit_intercept):
    rng = np.random.default_rng(0)
    X = 5 + 100 * rng.standard_normal((40, 3))
    w = np.full(40, 1 / 40)
    layout = Layout([3, 2], fit_intercept)
    standardised = Standardised.from_data(layout, X, w, np.float64)
    u = rng.standard_normal(layout.size)
    theta = np.empty_like(u)
    standardised.to_theta(u, theta)
    ((W, b),) = layout.views(theta)
    ((U, c),) = layout.views(u)
    Z = (X - X.mean(axis=0)) / X.std(axis=0) if fit_intercept else None
    if fit_intercept:
        np.testing.assert_allclose(X @ W + b, Z @ U + c, rtol=1e-10, atol=1e-10)
    else:
        rms = np.sqrt(np.mean(X**2, axis=0))
        np.testing.assert_allclose(X @ W, (X / rms) @ U, rtol=1e-10)
    back = np.empty_like(u)
    standardised.to_u(theta, back)
    np.testing.assert_allclose(back, u, rtol=1e-10)


def test_gradient_in_u_is_the_transposed_map():
    # J(A u) has gradient A^T dJ/dtheta: checked on a linear J(theta) = g . theta
    rng = np.random.default_rng(1)
    X = 3 + 10 * rng.standard_normal((30, 4))
    layout = Layout([4, 3], True)
    standardised = Standardised.from_data(layout, X, np.full(30, 1 / 30), np.float64)
    g = rng.standard_normal(layout.size)
    g_u = g.copy()
    standardised.gradient_to_u(g_u)
    for i in range(layout.size):
        e = np.zeros(layout.size)
        e[i] = 1.0
        theta = np.empty_like(e)
        standardised.to_theta(e, theta)  # the i-th column of A
        assert g_u[i] == pytest.approx(g @ theta, rel=1e-10, abs=1e-12)


def test_top_eigenvalue_of_standardised_data_sees_anticorrelated_columns():
    """Two columns of opposite correlation: the top eigenvector of the
    standardised Gram matrix is orthogonal to a uniform start vector."""
    from skbackprop._step_size import _standardised_top_eigenvalue

    X = np.repeat([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0]], 4, axis=0)
    w = np.full(X.shape[0], 1.0 / X.shape[0])
    standardised = Standardised.from_data(Layout([2, 1], True), X, w, X.dtype)
    Z = np.hstack([(X - standardised.mean) * standardised.scale, np.ones((16, 1))])
    expected = np.linalg.eigvalsh(Z.T @ (w[:, None] * Z)).max()
    assert _standardised_top_eigenvalue(X, w, standardised) == pytest.approx(
        expected, rel=1e-6
    )


def test_auto_step_statistics_do_not_copy_float32_x():
    """The power iteration multiplies X in its own dtype: a float64 vector
    would make NumPy upcast a copy of X on every product."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 50)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    est = LogisticRegressionGD(solver="gd", max_iter=2)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes  # a float64 copy alone is 2 X.nbytes


# The single-batch 'sgd' step: the curvature at the model ---------------------


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_softmax_sample_curvature_bounds_the_score_hessian(n_classes):
    from skbackprop._outputs import Softmax

    rng = np.random.default_rng(n_classes)
    S = rng.standard_normal((200, n_classes)) * rng.choice([0.1, 3.0, 30.0], (200, 1))
    c = Softmax(n_classes).sample_curvature(S)
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    exact = np.array([np.linalg.eigvalsh(np.diag(p) - np.outer(p, p))[-1] for p in P])
    assert np.all(c >= exact - 1e-12)
    assert np.all(c <= 0.5)
    # tight enough to matter: within a factor 2, and near 0 when confident
    assert np.all(c <= 2 * exact + 1e-12)
    confident = P.max(axis=1) > 1 - 1e-6
    assert confident.any() and np.all(c[confident] < 1e-5)


def test_logistic_sample_curvature_is_the_largest_unit_curvature():
    from skbackprop._outputs import Logistic

    S = np.array([[0.0, 5.0, -5.0], [40.0, -40.0, 30.0]])
    p = 1 / (1 + np.exp(-S))
    expected = (p * (1 - p)).max(axis=1)
    np.testing.assert_allclose(Logistic(3).sample_curvature(S), expected)
    assert Logistic(3).sample_curvature(S)[0] == 0.25


def _local(X, y, n_classes, alpha=ALPHA, floor=1e-3, batch_size=None):
    from skbackprop._converging import LocalCurvature
    from skbackprop._outputs import Softmax

    w = np.full(X.shape[0], 1 / X.shape[0])
    layout = Layout([X.shape[1], n_classes], True)
    standardised = Standardised.from_data(layout, X, w, np.float64, alpha)
    local = LocalCurvature(
        X,
        w,
        standardised,
        Softmax(n_classes),
        alpha,
        batch_size or X.shape[0],
        floor,
    )
    return local, layout, standardised, w


def test_local_lipschitz_bounds_the_hessian_in_u():
    # J(u) = sum_i w_i l(z_i U) + alpha/2 sum_j d_j^2 |U_j|^2 with
    # z_i = [(x_i - m) d, 1]: its Hessian is sum_i w_i (z_i z_i^T) kron H_i
    # plus the penalty, H_i = diag(p_i) - p_i p_i^T the softmax's
    X, y = load_iris(return_X_y=True)
    local, layout, standardised, w = _local(X, y, 3)
    rng = np.random.default_rng(0)
    for scale in (0.1, 1.0, 10.0):
        u = scale * rng.standard_normal(layout.size)
        theta = np.empty_like(u)
        standardised.to_theta(u, theta)
        d, m = standardised.scale, standardised.mean
        Z = np.hstack([(X - m) * d, np.ones((X.shape[0], 1))])
        ((U, c),) = layout.views(u)
        S = Z @ np.vstack([U, c])
        P = np.exp(S - S.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        H = sum(
            w[i] * np.kron(np.outer(Z[i], Z[i]), np.diag(P[i]) - np.outer(P[i], P[i]))
            for i in range(X.shape[0])
        )
        H += np.kron(np.diag(np.append(ALPHA * d**2, 0.0)), np.eye(3))
        exact = np.linalg.eigvalsh(H)[-1]
        L = local.lipschitz(theta)
        assert exact <= L * (1 + 1e-6)
        # far below the global bound once the classes are told apart
        if scale == 10.0:
            global_L = 0.5 * np.linalg.eigvalsh(Z.T @ (w[:, None] * Z))[-1]
            assert L < global_L / 3


def test_local_step_grows_by_at_most_two_and_halves_after_a_rise():
    from skbackprop._converging import MEMORY

    X, y = load_iris(return_X_y=True)
    local, layout, standardised, _ = _local(X, y, 3, floor=1e-3)
    theta = np.zeros(layout.size)
    steps = [local.next_step(theta, loss) for loss in (1.0, 0.9, 0.8, 0.7)]
    # from the floor, doubling at most, never below it
    assert steps[0] == pytest.approx(2e-3)
    for before, after in zip(steps[:-1], steps[1:], strict=True):
        assert local.floor <= after <= 2 * before * (1 + 1e-12)
    # the uncapped step at this model, then a loss above all recent ones
    settled = [local.next_step(theta, 0.6) for _ in range(20)][-1]
    assert settled == pytest.approx(1 / local.lipschitz(theta), rel=1e-6)
    assert local.next_step(theta, 2.0) == pytest.approx(settled / 2, rel=1e-6)
    # ... never below the floor
    for rise in range(40):
        local.next_step(theta, 3.0 + rise)
    assert local.next_step(theta, 0.5) == local.floor
    # ten epochs without a new high double the factor back, up to 1 (the
    # factor was halved 41 times: one doubling leaves the step at the floor)
    halving = local.halving
    factor = halving.factor
    for _ in range(MEMORY - 1):
        local.next_step(theta, 0.5)
    assert halving.factor == 2 * factor
    halving.factor = 0.5
    halving.calm = 0
    steps = [local.next_step(theta, 0.5) for _ in range(MEMORY)]
    assert halving.factor == 1.0
    assert steps[-1] == pytest.approx(settled, rel=1e-6)
    for _ in range(3 * MEMORY):
        local.next_step(theta, 0.5)
    assert halving.factor == 1.0


def test_local_lipschitz_of_a_batch_runs_from_the_full_to_the_largest_sample():
    # L_b interpolates between L (b = n) and the largest sample's own
    # curvature c_i |z_i|^2 (b = 1), each at the model's probabilities
    X, y = load_iris(return_X_y=True)
    theta = np.random.default_rng(0).standard_normal(Layout([4, 3]).size)
    values = {}
    for b in (150, 50, 1):
        local, _, standardised, _ = _local(X, y, 3, batch_size=b)
        values[b] = local.lipschitz(theta)
    from skbackprop._outputs import Softmax

    d, m = standardised.scale, standardised.mean
    c = Softmax(3).sample_curvature(X @ theta[:12].reshape(4, 3) + theta[12:])
    Z2 = np.sum(((X - m) * d) ** 2, axis=1)
    penalty = ALPHA * np.max(d**2)
    assert values[1] == pytest.approx(np.max(c * Z2) + np.max(c) + penalty)
    assert values[150] < values[50] < values[1]


@pytest.mark.parametrize(
    "n_samples, batch_size, applies",
    [(150, 200, True), (1797, 200, True), (1801, 200, False)],
)
def test_local_step_applies_to_fit_with_at_most_nine_batches(
    n_samples, batch_size, applies
):
    from skbackprop._converging import FEW_BATCHES, LocalCurvature
    from skbackprop._outputs import Identity, Softmax

    assert FEW_BATCHES == 9  # 1797 rows in batches of 200: 9 batches
    sgd, adam = SoftmaxClassifier(solver="sgd"), SoftmaxClassifier(solver="adam")
    assert (
        LocalCurvature.applies(sgd, Softmax(3), n_samples, batch_size, False) is applies
    )
    assert not LocalCurvature.applies(sgd, Softmax(3), n_samples, batch_size, True)
    assert not LocalCurvature.applies(adam, Softmax(3), n_samples, batch_size, False)
    assert not LocalCurvature.applies(sgd, Identity(1), n_samples, batch_size, False)


def test_partial_fit_after_fit_goes_on_from_the_global_step(monkeypatch):
    # the few-batch step grows with the curvature at the model of fit's data;
    # partial_fit may see other data, so fit leaves the global step behind
    from skbackprop._converging import LocalCurvature

    X, y = load_iris(return_X_y=True)
    seen = []
    original = LocalCurvature.next_step

    def next_step(self, theta, loss):
        seen.append((original(self, theta, loss), self.floor))
        return seen[-1][0]

    monkeypatch.setattr(LocalCurvature, "next_step", next_step)
    est = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    last_step, floor = seen[-1]
    assert last_step > 10 * floor
    assert est._optimizer.learning_rate == floor
    est.partial_fit(X * 3.0 + 1.0, y)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_a_huge_constant_float32_feature_fits_without_warnings(solver):
    # the power iteration's products of X (1e30 in float32) overflowed; they
    # are taken again in float64 on X / its largest entry
    X = np.full((4, 1), 1e30, dtype=np.float32)
    y = np.array([-2, 1, -2, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogisticRegressionGD(solver=solver).fit(X, y)
    np.testing.assert_array_equal(est.coef_, 0.0)
    np.testing.assert_allclose(est.predict_proba(X), 0.5)
