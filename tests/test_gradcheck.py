"""check_gradients on the linear estimators, and that it catches a wrong gradient."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbackprop
import skbackprop._network
import skbackprop._outputs
from skbackprop import (
    GradientCheckReport,
    LogisticRegressionGD,
    MLPBackprop,
    SoftmaxClassifier,
    check_gradients,
)
from skbackprop.gradients import binary_cross_entropy, softmax_cross_entropy

ESTIMATORS = [SoftmaxClassifier, LogisticRegressionGD]


def _iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::5], y[::5]  # 30 samples, 3 classes


def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[::19, :8]  # 30 samples, 8 features
    return X, y[::19]


DATA = {"multiclass": _iris, "binary": _binary}


def _sparse_version(X):
    X = X.copy()
    X[np.abs(X) < 0.5] = 0.0
    return sparse.csr_matrix(X)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("problem", ["multiclass", "binary"])
@pytest.mark.parametrize("fitted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("variant", ["dense", "sparse", "weighted"])
def test_linear_gradients_match_finite_differences(
    Est, problem, fitted, fit_intercept, variant
):
    X, y = DATA[problem]()
    sample_weight = None
    if variant == "sparse":
        X = _sparse_version(X)
    elif variant == "weighted":
        sample_weight = np.random.RandomState(0).uniform(0.1, 3.0, size=X.shape[0])
    est = Est(alpha=0.05, fit_intercept=fit_intercept, solver="lbfgs", max_iter=5)
    if fitted:
        with warnings.catch_warnings():
            # few iterations, so that the check runs away from the optimum too
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y, sample_weight=sample_weight)
    report = check_gradients(est, X, y, sample_weight=sample_weight)
    assert report.max_rel_error < 1e-6
    assert report.max_abs_error < 1e-7
    expected_names = {"coef_", "intercept_"} if fit_intercept else {"coef_"}
    assert set(report.details) == expected_names
    for abs_err, rel_err in report.details.values():
        assert abs_err <= report.max_abs_error and rel_err <= report.max_rel_error


def test_gradients_at_non_trivial_point():
    # at the zero start and at the optimum the gradient has special structure;
    # a partly trained model (gd, a few steps) is a generic point
    X, y = _iris()
    est = SoftmaxClassifier(solver="gd", alpha=0.01, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert np.abs(est.coef_).max() > 1e-2
    report = check_gradients(est, X, y)
    assert report.max_rel_error < 1e-6


def _scaled_loss(unit, factor):
    """The output unit's loss, with its returned gradient off by a factor."""
    original = unit.loss

    def loss(self, S, T, sample_weight, engine, out=None):
        value, dS = original(self, S, T, sample_weight, engine, out)
        dS *= factor
        return value, dS

    return loss


@pytest.mark.parametrize(
    "Est, problem, output, loss",
    [
        (SoftmaxClassifier, "multiclass", "softmax", softmax_cross_entropy),
        (SoftmaxClassifier, "binary", "softmax", softmax_cross_entropy),
        (LogisticRegressionGD, "binary", "logistic", binary_cross_entropy),
        (LogisticRegressionGD, "multiclass", "logistic", binary_cross_entropy),
    ],
)
def test_wrong_gradient_is_detected(monkeypatch, Est, problem, output, loss):
    X, y = DATA[problem]()
    est = Est(alpha=0.05)
    assert check_gradients(est, X, y).max_rel_error < 1e-6
    unit = skbackprop._outputs.OUTPUTS[output]
    monkeypatch.setattr(unit, "loss", _scaled_loss(unit, 1.5))
    report = check_gradients(est, X, y)
    # the data part of the gradient is 1.5 times too large: relative error 1/3
    assert report.max_rel_error > 0.2
    assert report.details["coef_"][1] > 0.2
    assert not report.passed
    assert str(report).splitlines()[-1].startswith("FAILED")


