"""The Newton decrement, the convergence test of ``'auto'``: the output
units' curvature products, the Hessian-vector product of a linear model, the
conjugate-gradient estimate, when the test is taken, and the fits it stops or
keeps going."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit, softmax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skbackprop import LinearRegressionGD, LogisticRegressionGD, SoftmaxClassifier
from skbackprop._decrement import NewtonDecrement
from skbackprop._engine import NumPyEngine
from skbackprop._network import Objective
from skbackprop._outputs import Exp, Identity, Logistic, Softmax
from skbackprop._params import Layout
from skbackprop._step_size import Standardised

ALPHA, TARGET = 1e-4, 1e-3

# the output gradient P - Y of each unit, without the targets (they drop out
# of its derivative)
PREDICTIONS = {
    "softmax": (Softmax(4), lambda S: softmax(S, axis=1)),
    "logistic": (Logistic(4), expit),
    "identity": (Identity(4), lambda S: S),
    "exp": (Exp(4), np.exp),
}


@pytest.mark.parametrize("name", sorted(PREDICTIONS))
def test_curvature_product_is_the_change_of_the_output_gradient(name):
    output, predict = PREDICTIONS[name]
    rng = np.random.default_rng(0)
    S = rng.standard_normal((50, 4)) * rng.choice([0.3, 3.0], (50, 1))
    dS = rng.standard_normal((50, 4))
    h = 1e-6
    expected = (predict(S + h * dS) - predict(S - h * dS)) / (2 * h)
    product = output.curvature_product(output.curvature_weights(S), dS)
    np.testing.assert_allclose(product, expected, rtol=1e-6, atol=1e-9)


def test_logistic_curvature_product_is_finite_at_extreme_scores():
    S = np.array([[-800.0, 0.0, 800.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        output = Logistic(3)
        R = output.curvature_product(output.curvature_weights(S), np.ones_like(S))
    np.testing.assert_allclose(R, [[0.0, 0.25, 0.0]])


def _problem(output, n_outputs, fit_intercept, weighted, seed=0, n=60, p=5):
    rng = np.random.default_rng(seed)
    layout = Layout([p, n_outputs], fit_intercept)
    X = 3.0 + rng.standard_normal((n, p)) * [1.0, 10.0, 0.1, 2.0, 5.0]
    y = rng.integers(4, size=n)
    T = output.targets(y, np.float64)
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    theta = 0.1 * rng.standard_normal(layout.size)
    objective = Objective(layout, "identity", output, 1e-2, False, NumPyEngine())
    unit = np.full(n, 1.0 / n) if w is None else w / w.sum()
    standardised = Standardised.from_data(layout, X, unit, np.float64, 1e-2)
    return objective, standardised, X, T, w, theta


def _gradient(objective, theta, X, T, w):
    grad = np.empty_like(theta)
    objective(theta, X, T, w, grad)
    return grad


@pytest.mark.parametrize("name", ["softmax", "logistic", "identity"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse_x", [False, True])
def test_hessian_product_is_the_derivative_of_the_backpropagated_gradient(
    name, fit_intercept, weighted, sparse_x
):
    output = PREDICTIONS[name][0]
    objective, standardised, X, T, w, theta = _problem(
        output, 4, fit_intercept, weighted
    )
    X_used = sparse.csr_matrix(X) if sparse_x else X
    decrement = NewtonDecrement(objective, standardised, X_used, T, w)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(theta.size)
    product = np.empty_like(theta)
    decrement.hessian_product(decrement.curvature_at(theta), v, product)
    h = 1e-6
    expected = (
        _gradient(objective, theta + h * v, X, T, w)
        - _gradient(objective, theta - h * v, X, T, w)
    ) / (2 * h)
    np.testing.assert_allclose(product, expected, rtol=1e-5, atol=1e-8)


def test_hessian_product_over_blocks_of_rows_is_the_whole_one():
    objective, standardised, X, T, w, theta = _problem(Softmax(4), 4, True, True)
    whole = NewtonDecrement(objective, standardised, X, T, w)
    blocked = NewtonDecrement(objective, standardised, X, T, w)
    blocked.rows = 7
    v = np.random.default_rng(2).standard_normal(theta.size)
    a, b = np.empty_like(theta), np.empty_like(theta)
    whole.hessian_product(whole.curvature_at(theta), v, a)
    blocked.hessian_product(blocked.curvature_at(theta), v, b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_decrement_of_least_squares_is_the_gap(fit_intercept):
    # a quadratic objective: J(theta) - J* is half the Newton decrement,
    # and 6 parameters take at most 6 conjugate-gradient steps
    output = Identity(1)
    objective, standardised, X, T, w, _ = _problem(output, 1, fit_intercept, True)
    rng = np.random.default_rng(3)
    T = X @ rng.standard_normal((5, 1)) + rng.standard_normal((X.shape[0], 1))
    Z = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    sw = w / w.sum()
    penalty = 1e-2 * np.eye(Z.shape[1])
    if fit_intercept:
        penalty[-1, -1] = 0.0
    best = np.linalg.solve(Z.T @ (sw[:, None] * Z) + penalty, Z.T @ (sw[:, None] * T))
    theta_star = best.ravel()  # the layout: the weights, then the bias
    theta = theta_star + 0.05 * rng.standard_normal(theta_star.size)
    loss = objective(theta, X, T, w, np.empty_like(theta))
    gap = loss - objective(theta_star, X, T, w, np.empty_like(theta))
    assert gap > 0
    decrement = NewtonDecrement(objective, standardised, X, T, w)
    assert decrement.within(theta, gap * 1.001)
    np.testing.assert_allclose(decrement.estimate, gap, rtol=1e-6)
    # below the gap: the lower bound passes it, and the test fails
    assert not decrement.within(theta, gap * 0.999)
    # the next tests wait as many epochs as that one's products
    assert decrement.wait >= 1
    waited = decrement.wait
    assert [decrement.due() for _ in range(waited + 1)] == [False] * waited + [True]


def test_decrement_is_a_lower_bound_that_grows_with_the_steps():
    objective, standardised, X, T, w, theta = _problem(Softmax(4), 4, True, False)
    decrement = NewtonDecrement(objective, standardised, X, T, w)
    decrement.RESIDUAL = 1e-8
    estimates = []
    for steps in (1, 2, 4, 8, 100):
        decrement.STEPS = steps
        decrement.within(theta, np.inf)
        estimates.append(decrement.estimate)
    assert np.all(np.diff(estimates) >= -1e-15)
    # the exact decrement, from the Hessian assembled column by column
    g = _gradient(objective, theta, X, T, w)
    H = np.empty((theta.size, theta.size))
    curvature = decrement.curvature_at(theta)
    for j in range(theta.size):
        decrement.hessian_product(curvature, np.eye(theta.size)[j], H[:, j])
    # (pinv: a shift of all the biases changes no softmax, H is singular there)
    exact = 0.5 * g @ np.linalg.pinv(H, hermitian=True) @ g
    assert estimates[-1] <= exact * (1 + 1e-9)
    np.testing.assert_allclose(estimates[-1], exact, rtol=1e-6)


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
def test_gd_goes_on_past_the_gradient_test_on_raw_digits(cls):
    # raw pixels: the gradient test passed 1.9e-3 (softmax) and 2.1e-3
    # (one-vs-rest) above the optimum; the decrement keeps the fit going
    X, y = load_digits(return_X_y=True)
    best = cls(alpha=ALPHA, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = cls(alpha=ALPHA, solver="gd", random_state=0).fit(X, y)
    assert _log_loss(est, X, y) - _log_loss(best, X, y) <= TARGET


def _log_loss(est, X, y):
    """Mean log-loss + alpha/2 ||coef||^2 (softmax, or one-vs-rest units)."""
    S = X @ est.coef_.T + est.intercept_
    T = y[:, None] == est.classes_
    if isinstance(est, SoftmaxClassifier):
        S = S - S.max(axis=1, keepdims=True)
        loss = np.mean(np.log(np.exp(S).sum(axis=1)) - S[T])
    else:
        loss = np.sum(np.mean(np.logaddexp(0, S) - T * S, axis=0))
    return loss + 0.5 * est.alpha * np.sum(est.coef_**2)


def test_decrement_is_not_taken_by_partial_fit_or_networks():
    layout = Layout([3, 2])
    linear = Objective(layout, "identity", Softmax(2), 1e-4, False, NumPyEngine())
    network = Objective(
        Layout([3, 4, 2]), "relu", Softmax(2), 1e-4, True, NumPyEngine()
    )
    assert NewtonDecrement.applies(linear, incremental=False)
    assert not NewtonDecrement.applies(linear, incremental=True)
    assert not NewtonDecrement.applies(network, incremental=False)


def test_regression_gd_goes_on_along_a_flat_direction():
    # eight nearly equal columns and a small alpha: the gradient test passed
    # after 3 iterations, 1.5e-4 above the optimum; for squared error half
    # the decrement is the gap, and the fit stops within tol of it
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 1)) + 0.001 * rng.standard_normal((300, 8))
    y = X @ rng.standard_normal(8) + 0.1 * rng.standard_normal(300)
    est = LinearRegressionGD(solver="gd", alpha=1e-6, random_state=0).fit(X, y)
    best = LinearRegressionGD(solver="lbfgs", alpha=1e-6, tol=1e-12, max_iter=10_000)
    best.fit(X, y)

    def objective(m):
        r = X @ m.coef_ + m.intercept_ - y
        return 0.5 * np.mean(r**2) + 0.5 * m.alpha * np.sum(m.coef_**2)

    assert objective(est) - objective(best) <= est.tol


@pytest.mark.parametrize("weighted", [False, True])
def test_products_on_an_evenly_spread_sample_estimate_the_whole(weighted, monkeypatch):
    # the rows sorted by class, as data often come: a stride still sees
    # every class, and the decrement from a quarter of the rows is close
    objective, standardised, X, T, w, theta = _problem(
        Softmax(4), 4, True, weighted, n=4000
    )
    order = np.argsort(T, kind="stable")
    X, T = X[order], T[order]
    w = None if w is None else w[order]
    whole = NewtonDecrement(objective, standardised, X, T, w)
    assert sum(p.stop - p.start for p in whole.slices) == X.shape[0]
    whole.within(theta, np.inf)
    monkeypatch.setattr(NewtonDecrement, "SAMPLE", 1000)
    part = NewtonDecrement(objective, standardised, X, T, w)
    starts = [p.start for p in part.slices]
    assert len(starts) == NewtonDecrement.CHUNKS and starts[0] == 0
    assert part.slices[-1].stop == X.shape[0]
    assert sum(p.stop - p.start for p in part.slices) <= 1000
    part.within(theta, np.inf)
    np.testing.assert_allclose(part.estimate, whole.estimate, rtol=0.1)


class _Recorder:
    """A decrement test that records when it is taken."""

    def __init__(self, verdict):
        self.verdict, self.calls = verdict, 0

    def due(self):
        return True

    def within(self, theta, tol):
        self.calls += 1
        return self.verdict


def _decide(average, gradient_max, no_improvement_count, decrement):
    from types import SimpleNamespace

    from skbackprop._converging import Converging
    from skbackprop._solvers import MomentumSGD
    from skbackprop._training import Record

    driver = Converging.__new__(Converging)
    driver.state = MomentumSGD(3, np.float64, 0.1, 0.9, True)
    driver.state.auto_shrunk = 1.0
    driver.decrement, driver.model, driver.whitening = decrement, np.zeros(3), None
    driver.statistics = SimpleNamespace(
        gradient_max=gradient_max,
        average=average,
        drifting=False,
        noise_dominated=False,
        stochastic=average,
    )
    record = Record(loss_curve=[1.0, 0.9])
    record.no_improvement_count = no_improvement_count
    return driver._decide(record, n_iter_no_change=10)


@pytest.mark.parametrize("verdict", [True, False])
def test_stochastic_solvers_take_the_test_after_an_epoch_without_improvement(
    verdict,
):
    # an epoch that improved the loss by tol: no test, whatever the gradient
    decrement = _Recorder(verdict)
    assert _decide(True, 0.0, 0, decrement) == (False, None)
    assert decrement.calls == 0
    stop, message = _decide(True, 1.0, 1, decrement)
    assert decrement.calls == 1
    assert stop is verdict
    assert (message is not None and "Newton decrement" in message) is verdict


def test_gd_takes_the_test_once_its_gradient_passes_too():
    decrement = _Recorder(True)
    # a large exact gradient: not converged, and no test taken
    assert _decide(False, 1.0, 5, decrement) == (False, None)
    assert decrement.calls == 0
    stop, _ = _decide(False, 1e-6, 0, decrement)
    assert stop and decrement.calls == 1
    # the gradient passes but the decrement does not: training goes on
    assert _decide(False, 1e-6, 0, _Recorder(False)) == (False, None)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_fit_stops_on_the_decrement_near_the_optimum(solver, capsys):
    # 80 batches an epoch: the mean gradient never passes tol for noise, and
    # the stall needs ten epochs; the decrement stops the fit once the model is
    # within about tol of the optimum
    from sklearn.datasets import make_classification

    X, y = make_classification(
        16_000, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    est = SoftmaxClassifier(solver=solver, random_state=0, verbose=True).fit(X, y)
    assert "Newton decrement" in capsys.readouterr().out
    best = SoftmaxClassifier(solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
    gap = _log_loss(est, X, y) - _log_loss(best, X, y)
    assert 0 <= gap <= 3 * est.tol
    assert est.n_iter_ < 25


def test_a_sample_without_weight_falls_back_to_every_row(monkeypatch):
    objective, standardised, X, T, w, theta = _problem(
        Softmax(4), 4, True, True, n=4000
    )
    monkeypatch.setattr(NewtonDecrement, "SAMPLE", 160)
    w = np.zeros(X.shape[0])
    w[2000:2010] = 1.0  # between the sample's runs (16 of 10 rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decrement = NewtonDecrement(objective, standardised, X, T, w)
        assert sum(p.stop - p.start for p in decrement.slices) == X.shape[0]
        decrement.within(theta, np.inf)
    assert np.isfinite(decrement.estimate) and decrement.estimate > 0
