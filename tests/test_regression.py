"""LinearRegressionGD and the regression formulas: agreement with Ridge, Ridge's
shapes, and the behaviours of the contract.

Tolerances: ``'lbfgs'`` and ``'gd'`` run with a tight ``tol`` until the
optimum, where the coefficients agree with Ridge's closed form within 1e-6
relative; ``'sgd'`` and ``'adam'`` keep a noise floor of constant-size steps
and are only checked to get close.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from skbackprop import LinearRegressionGD, check_gradients, gradients
from skbackprop._engine import NumPyEngine, ReferenceEngine
from skbackprop.gradients import poisson_loss, squared_loss

TIGHT = {"tol": 1e-12, "max_iter": 20000}


def _data(n_targets=0, n_samples=120, n_features=6, seed=0):
    """Standardised-scale features and targets with noise; 1-D y for 0 targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    coef = rng.normal(size=(n_features, max(n_targets, 1)))
    Y = X @ coef + 0.5 + 0.3 * rng.normal(size=(n_samples, max(n_targets, 1)))
    return X, (Y[:, 0] if n_targets == 0 else Y)


# the formulas -------------------------------------------------------------------
def test_squared_error_is_half_the_weighted_mean_squared_residual():
    rng = np.random.default_rng(1)
    Yhat, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    w = rng.uniform(0.1, 2.0, size=7)
    loss, dYhat = gradients.squared_error(Yhat, Y, sample_weight=w)
    # written from the definition: sum over targets, weighted mean over samples
    expected = sum(w[i] * np.sum((Yhat[i] - Y[i]) ** 2) for i in range(7))
    assert loss == pytest.approx(expected / (2 * w.sum()), rel=1e-12)
    assert_allclose(dYhat, w[:, None] * (Yhat - Y) / w.sum(), rtol=1e-12)
    loss_unweighted, d = gradients.squared_error(Yhat, Y)
    assert loss_unweighted == pytest.approx(np.sum((Yhat - Y) ** 2) / 14, rel=1e-12)
    assert_allclose(d, (Yhat - Y) / 7, rtol=1e-12)


def test_poisson_deviance_is_half_the_deviance_and_zero_at_the_optimum():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(6, 2))
    Y = rng.poisson(2.0, size=(6, 2)).astype(float)
    w = rng.uniform(0.1, 2.0, size=6)
    loss, dZ = gradients.poisson_deviance(Z, Y, sample_weight=w)
    mu = np.exp(Z)
    # half deviance y log(y / mu) - y + mu, 0 log 0 = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(Y > 0, Y * np.log(Y / mu), 0.0) - Y + mu
    assert loss == pytest.approx(per_unit.sum(axis=1) @ w / w.sum(), rel=1e-12)
    assert_allclose(dZ, w[:, None] * (mu - Y) / w.sum(), rtol=1e-12)
    at_optimum, d = gradients.poisson_deviance(np.log(Y + 1.0), Y + 1.0)
    assert at_optimum == pytest.approx(0.0, abs=1e-14)
    assert_allclose(d, 0.0, atol=1e-15)


@pytest.mark.parametrize(
    "formula", [gradients.squared_error, gradients.poisson_deviance]
)
def test_regression_gradients_match_finite_differences(formula):
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(5, 2))
    Y = rng.uniform(0.0, 3.0, size=(5, 2))
    w = rng.uniform(0.5, 1.5, size=5)
    _, grad = formula(Z, Y, sample_weight=w)
    eps = 1e-6
    numeric = np.empty_like(Z)
    for index in np.ndindex(Z.shape):
        step = np.zeros_like(Z)
        step[index] = eps
        numeric[index] = (
            formula(Z + step, Y, sample_weight=w)[0]
            - formula(Z - step, Y, sample_weight=w)[0]
        ) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("loss", [squared_loss, poisson_loss])
@pytest.mark.parametrize("weighted", [False, True])
def test_both_engines_give_the_same_regression_loss(loss, weighted):
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(9, 3))
    Y = rng.poisson(1.5, size=(9, 3)).astype(float)
    w = rng.uniform(0.1, 1.0, size=9) if weighted else None
    loss_ref, grad_ref = loss(Z.copy(), Y, w, ReferenceEngine())
    loss_np, grad_np = loss(Z.copy(), Y, w, NumPyEngine(), out=np.empty_like(Z))
    assert loss_np == pytest.approx(loss_ref, rel=1e-13)
    assert_allclose(grad_np, grad_ref, rtol=1e-13)


