"""Nothing lost, under every way a fit can end early (issue 22), from the outside.

The rule: a call to ``fit`` or ``partial_fit`` either completes, or leaves the
estimator exactly as it was before the call (every attribute, optimizer state
and generator included) and raises. The one exception: Ctrl-C inside the
training loop of ``fit`` once at least one epoch of this call is complete
warns "Training interrupted by user." and keeps the model of the last complete
epoch, equal to a fit with ``max_iter=k``. An epoch is complete once its
callbacks' end of the epoch task has returned.

Interrupts are real: a real timer (``signal.setitimer``) whose signal runs
Python's own Ctrl-C handler (``signal.default_int_handler``), armed by a
callback at the beginning of a chosen epoch, or a callback that raises
``KeyboardInterrupt`` itself. Concurrency uses real threads. Only the public
API is used: ``fit``, ``partial_fit``, ``set_callbacks``, pickling (to compare
the whole state of an estimator) and the fitted attributes.
"""

import gc
import pickle
import signal
import threading
import time
import tracemalloc
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)

ESTIMATORS = [SoftmaxClassifier, LogisticRegressionGD, MLPBackprop]
REGRESSORS = [LinearRegressionGD, MLPBackpropRegressor]
ALL = ESTIMATORS + REGRESSORS
SOLVERS = ["gd", "sgd", "adam", "lbfgs"]
EPOCH_TASKS = {"epoch", "iteration"}
INTERRUPTED = "Training interrupted by user."


def _data(n_samples=200, n_features=6, seed=0, cls=None):
    """Standardised features and 3 classes; two standardised targets for a
    regressor ``cls``."""
    if cls in REGRESSORS:
        X, y = make_regression(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=4,
            n_targets=2,
            noise=1.0,
            random_state=seed,
        )
        return StandardScaler().fit_transform(X), y / np.std(y)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _make(cls, solver, **params):
    """A seeded instance that never stops early, so epochs are counted exactly."""
    if cls in (MLPBackprop, MLPBackpropRegressor):
        params.setdefault("hidden_layer_sizes", (8,))
        if solver == "gd":
            params.setdefault("learning_rate_init", 0.1)
        elif cls is MLPBackpropRegressor:
            params.setdefault("learning_rate_init", 0.01)
    params.setdefault("batch_size", 10)
    params.setdefault("tol", 0.0)
    params.setdefault("n_iter_no_change", 10**6)
    params.setdefault("random_state", 0)
    return cls(solver=solver, **params)


def _fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **fit_params)


def _partial_fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.partial_fit(X, y, **fit_params)


def _state(est):
    """The whole state of ``est`` but its callbacks: each attribute as pickle
    writes it, now (the training changes some of the objects in place)."""
    state = dict(est.__getstate__())
    state.pop("_skl_callbacks", None)
    return {name: pickle.dumps(value) for name, value in state.items()}


def _assert_unchanged(est, before):
    """``est`` holds exactly the state ``before`` (from :func:`_state`)."""
    after = _state(est)
    assert sorted(after) == sorted(before)
    for name in before:
        assert after[name] == before[name], name


def _fitted_attributes(est):
    return {
        name: value
        for name, value in vars(est).items()
        if name.endswith("_") and not name.startswith("_")
    }


def _assert_same_model(est, twin, X, y):
    """The same fitted attributes, and the same next ``partial_fit`` on
    ``X, y`` (which reads the optimizer state, the training record and the
    generator)."""
    ours, theirs = _fitted_attributes(est), _fitted_attributes(twin)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert pickle.dumps(ours[name]) == pickle.dumps(theirs[name]), name
    if est.solver != "lbfgs":
        for model in (est, twin):
            model.set_callbacks()
            _partial_fit_quietly(model, X, y)
        for a, b in zip(_layers(est), _layers(twin), strict=True):
            assert_array_equal(a, b)


def _layers(est):
    if hasattr(est, "coefs_"):
        return [*est.coefs_, *est.intercepts_]
    return [est.coef_, est.intercept_]


