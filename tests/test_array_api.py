"""The Array API engine: every estimator and solver on array-api-strict (and on
PyTorch / CuPy where installed) against the NumPy path.

scikit-learn's own ``check_array_api_input`` and namespace checks run in
``test_common.py`` (the ``array_api_support`` tag is True); these tests compare
values, and cover partial_fit, warm_start, early stopping and weights.
"""

import doctest
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from numpy.testing import assert_allclose
from scipy._lib import _array_api as _scipy_array_api
from sklearn import clone, config_context
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._array_api import get_namespace_and_device, move_to

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)
from skbackprop._engine import ReferenceEngine
from skbackprop._engine.array_api import ArrayAPIEngine
from skbackprop._network import Objective
from skbackprop._outputs import Logistic, Softmax
from skbackprop._params import Layout

xps = pytest.importorskip("array_api_strict")

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("SCIPY_ARRAY_API") != "1"
        or _scipy_array_api.SCIPY_ARRAY_API != "1",
        reason="scikit-learn's array API dispatch needs SCIPY_ARRAY_API=1 set "
        "before scipy is imported (the root conftest.py sets it)",
    ),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]
# a non-default device: every array the engine makes must follow X there
DEVICE = xps.Device("device1")


def _estimators():
    for solver in SOLVERS:
        yield SoftmaxClassifier(solver=solver, max_iter=15, random_state=0)
        yield LogisticRegressionGD(solver=solver, max_iter=15, random_state=0)
        yield MLPBackprop(
            hidden_layer_sizes=(7, 5),
            activation="tanh" if solver == "sgd" else "relu",
            solver=solver,
            max_iter=15,
            learning_rate_init=0.01,
            random_state=0,
        )


def _id(est):
    return f"{type(est).__name__}-{est.solver}"


ESTIMATORS = list(_estimators())


def _data(n_classes=3, dtype=np.float64, n_samples=90):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=0,
    )
    return X.astype(dtype), y


def _strict(a):
    return xps.asarray(a, device=DEVICE)


def _numpy(a):
    return move_to(a, xp=np, device="cpu")


def _layers(est):
    if hasattr(est, "coef_"):
        return [est.coef_, est.intercept_]
    return [*est.coefs_, *est.intercepts_]


def _assert_on_device(a, xp=xps, device=DEVICE):
    with config_context(array_api_dispatch=True):
        a_xp, _, a_device = get_namespace_and_device(a)
    assert a_xp.__name__ == xp.__name__
    assert a_device == device


def _fit_both(est, X, y, **fit_params):
    """The estimator fitted on NumPy and, under dispatch, on array-api-strict."""
    reference = clone(est).fit(X, y, **fit_params)
    device_params = {
        k: _strict(v) if isinstance(v, np.ndarray) else v for k, v in fit_params.items()
    }
    with config_context(array_api_dispatch=True):
        fitted = clone(est).fit(_strict(X), _strict(y), **device_params)
    return reference, fitted


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_fit_and_predict_match_numpy(est, dtype):
    X, y = _data(dtype=dtype)
    reference, fitted = _fit_both(est, X, y)
    # float32: rounding differs by summation order, and Adam's m / sqrt(v)
    # magnifies it where a gradient is near zero (the linear models' 'auto'
    # Adam steps 0.1 of a standardised weight, grown up to 1 while the loss
    # falls: up to a few hundredths, summed over the features in a score)
    rtol, atol = (1e-6, 1e-9) if dtype == np.float64 else (1e-2, 2e-3)
    if dtype == np.float32 and est.solver == "adam":
        atol = 3e-2
    assert fitted.n_iter_ == reference.n_iter_
    assert_allclose(fitted.loss_curve_, reference.loss_curve_, rtol=rtol)
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got)
        assert _numpy(got).dtype == dtype
        assert_allclose(_numpy(got), expected, rtol=rtol, atol=atol)
    assert isinstance(fitted.classes_, np.ndarray)
    X_device = _strict(X)
    with config_context(array_api_dispatch=True):
        outputs = {
            "predict": fitted.predict(X_device),
            "predict_proba": fitted.predict_proba(X_device),
            "predict_log_proba": fitted.predict_log_proba(X_device),
        }
        if hasattr(fitted, "decision_function"):
            outputs["decision_function"] = fitted.decision_function(X_device)
        score = fitted.score(X_device, _strict(y))
    for method, got in outputs.items():
        _assert_on_device(got)
        expected = getattr(reference, method)(X)
        assert _numpy(got).dtype == expected.dtype, method
        if method == "predict":
            assert_allclose(_numpy(got), expected)
        else:
            assert_allclose(_numpy(got), expected, rtol=rtol, atol=atol, err_msg=method)
    assert isinstance(score, float)
    assert score == pytest.approx(reference.score(X, y))


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD, MLPBackprop])
def test_binary_with_sample_and_class_weights(cls):
    X, y = _data(n_classes=2)
    w = np.random.default_rng(0).uniform(0.1, 2.0, y.size)
    est = cls(solver="adam", max_iter=10, random_state=0, class_weight={0: 2.0, 1: 1.0})
    reference, fitted = _fit_both(est, X, y, sample_weight=w)
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got)
        assert_allclose(_numpy(got), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD, MLPBackprop])