def test_regression_formulas_keep_float32():
    Z = np.zeros((3, 2), dtype=np.float32)
    Y = np.ones((3, 2))
    for formula in (gradients.squared_error, gradients.poisson_deviance):
        loss, grad = formula(Z, Y)
        assert grad.dtype == np.float32
        assert np.isfinite(loss)


# Ridge's optimum ----------------------------------------------------------------
@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
@pytest.mark.parametrize("n_targets", [0, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_reaches_ridges_optimum(solver, n_targets, fit_intercept):
    X, y = _data(n_targets)
    alpha = 0.05
    ours = LinearRegressionGD(
        alpha=alpha, solver=solver, fit_intercept=fit_intercept, **TIGHT
    ).fit(X, y)
    ridge = Ridge(alpha=alpha * X.shape[0], fit_intercept=fit_intercept).fit(X, y)
    assert_allclose(ours.coef_, ridge.coef_, rtol=1e-6)
    assert_allclose(ours.intercept_, ridge.intercept_, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_sample_weights_map_to_ridge_alpha_times_their_sum(solver):
    X, y = _data(2)
    sw = np.random.default_rng(5).uniform(0.2, 3.0, size=X.shape[0])
    alpha = 0.02
    ours = LinearRegressionGD(alpha=alpha, solver=solver, **TIGHT).fit(
        X, y, sample_weight=sw
    )
    ridge = Ridge(alpha=alpha * sw.sum()).fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ridge.coef_, rtol=1e-6)
    assert_allclose(ours.intercept_, ridge.intercept_, rtol=1e-6)
    # and alpha * n_samples would be another optimum: the mapping is Σw
    other = Ridge(alpha=alpha * X.shape[0]).fit(X, y, sample_weight=sw)
    assert not np.allclose(ours.coef_, other.coef_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_get_close_to_ridges_objective(solver):
    X, y = _data(0)
    alpha = 1e-2

    def objective(coef, intercept):  # from the definition
        residual = X @ coef + intercept - y
        return 0.5 * np.mean(residual**2) + 0.5 * alpha * coef @ coef

    ridge = Ridge(alpha=alpha * X.shape[0]).fit(X, y)
    # 'adaptive' shrinks sgd's constant step once the loss stalls: the noise
    # floor of a constant step with momentum is far above 1e-3 here
    ours = LinearRegressionGD(
        alpha=alpha,
        solver=solver,
        batch_size=20,
        learning_rate="adaptive",
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    best = objective(ridge.coef_, ridge.intercept_)
    assert objective(ours.coef_, ours.intercept_) == pytest.approx(best, rel=1e-3)


@pytest.mark.parametrize("n_targets", [0, 1, 3], ids=["1-D y", "y (n, 1)", "y (n, 3)"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_shapes_are_ridges(n_targets, fit_intercept):
    X, y = _data(n_targets)
    if n_targets == 1:
        y = y[:, :1]
    ours = LinearRegressionGD(fit_intercept=fit_intercept, solver="lbfgs").fit(X, y)
    ridge = Ridge(fit_intercept=fit_intercept).fit(X, y)
    assert ours.coef_.shape == ridge.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ridge.intercept_)
    assert type(ours.intercept_) is type(ridge.intercept_)
    assert ours.predict(X).shape == ridge.predict(X).shape


def test_sparse_input_gives_the_dense_result():
    X, y = _data(2)
    X[np.abs(X) < 0.8] = 0.0
    dense = LinearRegressionGD(solver="lbfgs", **TIGHT).fit(X, y)
    for fmt in ("csr", "csc"):
        ours = LinearRegressionGD(solver="lbfgs", **TIGHT).fit(
            sparse.csr_matrix(X).asformat(fmt), y
        )
        assert_allclose(ours.coef_, dense.coef_, rtol=1e-7)
        assert_allclose(
            ours.predict(sparse.csr_matrix(X)), dense.predict(X), rtol=1e-7, atol=1e-9
        )


@pytest.mark.parametrize("solver", ["lbfgs", "gd", "sgd", "adam"])
def test_float32_trains_and_predicts_in_float32(solver):
    X, y = _data(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = LinearRegressionGD(solver=solver, max_iter=50, random_state=0).fit(
            X.astype(np.float32), y
        )
    assert ours.coef_.dtype == np.float32
    assert ours.predict(X.astype(np.float32)).dtype == np.float32


def test_auto_step_converges_without_tuning_on_large_features():
    # features of scale 1e3: a fixed step of 1e-2 diverges, 'auto' adapts
    # (without intercept: a column of ones beside them would make the problem
    # ill-conditioned, which no step size cures)
    X, y = _data(0)
    X = X * 1e3
    ours = LinearRegressionGD(alpha=1e-3, fit_intercept=False, **TIGHT).fit(X, y)
    ridge = Ridge(alpha=1e-3 * X.shape[0], fit_intercept=False).fit(X, y)
    assert_allclose(ours.coef_, ridge.coef_, rtol=1e-6)
    with pytest.raises(ValueError, match="learning_rate_init"):
        LinearRegressionGD(learning_rate_init=1e-2, max_iter=50).fit(X, y)


def test_partial_fit_runs_one_epoch_and_is_absent_for_lbfgs():
    X, y = _data(0)
    assert not hasattr(LinearRegressionGD(solver="lbfgs"), "partial_fit")
    ours = LinearRegressionGD(solver="sgd", random_state=0)
    for _ in range(3):
        ours.partial_fit(X, y)
    assert ours.n_iter_ == 1
    assert len(ours.loss_curve_) == 3
    assert ours.loss_curve_[-1] < ours.loss_curve_[0]
    with pytest.raises(ValueError, match="shape"):
        ours.partial_fit(X, np.c_[y, y])


def test_warm_start_continues_from_the_fitted_coefficients():
    X, y = _data(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold = LinearRegressionGD(solver="gd", max_iter=3).fit(X, y)
        warm = LinearRegressionGD(solver="gd", max_iter=3, warm_start=True).fit(X, y)
        warm.fit(X, y)
    # the curve goes on (as MLPClassifier's), from where the first fit ended;
    # the second fit may stop before max_iter on the gradient test
    assert len(warm.loss_curve_) == 3 + warm.n_iter_
    assert 1 <= warm.n_iter_ <= 3
    assert warm.loss_curve_[:3] == cold.loss_curve_
    assert warm.loss_curve_[3] < cold.loss_curve_[2]
    assert warm.loss_ < cold.loss_


def test_early_stopping_scores_r2_on_held_out_data():
    X, y = _data(0, n_samples=300)
    ours = LinearRegressionGD(
        solver="sgd", early_stopping=True, max_iter=100, random_state=0
    ).fit(X, y)
    assert ours.best_loss_ is None
    assert ours.best_validation_score_ == max(ours.validation_scores_)
    # R² of the kept model on its held-out tenth: close to its score on all data
    assert 0.9 < ours.best_validation_score_ <= 1.0
    assert ours.best_validation_score_ == pytest.approx(ours.score(X, y), abs=0.05)


def test_loss_curve_is_the_objective():
    X, y = _data(2)
    alpha = 0.1
    ours = LinearRegressionGD(alpha=alpha, solver="lbfgs", **TIGHT).fit(X, y)
    residual = ours.predict(X) - y
    objective = 0.5 * np.sum(residual**2) / X.shape[0] + 0.5 * alpha * np.sum(
        ours.coef_**2
    )
    assert ours.loss_ == pytest.approx(objective, rel=1e-9)
    assert ours.loss_curve_[-1] == ours.loss_
    assert ours.score(X, y) == pytest.approx(r2_score(y, ours.predict(X)))


def test_divergence_raises_naming_the_step_size():
    X, y = _data(0)
    ours = LinearRegressionGD(solver="sgd", learning_rate_init=10.0, max_iter=20)
    with pytest.raises(ValueError, match="learning_rate_init"):
        ours.fit(X, y)
    assert not hasattr(ours, "coef_")


def test_check_gradients_accepts_the_linear_regressor():
    X, y = _data(2, n_samples=30, n_features=4)
    sw = np.random.default_rng(6).uniform(0.5, 2.0, size=30)
    report = check_gradients(
        LinearRegressionGD(alpha=0.1), X, y, sample_weight=sw, random_state=0
    )
    assert report.max_rel_error < 1e-6
    assert set(report.details) == {"coef_", "intercept_"}
