"""The curvature-whitened coordinates of the few-batch 'sgd' and 'adam' of
LogisticRegressionGD (skbackprop/_whitening.py): the change of variables, its
Hessians, where it applies, and what a fit leaves behind."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from test_defaults_converge import TARGET, _objective

from skbackprop import LogisticRegressionGD, SoftmaxClassifier
from skbackprop._engine import NumPyEngine
from skbackprop._outputs import Logistic
from skbackprop._params import Layout
from skbackprop._step_size import Standardised, standardised_step
from skbackprop._whitening import LARGEST, Whitened, WhitenedSteps, applies

ALPHA = 1e-4


def _whitened(X, n_units, fit_intercept=True, alpha=ALPHA):
    n = X.shape[0]
    w = np.full(n, 1.0 / n)
    layout = Layout([X.shape[1], n_units], fit_intercept=fit_intercept)
    standardised = Standardised.from_data(layout, X, w, np.float64, alpha)
    whitened = Whitened(
        standardised,
        X,
        w,
        standardised,
        Logistic(n_units if n_units > 1 else 2),
        alpha,
        NumPyEngine(),
        np.zeros(layout.size),
    )
    return whitened, layout, standardised


def _exact_hessians(X, theta, layout, standardised, alpha):
    """Each unit's Hessian in the standardised coordinates, sample by sample."""
    ((W, b),) = layout.views(theta)
    d, m = standardised.scale, standardised.mean
    Z = (X - m) * d
    if b is not None:
        Z = np.hstack([Z, np.ones((X.shape[0], 1))])
    P = expit(X @ W + (0 if b is None else b))
    C = P * (1 - P) / X.shape[0]
    penalty = np.diag(np.append(alpha * d**2, [0.0] * (b is not None)))
    return np.stack(
        [
            sum(C[i, j] * np.outer(Z[i], Z[i]) for i in range(X.shape[0])) + penalty
            for j in range(W.shape[1])
        ]
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_hessians_are_each_units_block_in_the_standardised_coordinates(
    fit_intercept,
):
    X, _ = load_iris(return_X_y=True)
    whitened, layout, standardised = _whitened(X, 3, fit_intercept)
    theta = np.random.default_rng(0).standard_normal(layout.size)
    expected = _exact_hessians(X, theta, layout, standardised, ALPHA)
    np.testing.assert_allclose(whitened.hessians(theta), expected, rtol=1e-10)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_hessians_equal_the_dense_ones(fmt):
    X, _ = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    theta = 0.1 * np.random.default_rng(1).standard_normal(Layout([64, 10]).size)
    dense = _whitened(X, 10)[0].hessians(theta)
    X_sparse = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
    np.testing.assert_allclose(
        _whitened(X_sparse, 10)[0].hessians(theta), dense, rtol=1e-9, atol=1e-12
    )


def test_after_a_refresh_the_hessian_at_the_model_is_the_identity():
    # u = T u', so the Hessian in u' is T^T H T: the identity, up to the floor
    X, _ = load_breast_cancer(return_X_y=True)
    whitened, layout, standardised = _whitened(X, 1)
    theta = np.zeros(layout.size)
    W, _ = layout.views(theta)[0]
    W[:, 0] = np.linalg.lstsq(X, np.sign(X[:, 0] - X[:, 0].mean()), rcond=None)[0]
    u = np.zeros(layout.size)
    assert whitened.refresh(theta, u)
    H = _exact_hessians(X, theta, layout, standardised, ALPHA)[0]
    T = whitened.T[0]
    # with the floor added to every direction, exactly
    floored = H + whitened.floor * np.eye(H.shape[0])
    np.testing.assert_allclose(T.T @ floored @ T, np.eye(H.shape[0]), atol=1e-8)
    # the floor is far below the curvature it was added to
    assert whitened.floor < 1e-6 * np.linalg.eigvalsh(H)[-1]
    # the raw problem's curvature spans many decades; whitened, none
    assert np.linalg.cond(H) > 1e4


def test_the_maps_are_the_change_of_variables_and_its_chain_rule():
    X, _ = load_iris(return_X_y=True)
    whitened, layout, standardised = _whitened(X, 3)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(layout.size)
    whitened.refresh(theta, np.zeros(layout.size))
    u = rng.standard_normal(layout.size)
    model = np.empty_like(u)
    whitened.to_theta(u, model)
    back = np.empty_like(u)
    whitened.to_u(model, back)
    np.testing.assert_allclose(back, u, rtol=1e-9, atol=1e-12)
    # theta is linear (affine) in u: the gradient in u' is J^T g, J the
    # Jacobian of u' -> theta, column by column
    g = rng.standard_normal(layout.size)
    mapped = g.copy()
    whitened.gradient_to_u(mapped)
    zero = np.empty_like(u)
    whitened.to_theta(np.zeros_like(u), zero)
    jacobian = np.empty((layout.size, layout.size))
    column = np.empty_like(u)
    for k in range(layout.size):
        e_k = np.zeros_like(u)
        e_k[k] = 1.0
        whitened.to_theta(e_k, column)
        jacobian[:, k] = column - zero
    np.testing.assert_allclose(mapped, jacobian.T @ g, rtol=1e-9, atol=1e-12)


def test_a_refresh_keeps_the_iterate_and_a_mapped_velocity():
    X, _ = load_iris(return_X_y=True)
    whitened, layout, _ = _whitened(X, 3)
    rng = np.random.default_rng(2)
    u, velocity = rng.standard_normal(layout.size), rng.standard_normal(layout.size)
    before, moved_before = np.empty_like(u), np.empty_like(u)
    whitened.to_theta(u, before)
    whitened.to_theta(u + velocity, moved_before)
    whitened.to_standardised(velocity)
    assert whitened.refresh(rng.standard_normal(layout.size), u)
    whitened.to_whitened(velocity)
    after, moved_after = np.empty_like(u), np.empty_like(u)
    whitened.to_theta(u, after)
    whitened.to_theta(u + velocity, moved_after)
    np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(moved_after, moved_before, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "est, n_samples, batch_size, expected",
    [
        (LogisticRegressionGD(solver="sgd"), 1797, 200, True),
        (LogisticRegressionGD(solver="adam"), 150, 200, True),
        (LogisticRegressionGD(solver="sgd"), 1801, 200, False),  # ten batches
        (LogisticRegressionGD(solver="adam", alpha=0.0), 150, 200, False),
        (LogisticRegressionGD(solver="sgd", momentum=1.0), 150, 200, False),
        (LogisticRegressionGD(solver="gd"), 150, 200, False),
        (SoftmaxClassifier(solver="sgd"), 150, 200, False),  # coupled units
    ],
)
def test_where_the_whitened_coordinates_apply(est, n_samples, batch_size, expected):
    from types import SimpleNamespace

    from skbackprop._outputs import Softmax

    output = Logistic(3) if isinstance(est, LogisticRegressionGD) else Softmax(3)
    objective = SimpleNamespace(layout=Layout([4, 3]), output=output)
    assert applies(est, objective, n_samples, batch_size, False) is expected
    # never in partial_fit, whose calls see other data
    assert not applies(est, objective, n_samples, batch_size, True)
    wide = SimpleNamespace(layout=Layout([LARGEST, 3]), output=output)
    assert not applies(est, wide, n_samples, batch_size, False)


def test_fit_leaves_the_state_in_the_standardised_coordinates(monkeypatch):
    # partial_fit after fit goes on in the standardised coordinates, from the
    # global step, with the velocity mapped back
    X, y = load_iris(return_X_y=True)
    made = []
    original = WhitenedSteps.__init__

    def init(self, *args):
        original(self, *args)
        made.append(self)

    monkeypatch.setattr(WhitenedSteps, "__init__", init)
    est = LogisticRegressionGD(solver="sgd", random_state=0).fit(X, y)
    assert len(made) == 1
    state = est._optimizer
    layout = Layout([4, 3])
    n = X.shape[0]
    standardised = Standardised(layout, state.auto_mean, state.auto_scale)
    global_step = standardised_step(
        "sgd", X, np.full(n, 1.0 / n), 0.25, ALPHA, 200, standardised
    )
    assert state.learning_rate == pytest.approx(global_step, rel=1e-12)
    # the last velocity, in the whitened coordinates, mapped to the
    # standardised ones: it moves the model as it did
    assert np.any(state._velocity != 0)
    est.partial_fit(X * 3.0 + 1.0, y)
    assert np.all(np.isfinite(est.coef_))


def test_fit_leaves_adam_to_start_afresh():
    # Adam's moments of the whitened coordinates have no image in the
    # standardised ones: a partial_fit after fit starts them anew, from
    # Adam's 'auto' step
    from skbackprop._step_size import ADAM_STEP

    X, y = load_iris(return_X_y=True)
    est = LogisticRegressionGD(solver="adam", random_state=0).fit(X, y)
    state = est._optimizer
    assert state.t == 0
    assert not np.any(state._m) and not np.any(state._v)
    assert state.learning_rate_init == ADAM_STEP
    before = est.predict_proba(X)
    est.partial_fit(X, y)
    # one more epoch from near the optimum, at a step of a tenth of a
    # standardised weight: the model moves, but little
    after = est.predict_proba(X)
    assert 0 < np.abs(after - before).max() < 0.2


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("loader", [load_digits, load_breast_cancer])
def test_nearly_separable_raw_data_reaches_the_optimum_and_stops(solver, loader):
    # raw digits and breast_cancer, one-vs-rest at alpha=1e-4: a Hessian
    # condition number of 1e5 to 3e9 in the standardised coordinates; these
    # fits ran to max_iter 1.0e-3 to 1.3e-2 above the optimum. In the
    # whitened coordinates they stop on the decrement test
    X, y = loader(return_X_y=True)
    best = LogisticRegressionGD(solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegressionGD(solver=solver, random_state=0).fit(X, y)
    assert est.n_iter_ < 500
    assert _objective(est, X, y) - _objective(best, X, y) <= TARGET


def test_a_row_sample_without_weight_gives_way_to_every_row():
    # on more than 4096 rows the Hessians are taken on a sample of them; if
    # the sample holds no weight, on every row (as the decrement test does)
    from skbackprop._decrement import NewtonDecrement

    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 3))
    w = np.zeros(5000)
    sampled = np.zeros(5000, dtype=bool)
    for part in NewtonDecrement._sample(5000, 512):
        sampled[part] = True
    w[~sampled] = 1.0 / np.count_nonzero(~sampled)
    layout = Layout([3, 1], fit_intercept=True)
    standardised = Standardised.from_data(layout, X, w, np.float64, ALPHA)
    whitened = Whitened(
        standardised,
        X,
        w,
        standardised,
        Logistic(2),
        ALPHA,
        NumPyEngine(),
        np.zeros(layout.size),
    )
    theta = rng.standard_normal(layout.size)
    H = whitened.hessians(theta)[0]
    kept = X[~sampled]
    expected = _exact_hessians(kept, theta, layout, standardised, ALPHA)[0]
    # _exact_hessians weighs the kept rows equally, as w does
    np.testing.assert_allclose(H, expected, rtol=1e-9)