def test_early_stopping_matches_numpy(cls, solver, n_classes):
    X, y = _data(n_classes=n_classes, n_samples=150)
    est = cls(solver=solver, early_stopping=True, max_iter=30, random_state=0)
    reference, fitted = _fit_both(est, X, y)
    assert fitted.validation_scores_ == reference.validation_scores_
    assert fitted.best_validation_score_ == reference.best_validation_score_
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got)
        assert_allclose(_numpy(got), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD, MLPBackprop])
def test_partial_fit_matches_numpy(cls, solver):
    X, y = _data()
    halves = [slice(0, 45), slice(45, 90)]
    reference = cls(solver=solver, random_state=0)
    fitted = cls(solver=solver, random_state=0)
    for _ in range(2):
        for half in halves:
            reference.partial_fit(X[half], y[half], classes=np.unique(y))
            with config_context(array_api_dispatch=True):
                fitted.partial_fit(
                    _strict(X[half]), _strict(y[half]), classes=np.unique(y)
                )
    assert fitted.t_ == reference.t_
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got)
        assert_allclose(_numpy(got), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_warm_start_matches_numpy(est):
    X, y = _data()
    est = clone(est).set_params(warm_start=True, max_iter=5)
    reference, fitted = clone(est), clone(est)
    for _ in range(2):
        reference.fit(X, y)
        with config_context(array_api_dispatch=True):
            fitted.fit(_strict(X), _strict(y))
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got)
        assert_allclose(_numpy(got), expected, rtol=1e-6, atol=1e-9)


def test_multilabel_targets_on_device():
    X, _ = _data()
    Y = (X[:, :3] > 0).astype(np.int64)
    est = LogisticRegressionGD(solver="adam", max_iter=10, random_state=0)
    reference, fitted = _fit_both(est, X, Y)
    with config_context(array_api_dispatch=True):
        predicted = fitted.predict(_strict(X))
    _assert_on_device(predicted)
    assert_allclose(_numpy(predicted), reference.predict(X))


def test_string_labels_predict_numpy_labels():
    X, y = _data()
    labels = np.array(["a", "b", "c"])[y]
    est = SoftmaxClassifier(max_iter=10)
    reference = clone(est).fit(X, labels)
    with config_context(array_api_dispatch=True):
        fitted = clone(est).fit(_strict(X), labels)
        predicted = fitted.predict(_strict(X))
    # an Array API namespace holds no strings: the labels stay NumPy
    assert isinstance(predicted, np.ndarray)
    assert (predicted == reference.predict(X)).all()


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_predicting_in_another_namespace_raises(method):
    X, y = _data()
    with config_context(array_api_dispatch=True):
        fitted = SoftmaxClassifier(max_iter=5).fit(_strict(X), _strict(y))
        with pytest.raises(ValueError, match=f"SoftmaxClassifier.{method}"):
            getattr(fitted, method)(X)
        numpy_fitted = SoftmaxClassifier(max_iter=5).fit(X, y)
        with pytest.raises(ValueError, match="must use the same namespace"):
            getattr(numpy_fitted, method)(_strict(X))


