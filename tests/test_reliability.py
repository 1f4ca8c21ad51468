"""Reliability: hostile input, numerical edge cases, persistence, determinism.

Every case has one tested outcome: a result equal to that of clean input, or a
ValueError whose message says what to do. See docs/guide/reliability.rst.
"""

import copy
import io
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skbackprop import (
    LogisticRegressionGD,
    MLPBackprop,
    SoftmaxClassifier,
    _linesearch,
    _network,
    _solvers,
)

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]
KINDS = ["softmax", "logistic", "mlp"]
ESTIMATORS = [(kind, solver) for kind in KINDS for solver in SOLVERS]
STOCHASTIC = [(kind, solver) for kind, solver in ESTIMATORS if solver != "lbfgs"]


def make(kind, solver, **params):
    """A small estimator; MLPs get a step size suited to standardised data."""
    params = {"max_iter": 20, "random_state": 0, **params}
    if kind == "mlp":
        params.setdefault("learning_rate_init", 0.01)
        return MLPBackprop(hidden_layer_sizes=(4,), solver=solver, **params)
    cls = SoftmaxClassifier if kind == "softmax" else LogisticRegressionGD
    return cls(solver=solver, **params)


def parameters(est):
    if isinstance(est, MLPBackprop):
        return [*est.coefs_, *est.intercepts_]
    return [est.coef_, est.intercept_]


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def assert_same_model(a, b, X):
    """Bit-identical parameters and outputs."""
    for pa, pb in zip(parameters(a), parameters(b), strict=True):
        assert pa.dtype == pb.dtype
        assert_array_equal(pa, pb)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert_array_equal(a.predict(X), b.predict(X))


def assert_sane(est, X):
    for p in parameters(est):
        assert np.isfinite(p).all()
    P = est.predict_proba(X)
    assert np.isfinite(P).all()
    assert_allclose(P.sum(axis=1), 1.0, atol=1e-12 if P.dtype == np.float64 else 1e-6)
    assert np.isin(est.predict(X), est.classes_).all()


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = np.arange(60) % 3
    X[:, 0] += y  # learnable
    return X, y


# 2. hostile and odd input ------------------------------------------------------

all_estimators = pytest.mark.parametrize("kind, solver", ESTIMATORS)


@all_estimators
def test_object_array_of_numbers_is_the_float_array(kind, solver, data):
    X, y = data
    a = quiet_fit(make(kind, solver), X, y)
    b = quiet_fit(make(kind, solver), X.astype(object), y)
    assert_same_model(a, b, X)


@pytest.mark.parametrize(
    "X_bad, message",
    [
        (np.ones((6, 2)) + 1j, "Complex data not supported"),
        (np.array([["a", "b"]] * 6, dtype=object), "could not convert string to float"),
        (np.ones((6, 2, 2)), "Found array with dim 3"),
    ],
    ids=["complex", "strings", "3-D"],
)
@all_estimators
def test_unusable_X_raises_clear_error(kind, solver, X_bad, message):
    y = np.arange(6) % 2
    est = make(kind, solver)
    with pytest.raises(ValueError, match=message):
        est.fit(X_bad, y)
    assert not hasattr(est, "classes_")  # nothing half-fitted