def test_missing_penalty_gradient_is_detected(monkeypatch):
    # a gradient that is right for the data term but ignores the penalty
    X, y = _iris()
    est = SoftmaxClassifier(alpha=1.0, solver="lbfgs").fit(X, y)
    original = skbackprop._network.Objective.__call__

    def without_penalty_gradient(self, theta, X, T, sample_weight, grad):
        loss = original(self, theta, X, T, sample_weight, grad)
        layers = zip(self.layout.views(theta), self.layout.views(grad), strict=True)
        for (W, _), (dW, _) in layers:
            dW -= self.alpha * W
        return loss

    assert check_gradients(est, X, y).max_rel_error < 1e-6
    monkeypatch.setattr(
        skbackprop._network.Objective, "__call__", without_penalty_gradient
    )
    assert check_gradients(est, X, y).max_rel_error > 0.1


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_check_gradients_does_not_modify_the_estimator(Est):
    X, y = _iris()
    unfitted = Est(alpha=0.1, solver="sgd", random_state=0)
    params = unfitted.get_params()
    check_gradients(unfitted, X, y, random_state=3)
    assert unfitted.get_params() == params
    assert not hasattr(unfitted, "classes_")
    assert not hasattr(unfitted, "coef_")
    assert not hasattr(unfitted, "n_features_in_")

    fitted = Est(alpha=0.1, solver="lbfgs").fit(X, y)
    before = pickle.dumps(fitted)
    state = copy.deepcopy(fitted.__dict__)
    # weighted data: the check validates and weights on a copy, not on `fitted`
    check_gradients(fitted, X, y, sample_weight=np.arange(1.0, X.shape[0] + 1))
    assert set(fitted.__dict__) == set(state)
    np.testing.assert_array_equal(fitted.coef_, state["coef_"])
    np.testing.assert_array_equal(fitted.intercept_, state["intercept_"])
    assert fitted.loss_curve_ == state["loss_curve_"]
    assert pickle.dumps(fitted) == before


def test_float32_estimator_checked_in_float64():
    X, y = _iris()
    report = check_gradients(SoftmaxClassifier(alpha=0.05), X.astype(np.float32), y)
    assert report.max_rel_error < 1e-5


def test_fitted_check_with_wrong_n_features_raises():
    X, y = _iris()
    est = SoftmaxClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        check_gradients(est, X[:, :2], y)


def test_passed_is_max_rel_error_below_one_in_a_million():
    def report(rel):
        return GradientCheckReport(max_abs_error=1e-9, max_rel_error=rel)

    assert report(9.9e-7).passed is True
    assert report(1e-6).passed is False  # "below" is strict
    assert report(0.3).passed is False
    assert report(float("nan")).passed is False
    assert GradientCheckReport(0.0, 1e-4, threshold=1e-3).passed is True


def test_report_prints_a_row_per_array_and_the_verdict():
    report = GradientCheckReport(
        max_abs_error=2.5e-3,
        max_rel_error=0.25,
        details={"coefs_[0]": (1.25e-10, 3.5e-9), "intercepts_[0]": (2.5e-3, 0.25)},
    )
    lines = str(report).splitlines()
    assert lines[0].split() == "parameter array max abs error max rel error".split()
    assert lines[1].split() == ["coefs_[0]", "1.250e-10", "3.500e-09"]
    assert lines[2].split() == ["intercepts_[0]", "2.500e-03", "2.500e-01"]
    # the verdict names the threshold and the array that failed it
    assert lines[3] == "FAILED: max_rel_error 2.500e-01 >= 1e-06, in intercepts_[0]"
    assert len(lines) == 4
    # columns line up under the header
    assert len({len(line) for line in lines[:3]}) == 1


def test_report_of_a_correct_gradient_says_passed():
    X, y = _iris()
    report = check_gradients(MLPBackprop((3,), alpha=0.1), X, y, random_state=0)
    assert report.passed
    lines = str(report).splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == list(report.details)
    assert lines[-1] == f"passed: max_rel_error {report.max_rel_error:.3e} < 1e-06"


SUPPORTED = ["SoftmaxClassifier", "LogisticRegressionGD", "MLPBackprop"] + [
    name
    for name in ("LinearRegressionGD", "MLPBackpropRegressor")
    if hasattr(skbackprop, name)
]


@pytest.mark.parametrize(
    "estimator, got",
    [
        (LogisticRegression(), "a LogisticRegression"),
        (MLPClassifier(), "a MLPClassifier"),
        (make_pipeline(StandardScaler(), MLPBackprop()), "a Pipeline"),
        (MLPBackprop, "the class MLPBackprop"),
        ("MLPBackprop", "a str"),
    ],
    ids=["LogisticRegression", "MLPClassifier", "Pipeline", "class", "str"],
)
def test_foreign_estimator_is_a_type_error_naming_ours(estimator, got):
    X, y = _iris()
    with pytest.raises(TypeError) as excinfo:
        check_gradients(estimator, X, y)
    message = str(excinfo.value)
    assert got in message
    for name in SUPPORTED:
        assert name in message


def test_estimator_with_the_objective_hook_is_accepted():
    # a user's subclass (or an estimator added later) is checked like ours
    class NarrowMLP(MLPBackprop):
        pass

    X, y = _iris()
    assert check_gradients(NarrowMLP((2,)), X, y, random_state=0).passed