def test_without_dispatch_input_is_converted_to_numpy():
    X, y = _data()
    # on the CPU device, which NumPy can read (as any scikit-learn estimator does)
    X_strict, y_strict = xps.asarray(X), xps.asarray(y)
    fitted = SoftmaxClassifier(max_iter=5).fit(X_strict, y_strict)
    assert isinstance(fitted.coef_, np.ndarray)
    assert isinstance(fitted.predict_proba(X_strict), np.ndarray)
    assert np.array_equal(fitted.coef_, SoftmaxClassifier(max_iter=5).fit(X, y).coef_)


def test_sparse_and_numpy_input_keep_the_numpy_engine():
    X, y = _data()
    with config_context(array_api_dispatch=True):
        sparse_fit = SoftmaxClassifier(max_iter=5).fit(scipy.sparse.csr_matrix(X), y)
        dense_fit = SoftmaxClassifier(max_iter=5).fit(X, y)
    plain = SoftmaxClassifier(max_iter=5).fit(X, y)
    for fitted in (sparse_fit, dense_fit):
        assert isinstance(fitted.coef_, np.ndarray)
    # NumPy input under dispatch is the same computation, bit for bit
    assert np.array_equal(dense_fit.coef_, plain.coef_)


def test_engine_gradient_equals_reference():
    """The math on the Array API engine gives the reference engine's loss and
    gradient, for each output unit and activation."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4))
    y = rng.integers(0, 3, 20)
    w = rng.uniform(0.5, 2.0, 20)
    engine = ArrayAPIEngine(xps, DEVICE)
    for output, T in [(Softmax(3), y), (Logistic(3), np.eye(3)[y])]:
        for activation in ("identity", "logistic", "tanh", "relu"):
            layout = Layout([4, 5, 3])
            theta = rng.normal(size=layout.size)
            reference = Objective(
                layout, activation, output, 0.1, True, ReferenceEngine()
            )
            grad = np.empty_like(theta)
            loss = reference(theta, X, T, w, grad)
            objective = Objective(layout, activation, output, 0.1, True, engine)
            grad_device = engine.from_host(np.empty_like(theta))
            loss_device = objective(
                engine.from_host(theta),
                engine.from_host(X),
                engine.from_host(T),
                engine.from_host(w),
                grad_device,
            )
            assert float(loss_device) == pytest.approx(loss, rel=1e-12)
            assert_allclose(_numpy(grad_device), grad, rtol=1e-10, atol=1e-14)


def test_engine_is_stable_at_extreme_scores():
    engine = ArrayAPIEngine(xps, DEVICE)
    z = _strict(np.array([-1e300, -800.0, 0.0, 800.0, 1e300]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = _numpy(engine.sigmoid(z))
        softplus = _numpy(engine.softplus(z))
    assert_allclose(p, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert_allclose(softplus, [0.0, 0.0, np.log(2), 800.0, 1e300])


# other libraries, where installed ---------------------------------------------


def _library_devices():
    if importlib.util.find_spec("torch") is None:
        reason = "torch not installed"
        yield pytest.param(
            None, None, id="torch", marks=pytest.mark.skip(reason=reason)
        )
    else:
        yield pytest.param("torch", "cpu", id="torch-cpu")
        yield pytest.param("torch", "cuda", id="torch-cuda")
    if importlib.util.find_spec("cupy") is None:
        reason = "cupy not installed"
        yield pytest.param(None, None, id="cupy", marks=pytest.mark.skip(reason=reason))
    else:
        yield pytest.param("cupy", "cuda", id="cupy")


def _library_array(library, device_name):
    """A function NumPy array -> array of ``library`` on ``device_name``; skips
    where the device is missing (a CUDA build of torch may have no GPU)."""
    if library == "torch":
        import torch

        if device_name == "cuda" and not torch.cuda.is_available():
            pytest.skip("torch has no CUDA device here")
        return lambda a: torch.asarray(a, device=device_name)
    import cupy

    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # cupy raises its own CUDA errors
        pytest.skip(f"cupy has no CUDA device here: {error}")
    return cupy.asarray


@pytest.mark.parametrize("library, device_name", list(_library_devices()))
@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_other_libraries_match_numpy(library, device_name, est):
    to_library = _library_array(library, device_name)
    X, y = _data(dtype=np.float32)
    reference = clone(est).fit(X, y)
    X_device = to_library(X)
    with config_context(array_api_dispatch=True):
        xp, _, device = get_namespace_and_device(X_device)
        fitted = clone(est).fit(X_device, to_library(y))
        P = fitted.predict_proba(X_device)
        labels = fitted.predict(X_device)
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got, xp, device)
        assert_allclose(_numpy(got), expected, rtol=1e-2, atol=2e-3)
    _assert_on_device(P, xp, device)
    assert_allclose(_numpy(P), reference.predict_proba(X), rtol=1e-2, atol=2e-3)
    _assert_on_device(labels, xp, device)
    assert (_numpy(labels) == reference.predict(X)).mean() > 0.95


def test_convergence_warning_class_is_scikit_learns():
    # the engine changes nothing in how training reports: same warning class
    X, y = _data()
    with config_context(array_api_dispatch=True):
        with pytest.warns(ConvergenceWarning):
            MLPBackprop(hidden_layer_sizes=(3,), max_iter=2).fit(_strict(X), _strict(y))


# the guide's example and the GPU benchmark, on array-api-strict ------------------

ROOT = Path(__file__).parents[1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning:array_api_strict")
def test_guide_example_runs():
    page = ROOT / "docs" / "guide" / "gpu.rst"
    if not page.exists():
        pytest.skip("the docs are not in this checkout")
    # StandardScaler's first partial variance divides 0 by 0 on array-api-strict
    result = doctest.testfile(str(page), module_relative=False, verbose=False)
    assert result.attempted > 5
    assert result.failed == 0


def test_gpu_benchmark_smoke_run(tmp_path):
    output = tmp_path / "gpu.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu.py"),
            "--smoke",
            "--namespace",
            "array_api_strict",
            "--workload",
            "mlp",
            "lbfgs",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SCIPY_ARRAY_API": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "ratios and targets" in done.stdout
    report = json.loads(output.read_text())
    epochs = report["mlp"]["seconds_per_epoch"]
    assert set(epochs) == {"MLPBackprop device", "MLPBackprop CPU", "MLPClassifier CPU"}
    assert all(median > 0 for median, _ in epochs.values())
    assert report["lbfgs"]["iterations"]["ours"] >= 1
    # both fits reach the same optimum (the same objective, C = 1 / (alpha n))
    objective = report["lbfgs"]["objective"]
    assert objective["ours"] == pytest.approx(objective["peer"], rel=1e-3)
    ratio = report["ratios"]["lbfgs: LogisticRegression CPU fit / device fit"]
    fits = report["lbfgs"]["seconds_per_fit"]
    assert ratio == pytest.approx(
        fits["LogisticRegression lbfgs CPU"][0]
        / fits["SoftmaxClassifier lbfgs device"][0]
    )


class _EpochModels:
    """A callback keeping the model of every epoch (scikit-learn >= 1.9)."""

    max_propagation_depth = None

    def __init__(self):
        self.models = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, **kwargs):
        if context.task_name == "epoch" and fitted_estimator is not None:
            self.models.append(fitted_estimator)
        return False


@pytest.mark.parametrize("cls", [SoftmaxClassifier, MLPBackprop])
def test_callbacks_see_models_on_the_device(cls):
    pytest.importorskip("sklearn.callback")
    X, y = _data()
    recorder = _EpochModels()
    est = cls(solver="adam", max_iter=3, random_state=0).set_callbacks(recorder)
    with config_context(array_api_dispatch=True):
        fitted = est.fit(_strict(X), _strict(y))
        assert len(recorder.models) == 3
        last = recorder.models[-1]
        for got, expected in zip(_layers(last), _layers(fitted), strict=True):
            _assert_on_device(got)
            assert_allclose(_numpy(got), _numpy(expected))
        _assert_on_device(last.predict_proba(_strict(X)))


def test_column_rms_on_the_device_equals_the_host():
    from skbackprop._step_size import column_rms

    X = _data()[0] * np.array([1e-3, 1.0, 10.0, 1e3, 1e5, 0.0])
    engine = ArrayAPIEngine(xps, DEVICE)
    got = engine.column_rms(engine.from_host(X), chunk_rows=7)
    assert got.dtype == np.float64
    assert_allclose(got, column_rms(X), rtol=1e-12)


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
def test_lbfgs_on_scaled_variables_matches_numpy(cls):
    # features of very different sizes: L-BFGS runs on scaled variables
    X, y = _data()
    X = X * np.array([1.0, 1e3, 1e-2, 50.0, 1.0, 1e4])
    reference, fitted = _fit_both(cls(solver="lbfgs", max_iter=50), X, y)
    assert fitted.n_iter_ == reference.n_iter_
    assert_allclose(_numpy(fitted.coef_), reference.coef_, rtol=1e-6, atol=1e-12)
    assert_allclose(fitted.loss_curve_, reference.loss_curve_, rtol=1e-9)


def test_device_model_pickles_and_continues():
    import pickle

    X, y = _data()
    with config_context(array_api_dispatch=True):
        fitted = MLPBackprop(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
        fitted.partial_fit(_strict(X), _strict(y), classes=np.unique(y))
        loaded = pickle.loads(pickle.dumps(fitted))
        _assert_on_device(loaded.coefs_[0])
        for model in (fitted, loaded):
            model.partial_fit(_strict(X), _strict(y))
        assert_allclose(_numpy(loaded.coefs_[0]), _numpy(fitted.coefs_[0]))
        assert_allclose(
            _numpy(loaded.predict_proba(_strict(X))),
            _numpy(fitted.predict_proba(_strict(X))),
        )


def test_mixed_namespaces_follow_x():
    # y and sample_weight of another namespace or device move to X's
    X, y = _data()
    w = np.linspace(0.5, 1.5, y.size)
    reference = SoftmaxClassifier(max_iter=10).fit(X, y, sample_weight=w)
    with config_context(array_api_dispatch=True):
        on_device = SoftmaxClassifier(max_iter=10).fit(
            _strict(X), y, sample_weight=xps.asarray(w)
        )
        on_numpy = SoftmaxClassifier(max_iter=10).fit(
            X, _strict(y), sample_weight=_strict(w)
        )
    _assert_on_device(on_device.coef_)
    assert isinstance(on_numpy.coef_, np.ndarray)
    for fitted in (on_device, on_numpy):
        assert_allclose(_numpy(fitted.coef_), reference.coef_, rtol=1e-6, atol=1e-12)


def test_check_gradients_of_a_device_model():
    from skbackprop import check_gradients

    X, y = _data()
    with config_context(array_api_dispatch=True):
        fitted = MLPBackprop(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
        fitted.fit(_strict(X), _strict(y))
        report = check_gradients(fitted, _strict(X[:20]), _strict(y[:20]))
    assert report.passed
    assert report.max_rel_error < 1e-6


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_across_namespaces(solver):
    # a model trained on one side goes on training on the other
    X, y = _data()
    reference = MLPBackprop(hidden_layer_sizes=(5,), solver=solver, random_state=0)
    mixed = clone(reference)
    for step in range(3):
        reference.partial_fit(X, y, classes=np.unique(y))
        if step == 1:
            with config_context(array_api_dispatch=True):
                mixed.partial_fit(_strict(X), _strict(y), classes=np.unique(y))
        else:
            mixed.partial_fit(X, y, classes=np.unique(y))
    assert isinstance(mixed.coefs_[0], np.ndarray)
    assert_allclose(mixed.coefs_[0], reference.coefs_[0], rtol=1e-6, atol=1e-12)


# --- the regressors ----------------------------------------------------------------


def _regressors():
    for solver in SOLVERS:
        yield LinearRegressionGD(solver=solver, max_iter=15, random_state=0)
        yield MLPBackpropRegressor(
            hidden_layer_sizes=(7, 5),
            activation="tanh" if solver == "sgd" else "relu",
            loss="poisson" if solver in ("gd", "adam") else "squared_error",
            solver=solver,
            max_iter=15,
            learning_rate_init=0.01,
            random_state=0,
        )


def _regressor_id(est):
    return f"{type(est).__name__}-{est.solver}-{getattr(est, 'loss', 'squared_error')}"


REGRESSORS = list(_regressors())


def _regression_data(est, dtype=np.float64, n_targets=1, n_samples=90):
    X, y = make_regression(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_targets=n_targets,
        random_state=0,
    )
    y = y / np.std(y)
    if getattr(est, "loss", None) == "poisson":
        y = np.exp(y)  # positive rates
    return X.astype(dtype), y.astype(dtype)


def _regressor_layers(est):
    """The fitted arrays and scalars (a single target's intercept: a NumPy
    float, or a 0-d array on the device, as Ridge's)."""
    return [a for a in _layers(est) if type(a) is not float]


@pytest.mark.parametrize("est", REGRESSORS, ids=_regressor_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_fit_and_predict_match_numpy(est, dtype, n_targets):
    X, y = _regression_data(est, dtype, n_targets)
    reference, fitted = _fit_both(est, X, y)
    rtol, atol = (1e-6, 1e-9) if dtype == np.float64 else (1e-2, 2e-3)
    assert fitted.n_iter_ == reference.n_iter_
    assert_allclose(fitted.loss_curve_, reference.loss_curve_, rtol=rtol)
    got_layers, expected_layers = (
        _regressor_layers(fitted),
        _regressor_layers(reference),
    )
    assert len(got_layers) == len(expected_layers)
    for got, expected in zip(got_layers, expected_layers, strict=True):
        _assert_on_device(got)
        assert _numpy(got).dtype == dtype
        assert_allclose(_numpy(got), expected, rtol=rtol, atol=atol)
    if isinstance(reference, LinearRegressionGD) and n_targets == 1:
        assert fitted.intercept_.shape == ()  # a 0-d array, as Ridge's
    X_device = _strict(X)
    with config_context(array_api_dispatch=True):
        y_pred = fitted.predict(X_device)
        score = fitted.score(X_device, _strict(y))
    _assert_on_device(y_pred)
    expected = reference.predict(X)
    assert y_pred.shape == expected.shape
    assert_allclose(_numpy(y_pred), expected, rtol=rtol, atol=atol)
    assert score == pytest.approx(reference.score(X, y), rel=rtol, abs=atol)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("cls", [LinearRegressionGD, MLPBackpropRegressor])
def test_regressor_early_stopping_and_partial_fit_match_numpy(cls, solver):
    est = cls(solver=solver, max_iter=20, random_state=0, learning_rate_init=0.01)
    X, y = _regression_data(est, n_samples=120)
    reference, fitted = _fit_both(est.set_params(early_stopping=True), X, y)
    assert fitted.n_iter_ == reference.n_iter_
    assert_allclose(fitted.validation_scores_, reference.validation_scores_, rtol=1e-6)
    est.set_params(early_stopping=False)
    reference, fitted = clone(est), clone(est)
    for _ in range(3):
        reference.partial_fit(X, y)
        with config_context(array_api_dispatch=True):
            fitted.partial_fit(_strict(X), _strict(y))
    for got, expected in zip(
        _regressor_layers(fitted), _regressor_layers(reference), strict=True
    ):
        _assert_on_device(got)
        assert_allclose(_numpy(got), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("library, device_name", list(_library_devices()))
@pytest.mark.parametrize("est", REGRESSORS, ids=_regressor_id)
def test_regressors_on_other_libraries_match_numpy(library, device_name, est):
    to_library = _library_array(library, device_name)
    X, y = _regression_data(est, np.float32, n_targets=2)
    reference = clone(est).fit(X, y)
    X_device = to_library(X)
    with config_context(array_api_dispatch=True):
        xp, _, device = get_namespace_and_device(X_device)
        fitted = clone(est).fit(X_device, to_library(y))
        y_pred = fitted.predict(X_device)
    for got, expected in zip(_layers(fitted), _layers(reference), strict=True):
        _assert_on_device(got, xp, device)
        assert_allclose(_numpy(got), expected, rtol=1e-2, atol=2e-3)
    _assert_on_device(y_pred, xp, device)
    assert_allclose(_numpy(y_pred), reference.predict(X), rtol=1e-2, atol=2e-3)