@all_estimators
def test_unusable_y_raises_clear_error(kind, solver, data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        make(kind, solver).fit(X, y[:-1])
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        make(kind, solver).fit(X, y_nan)
    y_na = pd.array(list(y[:-1]) + [None], dtype="Int64")
    with pytest.raises(ValueError, match="Input y contains NaN"):
        make(kind, solver).fit(X, y_na)


@pytest.mark.parametrize("kind, solver", STOCHASTIC)
def test_label_seen_once_with_early_stopping_falls_back_to_unstratified(
    kind, solver, data
):
    X, y = data
    y = y.copy()
    y[0] = 7  # a label seen once: the stratified split is impossible
    est = quiet_fit(
        make(kind, solver, early_stopping=True, validation_fraction=0.2), X, y
    )
    assert_array_equal(est.classes_, [0, 1, 2, 7])
    assert len(est.validation_scores_) == est.n_iter_ >= 1
    assert_sane(est, X)


@pytest.mark.parametrize("kind, solver", STOCHASTIC)
def test_more_classes_than_samples(kind, solver, data):
    X, _ = data
    # partial_fit: classes never seen in any sample
    est = make(kind, solver).partial_fit(X[:3], [0, 1, 2], classes=np.arange(5))
    assert est.predict_proba(X).shape == (60, 5)
    assert_sane(est, X)
    # fit: every sample its own class
    est = quiet_fit(make(kind, solver), X[:5], np.arange(5))
    assert_array_equal(est.predict(X[:5]).shape, (5,))
    assert_sane(est, X)


@all_estimators
def test_one_sample_raises_one_feature_fits(kind, solver, data):
    X, y = data
    if kind == "mlp":  # as MLPClassifier: one class fits
        assert_array_equal(quiet_fit(make(kind, solver), X[:1], y[:1]).predict(X), y[0])
    else:
        with pytest.raises(ValueError, match="at least 2 classes"):
            make(kind, solver).fit(X[:1], y[:1])
    est = quiet_fit(make(kind, solver), X[:, :1], y)
    assert est.n_features_in_ == 1
    assert_sane(est, X[:, :1])
    if solver != "lbfgs":
        est = make(kind, solver).partial_fit(X[:1], y[:1], classes=[0, 1, 2])
        assert_sane(est, X)


@pytest.mark.parametrize("kind", KINDS)
def test_constant_and_duplicated_columns(kind, data):
    X, y = data
    X_const = np.column_stack([X, np.zeros(60), np.full(60, 5.0)])
    est = quiet_fit(make(kind, "lbfgs"), X_const, y)
    assert_sane(est, X_const)
    if kind != "mlp":
        # a column of zeros never gets a gradient: its weight stays at the start, 0
        assert_array_equal(est.coef_[:, 3], 0.0)
    X_dup = np.column_stack([X, X[:, 0]])
    est = quiet_fit(make(kind, "lbfgs"), X_dup, y)
    assert_sane(est, X_dup)
    if kind != "mlp":
        # identical features get identical weights (the penalty splits them)
        assert_allclose(est.coef_[:, 0], est.coef_[:, 3], rtol=1e-8)


@pytest.mark.parametrize(
    "kind, solver", [("softmax", "sgd"), ("logistic", "gd"), ("mlp", "adam")]
)
def test_ten_thousand_classes(kind, solver, data):
    # cheap: 10 000 output units, but only the 20 samples of one partial_fit
    X, y = data
    est = make(kind, solver).partial_fit(
        X[:20], y[:20] * 1000, classes=np.arange(10_000)
    )
    P = est.predict_proba(X[:20])
    assert P.shape == (20, 10_000)
    assert_sane(est, X[:20])
    if kind != "mlp":
        # from zero weights, every step lowers the scores of the unseen classes
        # alike: a linear model never predicts a class it has no sample of
        assert np.isin(est.predict(X), [0, 1000, 2000]).all()


@all_estimators
def test_memory_layouts_and_dtypes_give_the_same_model(kind, solver, data, tmp_path):
    X, y = data
    ref = quiet_fit(make(kind, solver), X, y)
    wide = np.empty((60, 6))
    wide[:, ::2] = X
    np.save(tmp_path / "X.npy", X)
    read_only = np.load(tmp_path / "X.npy", mmap_mode="r")
    variants = {
        "fortran": np.asfortranarray(X),
        "non-contiguous": wide[:, ::2],
        "read-only memmap": read_only,
        "Float64": pd.DataFrame(X).astype("Float64"),
    }
    for name, X_variant in variants.items():
        est = quiet_fit(make(kind, solver), X_variant, y)
        assert_allclose(
            est.predict_proba(X),
            ref.predict_proba(X),
            rtol=1e-9,
            atol=1e-12,
            err_msg=name,
        )
    assert not read_only.flags.writeable


@all_estimators
def test_integer_X_is_the_float_array(kind, solver, data):
    X, y = data
    X_int = np.round(X * 3).astype(np.int64)
    a = quiet_fit(make(kind, solver), X_int, y)
    b = quiet_fit(make(kind, solver), X_int.astype(np.float64), y)
    assert_same_model(a, b, X_int)
    df = pd.DataFrame(X_int, columns=list("abc")).astype("Int64")
    c = quiet_fit(make(kind, solver), df, y)
    assert_array_equal(c.feature_names_in_, ["a", "b", "c"])
    assert_allclose(c.predict_proba(df), a.predict_proba(X_int), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["Int64", "Float64"])
def test_pandas_missing_values_raise_clear_error(dtype, data):
    X, y = data
    df = pd.DataFrame(np.round(X), columns=list("abc")).astype(dtype)
    df.iloc[4, 1] = pd.NA
    for kind in KINDS:
        with pytest.raises(ValueError, match="Input X contains NaN"):
            make(kind, "lbfgs").fit(df, y)


@all_estimators
def test_sparse_explicit_zeros_change_nothing(kind, solver, data):
    X, y = data
    X = X.copy()
    X[X < -0.5] = 0
    clean = sparse.csr_matrix(X)
    with_zeros = clean.copy()
    with_zeros.data[::4] = 0.0  # explicit zeros in the stored entries
    assert with_zeros.nnz == clean.nnz
    dense = quiet_fit(make(kind, solver), np.where(with_zeros.toarray() == 0, 0, X), y)
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        est = quiet_fit(make(kind, solver), fmt(with_zeros), y)
        assert_allclose(
            est.predict_proba(with_zeros),
            dense.predict_proba(with_zeros.toarray()),
            rtol=1e-9,
            atol=1e-12,
        )


# 3. numerical edge cases -------------------------------------------------------


@pytest.mark.parametrize("kind", ["softmax", "logistic"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_separable_data_stays_finite_and_stops(kind, solver):
    X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    est = make(kind, solver, alpha=0.0, max_iter=200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    assert {c.category for c in caught} <= {ConvergenceWarning}
    assert np.isfinite(est.loss_curve_).all() and np.isfinite(est.loss_)
    assert np.abs(est.coef_).max() > 1.0  # the weights grow
    assert_sane(est, X)
    assert_array_equal(est.predict(X), y)
    # stopped by tol before max_iter, or warned at max_iter
    assert est.n_iter_ < 200 or len(caught) == 1


@pytest.mark.parametrize("kind", ["softmax", "logistic"])
@pytest.mark.parametrize("solver", ["lbfgs", "gd", "sgd"])
def test_huge_alpha_shrinks_weights_to_zero(kind, solver, data):
    X, y = data
    y = np.where(y == 2, 1, y)  # priors 1/3, 2/3
    est = quiet_fit(make(kind, solver, alpha=1e300, max_iter=50), X, y)
    assert np.abs(est.coef_).max() < 1e-250
    # only the intercept is left: every sample gets the same probabilities
    # (the intercept moves little, as the step is bounded by 1 / alpha)
    assert_sane(est, X)
    P = est.predict_proba(X)
    assert_allclose(P, np.tile(P[0], (60, 1)), rtol=1e-12)


@pytest.mark.parametrize(
    "kind, solver",
    [(k, "adam") for k in KINDS] + [("mlp", s) for s in ("lbfgs", "gd", "sgd")],
)
def test_huge_alpha_with_fixed_steps_fits_or_names_the_cause(kind, solver, data):
    # with a fixed step (Adam, MLPBackprop) a penalty of 1e300 cannot be followed
    # stably: fit either ends finite or raises a ValueError naming what to change
    X, y = data
    est = make(kind, solver, alpha=1e300)
    try:
        quiet_fit(est, X, y)
    except ValueError as exc:
        assert "learning_rate_init" in str(exc) or "alpha" in str(exc)
        assert not hasattr(est, "classes_")
    else:
        assert_sane(est, X)


@all_estimators
def test_alpha_zero(kind, solver, data):
    X, y = data
    est = quiet_fit(make(kind, solver, alpha=0.0), X, y)
    assert_sane(est, X)
    penalised = quiet_fit(make(kind, solver, alpha=1.0), X, y)
    assert np.linalg.norm(parameters(est)[0]) > np.linalg.norm(parameters(penalised)[0])


# Step sizes that make every stochastic solver diverge. L-BFGS has no step size
# to blow up (and the linear models precondition it against huge features), so
# it is fed a non-finite objective instead.
DIVERGING = {
    "gd": ({"learning_rate_init": 1e6}, 100.0),
    "sgd": ({"learning_rate_init": 1e6}, 100.0),
    "adam": ({"learning_rate_init": 1e12}, 100.0),
    "lbfgs": ({}, 1.0),
}


def _state(est):
    """Every attribute, public and private, as bytes: a deep comparison."""
    return {name: pickle.dumps(value) for name, value in est.__getstate__().items()}


@all_estimators
def test_divergence_raises_and_keeps_the_warm_started_model(
    kind, solver, data, monkeypatch
):
    X, y = data
    # a few iterations: not yet stalled, so the diverging fit runs a 2nd epoch
    est = quiet_fit(make(kind, solver, warm_start=True, max_iter=5), X, y)
    before = _state(est)
    twin = copy.deepcopy(est)
    params, scale = DIVERGING[solver]
    est.set_params(**params)
    if solver == "lbfgs":
        monkeypatch.setattr(_network.Objective, "__call__", lambda *args: np.nan)
    message = "learning_rate_init" if solver != "lbfgs" else "standardise"
    with pytest.raises(ValueError, match=message):
        quiet_fit(est, X * scale, y)
    monkeypatch.undo()
    # nothing lost: the fitted state is the one before the failed call ...
    est.set_params(**twin.get_params())
    assert _state(est) == before
    assert_same_model(est, twin, X)
    # ... and training goes on exactly as if the failure never happened
    assert_same_model(quiet_fit(est, X, y), quiet_fit(twin, X, y), X)


@pytest.mark.parametrize("kind, solver", STOCHASTIC)
def test_failed_partial_fit_leaves_optimizer_and_record_intact(
    kind, solver, data, monkeypatch
):
    X, y = data
    est = make(kind, solver, batch_size=20).partial_fit(X, y, classes=[0, 1, 2])
    twin = copy.deepcopy(est)
    original = _network.Objective.__call__
    calls = []

    last_batch = 1 if solver == "gd" else 3

    def nan_on_last_batch(self, *args):
        calls.append(1)
        loss = original(self, *args)
        return np.nan if len(calls) == last_batch else loss

    # the optimizer has stepped (and the record moved) before it fails
    monkeypatch.setattr(_network.Objective, "__call__", nan_on_last_batch)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.partial_fit(X, y)
    monkeypatch.setattr(_network.Objective, "__call__", original)
    est.partial_fit(X, y)
    twin.partial_fit(X, y)
    assert_same_model(est, twin, X)
    assert est.loss_curve_ == twin.loss_curve_ and est.t_ == twin.t_


STEP = {
    "adam": (_solvers.Adam, "step"),
    "sgd": (_solvers.MomentumSGD, "step"),
    "gd": (_solvers.GradientDescent, "step"),
    "lbfgs": (_network.Objective, "__call__"),
}


@all_estimators
def test_keyboard_interrupt_keeps_the_last_good_epoch(kind, solver, data, monkeypatch):
    X, y = data
    cls, name = STEP[solver]
    if solver == "gd" and kind != "mlp":
        # the linear models' 'auto' step is searched at every iteration
        cls, name = _linesearch.BarzilaiBorwein, "_search_step"
    original = getattr(cls, name)
    calls = []

    def interrupt_after_7(self, *args):
        calls.append(1)
        if len(calls) > 7:
            raise KeyboardInterrupt
        return original(self, *args)

    # 3 batches of 20 per epoch: the 8th step is inside the 3rd epoch
    params = {"batch_size": 20, "tol": 0.0, "max_iter": 100}
    monkeypatch.setattr(cls, name, interrupt_after_7)
    est = make(kind, solver, **params)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    monkeypatch.setattr(cls, name, original)
    assert_sane(est, X)
    assert len(est.loss_curve_) == est.n_iter_ >= 1
    assert np.isfinite(est.loss_)
    if solver != "lbfgs":
        assert est.n_iter_ == {"gd": 7}.get(solver, 2)
    # the model is the one after its last complete epoch/iteration
    completed = quiet_fit(
        make(kind, solver, **{**params, "max_iter": est.n_iter_}), X, y
    )
    assert_same_model(est, completed, X)
    # and it can be trained further
    est.set_params(warm_start=True)
    assert_sane(quiet_fit(est, X, y), X)


@pytest.mark.parametrize("kind", ["softmax", "logistic"])
def test_keyboard_interrupt_inside_a_searched_step_keeps_the_last_good_epoch(
    kind, data, monkeypatch
):
    # the searched 'gd' step evaluates trial points in the run's theta; the
    # line-search driver puts theta back at the start of its step
    X, y = data
    original = _linesearch.BarzilaiBorwein._evaluate
    interrupted = []

    def interrupt_a_trial(self, at, g):
        if self.n_steps >= 4 and self._stepping:  # a trial point of a step
            interrupted.append(not np.array_equal(at, self._theta_prev))
            raise KeyboardInterrupt
        return original(self, at, g)

    monkeypatch.setattr(_linesearch.BarzilaiBorwein, "_evaluate", interrupt_a_trial)
    est = make(kind, "gd", tol=0.0, max_iter=100)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    monkeypatch.setattr(_linesearch.BarzilaiBorwein, "_evaluate", original)
    assert interrupted == [True]  # inside a trial: theta away from its start
    completed = quiet_fit(make(kind, "gd", tol=0.0, max_iter=est.n_iter_), X, y)
    assert est.n_iter_ >= 3 and len(est.loss_curve_) == est.n_iter_
    assert_same_model(est, completed, X)
    assert est._optimizer._theta_prev is None  # its vectors freed with the run


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_last_step_to_non_finite_parameters_raises(solver, bad, data, monkeypatch):
    # every batch's loss was finite, but the epoch's last step left a
    # non-finite parameter: the fit must not return that model
    X, y = data
    cls = {"sgd": _solvers.MomentumSGD, "adam": _solvers.Adam}[solver]
    original = cls.step

    def step_to_bad(self, theta, grad, e):
        original(self, theta, grad, e)
        theta[-1] = bad

    monkeypatch.setattr(cls, "step", step_to_bad)
    est = make("softmax", solver, batch_size=X.shape[0], max_iter=1)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")  # the failed fit left the estimator unfitted


# 4. persistence ------------------------------------------------------------------


def _round_trips(est):
    yield "pickle", pickle.loads(pickle.dumps(est))
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    yield "joblib", joblib.load(buffer)


@all_estimators
def test_pickle_and_joblib_round_trips(kind, solver, data):
    X, y = data
    unfitted = make(kind, solver, class_weight={0: 1.0, 1: 2.0, 2: 1.0})
    fitted = quiet_fit(copy.deepcopy(unfitted), X, y)
    for how, loaded in _round_trips(unfitted):
        assert loaded.get_params() == unfitted.get_params(), how
        assert not hasattr(loaded, "classes_")
        assert_same_model(quiet_fit(loaded, X, y), fitted, X)
    for how, loaded in _round_trips(fitted):
        assert_same_model(loaded, fitted, X)
        assert loaded.loss_curve_ == fitted.loss_curve_, how
        if hasattr(fitted, "decision_function"):
            assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
        # the training state survives: continuing gives the same model
        if solver != "lbfgs":
            a = copy.deepcopy(fitted).partial_fit(X, y)
            assert_same_model(loaded.partial_fit(X, y), a, X)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_model_stays_float32_after_pickling(kind, data):
    X, y = data
    X32 = X.astype(np.float32)
    est = quiet_fit(make(kind, "adam"), X32, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert all(p.dtype == np.float32 for p in parameters(loaded))
    assert loaded.predict_proba(X32).dtype == np.float32
    assert_array_equal(loaded.predict_proba(X32), est.predict_proba(X32))
    loaded.partial_fit(X32, y)
    assert all(p.dtype == np.float32 for p in parameters(loaded))


# What users pass to skops.io.load(..., trusted=...): the estimator classes only.
SKOPS_TRUSTED = [
    "skbackprop._linear.LogisticRegressionGD",
    "skbackprop._linear.SoftmaxClassifier",
    "skbackprop._mlp.MLPBackprop",
]


@all_estimators
def test_skops_round_trip_trusts_only_the_estimator_classes(
    kind, solver, data, tmp_path
):
    import skops.io as sio

    X, y = data
    fitted = quiet_fit(make(kind, solver), X, y)
    if solver != "lbfgs":
        fitted.partial_fit(X, y)  # an optimizer with state is stored too
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{type(fitted).__module__}.{type(fitted).__name__}"]
    assert set(untrusted) <= set(SKOPS_TRUSTED)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    loaded = sio.load(path, trusted=SKOPS_TRUSTED)
    assert_same_model(loaded, fitted, X)
    if solver != "lbfgs":
        a = copy.deepcopy(fitted).partial_fit(X, y)
        assert_same_model(loaded.partial_fit(X, y), a, X)
    unfitted = sio.loads(sio.dumps(make(kind, solver)), trusted=SKOPS_TRUSTED)
    assert unfitted.get_params() == make(kind, solver).get_params()


# 5. determinism and concurrency ------------------------------------------------


@all_estimators
def test_same_random_state_gives_bit_identical_results(kind, solver, data):
    X, y = data
    params = {"early_stopping": solver != "lbfgs", "random_state": 42}
    a = quiet_fit(make(kind, solver, **params), X, y)
    b = quiet_fit(make(kind, solver, **params), X, y)
    assert_same_model(a, b, X)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("kind, solver", [("softmax", "sgd"), ("mlp", "adam")])
def test_grid_search_is_identical_across_n_jobs(kind, solver, data):
    X, y = data
    grid = {"alpha": [1e-4, 1e-1]}
    runs = [
        quiet_fit(GridSearchCV(make(kind, solver), grid, cv=3, n_jobs=n_jobs), X, y)
        for n_jobs in (1, 2)
    ]
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        assert_array_equal(runs[0].cv_results_[key], runs[1].cv_results_[key])
    assert_same_model(runs[0].best_estimator_, runs[1].best_estimator_, X)


# warnings.catch_warnings is not thread-safe: filter for the whole test instead
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_parallel_threads_give_the_serial_results(data):
    X, y = data
    estimators = [make(kind, solver) for kind, solver in ESTIMATORS]
    serial = [copy.deepcopy(e).fit(X, y) for e in estimators]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda e: e.fit(X, y), estimators))
    for a, b in zip(serial, threaded, strict=True):
        assert_same_model(a, b, X)