def _run(call):
    """``(interrupted, warning messages)`` of ``call()``: a KeyboardInterrupt
    never escapes a test (pytest would end the session)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
            interrupted = False
        except KeyboardInterrupt:
            interrupted = True
    return interrupted, [str(w.message) for w in caught]


class Callback:
    """A no-op callback (sklearn.callback's FitCallback protocol)."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None):
        pass


class EpochClock(Callback):
    """Durations of the epochs of a fit."""

    def __init__(self):
        self.durations = []

    def on_fit_task_begin(self, estimator, context, *, X=None):
        if context.task_name in EPOCH_TASKS:
            self._start = time.perf_counter()

    def on_fit_task_end(self, estimator, context, *, X=None):
        if context.task_name in EPOCH_TASKS and X is not None:
            self.durations.append(time.perf_counter() - self._start)


class CtrlC(Callback):
    """Presses Ctrl-C with a real timer, ``delay`` seconds after the beginning
    of epoch ``epoch`` (1-based) of the next fit.

    ``completed`` counts the epochs whose end hook ran to its end;
    ``completed_at_interrupt`` is that count when the interrupt fired.
    """

    def __init__(self, epoch, delay):
        self.epoch, self.delay = epoch, delay
        self.armed = False
        self.completed = 0
        self.completed_at_interrupt = None

    def on_fit_task_begin(self, estimator, context, *, X=None):
        if (
            context.task_name in EPOCH_TASKS
            and context.task_id + 1 == self.epoch
            and self.completed_at_interrupt is None
            and not self.armed
        ):
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.delay)

    def on_fit_task_end(self, estimator, context, *, X=None):
        if context.task_name in EPOCH_TASKS and X is not None:
            self.completed += 1

    def teardown(self, estimator, context):
        self.disarm()

    def disarm(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.armed = False

    def fire(self, signum, frame):
        if self.armed:
            self.armed = False
            self.completed_at_interrupt = self.completed
            signal.default_int_handler(signum, frame)  # Python's Ctrl-C


@contextmanager
def _ctrl_c(est, epoch, delay):
    """Set a :class:`CtrlC` callback on ``est`` and route the timer to it.

    The garbage collector's callbacks (hypothesis installs one) are set
    aside meanwhile: Python ignores an exception raised inside them, so an
    interrupt that lands there would never reach the fit.
    """
    ctrl_c = CtrlC(epoch, delay)
    gc_callbacks = list(gc.callbacks)
    gc.callbacks.clear()
    previous = signal.signal(signal.SIGALRM, ctrl_c.fire)
    est.set_callbacks(ctrl_c)
    try:
        yield ctrl_c
    finally:
        ctrl_c.disarm()
        signal.signal(signal.SIGALRM, previous)
        gc.callbacks.extend(gc_callbacks)
        est.set_callbacks()


def _epoch_duration(make, fit, epoch):
    """The shortest of two measured durations of epoch ``epoch`` of ``fit``."""
    durations = []
    for _ in range(2):
        clock = EpochClock()
        fit(make().set_callbacks(clock))
        durations.append(clock.durations[epoch - 1])
    return min(durations)


class Raise(Callback):
    """Raises ``error`` in ``hook`` (of epoch ``epoch``, 1-based, for the
    epoch hooks), once."""

    def __init__(self, hook, error, epoch=1):
        self.hook, self.error, self.epoch = hook, error, epoch

    def _maybe_raise(self, hook, context=None):
        if hook != self.hook:
            return
        if context is not None and context.task_name in EPOCH_TASKS:
            if context.task_id + 1 != self.epoch:
                return
        self.hook = None
        raise self.error

    def setup(self, estimator, context):
        self._maybe_raise("setup")

    def teardown(self, estimator, context):
        self._maybe_raise("teardown")

    def on_fit_task_begin(self, estimator, context, *, X=None):
        task = "epoch" if context.task_name in EPOCH_TASKS else "fit"
        self._maybe_raise(f"begin_{task}", context)

    def on_fit_task_end(self, estimator, context, *, X=None):
        task = "epoch" if context.task_name in EPOCH_TASKS else "fit"
        if task == "fit" or X is not None:
            self._maybe_raise(f"end_{task}", context)


# --- 1. Ctrl-C in the first epoch of a refit ------------------------------------

# the timer's delay as fractions of a measured epoch, tried in turn until the
# interrupt lands inside the call
TIMER_FRACTIONS = (1.0, 0.5, 0.2, 0.05)

# (estimator, solver, n_samples, params): epochs of tens of milliseconds, so
# that the timer fires well inside the first one; a fixed step for the linear
# 'gd', whose 'auto' step would take the time before the loop
FIRST_EPOCH_CASES = (
    [(cls, solver, 1000, {}) for cls in ESTIMATORS for solver in ("sgd", "adam")]
    + [
        (MLPBackprop, solver, 8000, {"hidden_layer_sizes": (256,)})
        for solver in ("gd", "lbfgs")
    ]
    + [
        (cls, "gd", 40000, {"learning_rate_init": 0.5})
        for cls in (SoftmaxClassifier, LogisticRegressionGD)
    ]
    + [(cls, "lbfgs", 40000, {}) for cls in (SoftmaxClassifier, LogisticRegressionGD)]
)


@pytest.mark.parametrize(
    "cls, solver, n_samples, params",
    FIRST_EPOCH_CASES,
    ids=[f"{c.__name__}-{s}-{n}" for c, s, n, _ in FIRST_EPOCH_CASES],
)
def test_ctrl_c_in_the_first_epoch_of_a_refit_restores_and_reraises(
    cls, solver, n_samples, params
):
    X, y = _data(n_samples, n_features=20)
    X_old, y_old = _data(200, n_features=20, seed=1)

    def make():
        return _make(cls, solver, max_iter=3, **params)

    duration = _epoch_duration(make, lambda e: _fit_quietly(e, X, y), 1)
    for fraction in TIMER_FRACTIONS:  # a busy machine may outrun the timer
        est = _fit_quietly(make(), X_old, y_old)
        score = est.score(X_old, y_old)
        before = _state(est)
        with _ctrl_c(est, epoch=1, delay=0.3 * fraction * duration) as ctrl_c:
            interrupted, messages = _run(lambda est=est: est.fit(X, y))
        if ctrl_c.completed_at_interrupt is not None:
            break
    assert ctrl_c.completed_at_interrupt == 0  # the timer fired in epoch 1
    assert interrupted, f"fit returned ({messages}) instead of re-raising"
    _assert_unchanged(est, before)
    assert est.score(X_old, y_old) == score


# --- 2. Ctrl-C during partial_fit -------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_ctrl_c_during_partial_fit_restores_and_reraises(cls, solver):
    X, y = _data(4000)
    classes = np.unique(y)

    def make():
        est = _make(cls, solver)
        return _partial_fit_quietly(est, X[:100], y[:100], classes=classes)

    duration = _epoch_duration(make, lambda e: _partial_fit_quietly(e, X, y), 1)
    for fraction in TIMER_FRACTIONS:  # a busy machine may outrun the timer
        est, twin = make(), make()
        before = _state(est)
        with _ctrl_c(est, epoch=1, delay=0.5 * fraction * duration) as ctrl_c:
            interrupted, messages = _run(lambda est=est: est.partial_fit(X, y))
        if ctrl_c.completed_at_interrupt is not None:
            break
    assert ctrl_c.completed_at_interrupt == 0
    assert interrupted, f"partial_fit returned ({messages}) instead of re-raising"
    _assert_unchanged(est, before)
    # the next call is the one of a twin never interrupted
    _partial_fit_quietly(est, X, y)
    _partial_fit_quietly(twin, X, y)
    _assert_same_model(est, twin, X, y)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_a_callbacks_ctrl_c_in_partial_fit_restores_and_reraises(solver):
    X, y = _data()
    est = _partial_fit_quietly(_make(MLPBackprop, solver), X, y, classes=np.unique(y))
    twin = _partial_fit_quietly(clone(est), X, y, classes=np.unique(y))
    before = _state(est)
    est.set_callbacks(Raise("end_epoch", KeyboardInterrupt()))
    interrupted, messages = _run(lambda: est.partial_fit(X, y))
    assert interrupted, f"partial_fit returned ({messages}) instead of re-raising"
    assert INTERRUPTED not in messages
    _assert_unchanged(est, before)
    _assert_same_model(est, twin, X, y)


# --- 3. Callbacks ------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callbacks_ctrl_c_at_the_end_of_epoch_1_restores_and_reraises(cls, solver):
    X_old, y_old = _data(seed=1, cls=cls)
    X, y = _data(seed=2, cls=cls)
    est = _fit_quietly(_make(cls, solver, max_iter=4), X_old, y_old)
    before = _state(est)
    est.set_callbacks(Raise("end_epoch", KeyboardInterrupt(), epoch=1))
    interrupted, messages = _run(lambda: est.fit(X, y))
    assert interrupted, f"fit returned ({messages}) instead of re-raising"
    _assert_unchanged(est, before)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callbacks_ctrl_c_at_the_end_of_epoch_3_keeps_two_epochs(cls, solver):
    X, y = _data(seed=2, cls=cls)
    est = _make(cls, solver, max_iter=6)
    est.set_callbacks(Raise("end_epoch", KeyboardInterrupt(), epoch=3))
    interrupted, messages = _run(lambda: est.fit(X, y))
    assert not interrupted
    assert messages.count(INTERRUPTED) == 1
    twin = _fit_quietly(_make(cls, solver, max_iter=2), X, y)
    assert est.n_iter_ == 2
    _assert_same_model(est, twin, X, y)


HOOKS = ["setup", "begin_fit", "begin_epoch", "end_epoch", "end_fit", "teardown"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize(
    "error",
    [RuntimeError("callback failed"), KeyboardInterrupt()],
    ids=["error", "ctrl-c"],
)
def test_a_failing_callback_hook_restores_and_reraises(hook, error):
    """Epoch hooks fail in epoch 1: no epoch is complete, so Ctrl-C re-raises too."""
    X_old, y_old = _data(seed=1)
    X, y = _data(seed=2)
    est = _fit_quietly(_make(MLPBackprop, "adam", max_iter=3), X_old, y_old)
    before = _state(est)
    est.set_callbacks(Raise(hook, error))
    if isinstance(error, KeyboardInterrupt):
        interrupted, messages = _run(lambda: est.fit(X, y))
        assert interrupted, f"fit returned ({messages}) instead of re-raising"
    else:
        with pytest.raises(RuntimeError, match="callback failed"):
            _fit_quietly(est, X, y)
    _assert_unchanged(est, before)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("warm_start", [False, True])
def test_an_exception_in_teardown_leaves_the_old_model(cls, solver, warm_start):
    X_old, y_old = _data(seed=1, cls=cls)
    X, y = _data(seed=2, cls=cls)
    est = _fit_quietly(
        _make(cls, solver, max_iter=3, warm_start=warm_start), X_old, y_old
    )
    before = _state(est)
    est.set_callbacks(Raise("teardown", RuntimeError("teardown failed")))
    with pytest.raises(RuntimeError, match="teardown failed"):
        _fit_quietly(est, X, y)
    _assert_unchanged(est, before)


# --- 4. Two threads fitting one object -----------------------------------------------


class HoldFirstEpoch(Callback):
    """Holds the fit of thread ``owner`` in its first epoch until ``release``."""

    def __init__(self, owner, reached, release):
        self.owner, self.reached, self.release = owner, reached, release

    def on_fit_task_end(self, estimator, context, *, X=None):
        if threading.current_thread() is self.owner and context.task_id == 0:
            if context.task_name in EPOCH_TASKS:
                self.reached.set()
                self.release.wait(20)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("second", ["fit", "partial_fit"])
def test_a_second_concurrent_fit_is_refused(second):
    X_a, y_a = _data(300, n_features=30, seed=1)
    X_b, y_b = _data(300, n_features=20, seed=2)
    est = _make(SoftmaxClassifier, "sgd", max_iter=5)
    twin = _fit_quietly(clone(est), X_a, y_a)
    reached, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            est.fit(X_a, y_a)
            outcome["first"] = "done"
        except BaseException as error:  # noqa: BLE001 - reported below
            outcome["first"] = error

    def other():
        reached.wait(20)
        try:
            if second == "fit":
                est.fit(X_b, y_b)
            else:
                est.partial_fit(X_b, y_b, classes=np.unique(y_b))
            outcome["second"] = "done"
        except BaseException as error:  # noqa: BLE001 - reported below
            outcome["second"] = error
        finally:
            release.set()

    threads = [threading.Thread(target=first), threading.Thread(target=other)]
    est.set_callbacks(HoldFirstEpoch(threads[0], reached, release))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcome["first"] == "done"
    assert isinstance(outcome["second"], RuntimeError), outcome["second"]
    assert "already being fitted" in str(outcome["second"])
    assert est.n_features_in_ == 30
    _assert_same_model(est, twin, X_a, y_a)
    est.predict_proba(X_a)


# --- 5. Weights -------------------------------------------------------------------


def _assert_no_runtime_warning(caught):
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize("bad", [-1.0, -1e20, np.nan, np.inf])
def test_class_weights_must_be_finite_and_non_negative(cls, solver, bad):
    X, y = _data()
    est = _make(cls, solver, max_iter=5, class_weight={0: 1.0, 1: bad, 2: 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="class_weight for class 1 .*finite"):
            est.fit(X, y)
    _assert_no_runtime_warning(caught)
    assert not hasattr(est, "coef_") and not hasattr(est, "coefs_")


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize(
    "dtype, weight", [(np.float64, 1e308), (np.float32, 1e38)], ids=["64", "32"]
)
def test_a_weight_sum_that_overflows_is_refused(cls, solver, dtype, weight):
    X, y = _data(40, cls=cls)
    est = _make(cls, solver, max_iter=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="overflows"):
            est.fit(X.astype(dtype), y, sample_weight=np.full(40, weight))
    _assert_no_runtime_warning(caught)
    assert not hasattr(est, "coef_") and not hasattr(est, "coefs_")


def test_sample_times_class_weight_that_overflows_is_refused():
    X, y = _data(40)
    est = SoftmaxClassifier(class_weight={0: 1e300, 1: 1.0, 2: 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="overflows"):
            est.fit(X, y, sample_weight=np.full(40, 1e300))
    _assert_no_runtime_warning(caught)


# --- 6. A RandomState instance is not consumed by a failed fit ---------------------


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("how", ["diverged", "callback"])
def test_a_failed_fit_does_not_consume_a_random_state_instance(cls, how):
    X, y = _data(cls=cls)
    rng, twin_rng = np.random.RandomState(0), np.random.RandomState(0)
    est = _make(cls, "sgd", max_iter=3, random_state=rng, learning_rate_init=0.01)
    if how == "diverged":
        est.set_params(learning_rate_init=1e30)
        with pytest.raises(ValueError, match="diverged"):
            _fit_quietly(est, X * 1e10, y)
        est.set_params(learning_rate_init=0.01)
    else:
        est.set_callbacks(Raise("end_epoch", RuntimeError("callback failed"), epoch=2))
        with pytest.raises(RuntimeError, match="callback failed"):
            _fit_quietly(est, X, y)
        est.set_callbacks()
    twin = _make(cls, "sgd", max_iter=3, random_state=twin_rng, learning_rate_init=0.01)
    _fit_quietly(est, X, y)
    _fit_quietly(twin, X, y)
    for a, b in zip(_layers(est), _layers(twin), strict=True):
        assert_array_equal(a, b)
    assert rng.uniform() == twin_rng.uniform()


# --- 7. Messages that name the real cause ---------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_tiny_uniform_weights_name_alpha_over_the_weight_sum(solver):
    X, y = _data()
    est = MLPBackprop(solver=solver, max_iter=5, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"alpha / sum\(sample_weight\)") as info:
            est.fit(X, y, sample_weight=np.full(X.shape[0], 1e-100))
    assert "sample_weight" in str(info.value)
    assert "learning_rate_init" not in str(info.value)
    _assert_no_runtime_warning(caught)


def test_a_huge_alpha_says_lower_alpha():
    X, y = _data()
    est = MLPBackprop(solver="lbfgs", alpha=1e300, max_iter=5, random_state=0)
    with pytest.raises(ValueError, match="lower alpha") as info:
        est.fit(X, y)
    assert "increase alpha" not in str(info.value)


def test_validation_fraction_zero_names_the_parameter():
    X, y = _data()
    est = MLPBackprop(early_stopping=True, validation_fraction=0, max_iter=5)
    with pytest.raises(ValueError, match="validation_fraction=0") as info:
        est.fit(X, y)
    assert "early_stopping" in str(info.value)


def test_a_network_beyond_memory_fails_fast_with_the_size_it_needs():
    X, y = _data()
    est = MLPBackprop(hidden_layer_sizes=(10**7, 10**7), max_iter=1)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"needs at least [\d,.]+ GiB") as info:
            est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "hidden_layer_sizes" in str(info.value)
    assert peak < 50 * 2**20


# --- the rule, at a random batch of a random epoch ------------------------------

RULE_CASES = [
    (SoftmaxClassifier, "sgd"),
    (LogisticRegressionGD, "adam"),
    (MLPBackprop, "adam"),
    (MLPBackprop, "sgd"),
    (SoftmaxClassifier, "gd"),
    (MLPBackprop, "lbfgs"),
]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    case=st.sampled_from(RULE_CASES),
    epoch=st.integers(1, 3),
    fraction=st.floats(0.02, 0.98),
    partial=st.booleans(),
)
def test_ctrl_c_at_a_random_batch_of_a_random_epoch_follows_the_rule(
    case, epoch, fraction, partial
):
    """A real timer fires at ``fraction`` of epoch ``epoch``: in ``fit``, the
    call re-raises with nothing changed (no complete epoch) or warns and keeps
    a model equal to a fit with ``max_iter=n_iter_``; ``partial_fit``
    re-raises with nothing changed."""
    cls, solver = case
    if partial and solver == "lbfgs":
        solver = "sgd"
    X, y = _data(1000, seed=3)
    X_old, y_old = _data(seed=4)
    if partial:
        epoch = 1

    def make(max_iter=epoch + 4):
        est = _make(cls, solver, max_iter=max_iter)
        if partial:
            _partial_fit_quietly(est, X_old, y_old, classes=np.unique(y))
        return est

    def call(est):
        return est.partial_fit(X, y) if partial else est.fit(X, y)

    def call_quietly(est):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(est)

    est = make()
    before = _state(est)
    delay = max(fraction * _epoch_duration(make, call_quietly, epoch), 1e-5)
    with _ctrl_c(est, epoch, delay) as ctrl_c:
        interrupted, messages = _run(lambda: call(est))
    completed = ctrl_c.completed_at_interrupt
    if not interrupted and INTERRUPTED not in messages:
        # the timer fired after the call, or where Python ignores exceptions
        # (a finaliser): the call completed, as one never interrupted
        twin = call_quietly(make())
        _assert_same_model(est, twin, X, y)
        return
    assert completed is not None
    if interrupted:
        assert partial or completed <= 1
        assert INTERRUPTED not in messages
        _assert_unchanged(est, before)
        return
    assert not partial, "partial_fit kept an interrupted epoch"
    assert messages.count(INTERRUPTED) == 1
    # epoch k-1 is surely complete once epoch k's end hook ran; epoch k may
    # or may not be (the interrupt may land in its last lines)
    assert completed >= 1
    assert est.n_iter_ in (completed - 1, completed)
    assert est.n_iter_ >= 1
    twin = _fit_quietly(_make(cls, solver, max_iter=est.n_iter_), X, y)
    _assert_same_model(est, twin, X, y)


# --- the regressors' own cases ------------------------------------------------------


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_regressor_ctrl_c_in_partial_fit_restores_and_reraises(cls, solver):
    X, y = _data(cls=cls)
    est = _partial_fit_quietly(_make(cls, solver), X, y)
    twin = _partial_fit_quietly(clone(est), X, y)
    before = _state(est)
    est.set_callbacks(Raise("end_epoch", KeyboardInterrupt()))
    interrupted, messages = _run(lambda: est.partial_fit(X, y))
    assert interrupted, f"partial_fit returned ({messages}) instead of re-raising"
    _assert_unchanged(est, before)
    _assert_same_model(est, twin, X, y)


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_a_diverged_regressor_fit_leaves_the_old_model(cls, solver):
    X_old, y_old = _data(seed=1, cls=cls)
    X, y = _data(seed=2, cls=cls)
    est = _fit_quietly(_make(cls, solver, max_iter=3), X_old, y_old)
    before = _state(est)
    est.set_params(learning_rate_init=1e30)
    with pytest.raises(ValueError, match="diverged"):
        _fit_quietly(est, X * 1e10, y)
    est.set_params(learning_rate_init=_make(cls, solver).learning_rate_init)
    _assert_unchanged(est, before)
