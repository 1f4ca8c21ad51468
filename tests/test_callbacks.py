"""scikit-learn's callback API (sklearn.callback, scikit-learn >= 1.9) on every
estimator and solver: ProgressBar, ScoringMonitor, the task tree, propagation
from Pipeline and GridSearchCV, verbose output, and the estimators without the
callback API or without rich.
"""

import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)
from skbackprop._callbacks import callback_bases

callback = pytest.importorskip("sklearn.callback")  # scikit-learn >= 1.9
ProgressBar, ScoringMonitor = callback.ProgressBar, callback.ScoringMonitor

ESTIMATORS = [SoftmaxClassifier, LogisticRegressionGD, MLPBackprop]
REGRESSORS = [LinearRegressionGD, MLPBackpropRegressor]
SOLVERS = ["gd", "sgd", "adam", "lbfgs"]
EPOCH_TASKS = {"epoch", "iteration"}


def _make(cls, solver, **params):
    """A small, seeded instance; MLPBackprop with a step size fit for 'gd'."""
    if cls is MLPBackprop:
        params.setdefault("hidden_layer_sizes", (8,))
        if solver == "gd":
            params.setdefault("learning_rate_init", 0.1)
    params.setdefault("batch_size", 32)
    return cls(solver=solver, random_state=0, **params)


def _data(n_classes=3, n_samples=80):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=0,
    )
    return StandardScaler().fit_transform(X), y


def _fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


class Recorder:
    """A callback that records every hook call; auto-propagated to sub-estimators.

    ``stop_after=k`` asks training to stop at the end of epoch ``k``.
    """

    max_propagation_depth = None

    def __init__(self, stop_after=None):
        self.events = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.events.append(("setup", type(estimator).__name__, context, None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", type(estimator).__name__, context, None))

    def on_fit_task_begin(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        name = type(estimator).__name__
        self.events.append(("begin", name, context, fitted_estimator))

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        name = type(estimator).__name__
        self.events.append(("end", name, context, fitted_estimator))
        return (
            self.stop_after is not None
            and context.task_name in EPOCH_TASKS
            and fitted_estimator is not None
            and context.task_id + 1 == self.stop_after
        )

    def calls(self, hook):
        return [event for event in self.events if event[0] == hook]

    def epochs_run(self):
        """End events of epochs that ran (an empty end has no fitted estimator)."""
        return [
            event
            for event in self.calls("end")
            if event[2].task_name in EPOCH_TASKS and event[3] is not None
        ]


def _assert_balanced(recorder):
    """Every task begun is ended exactly once; setup and teardown once each."""
    begun = [id(event[2]) for event in recorder.calls("begin")]
    ended = [id(event[2]) for event in recorder.calls("end")]
    assert sorted(begun) == sorted(ended)
    assert len(set(ended)) == len(ended)
    assert len(recorder.calls("setup")) == len(recorder.calls("teardown")) == 1


# --- the mixin ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS + REGRESSORS)
def test_estimators_support_callbacks(cls):
    est = cls()
    assert isinstance(est, callback.CallbackSupportMixin)
    assert est.set_callbacks(ProgressBar()) is est
    # clone keeps the callbacks (by reference, as scikit-learn does)
    assert clone(est)._skl_callbacks == est._skl_callbacks


def test_no_callback_state_left_after_fit():
    X, y = _data()
    for est in (SoftmaxClassifier(), SoftmaxClassifier().set_callbacks(Recorder())):
        est.fit(X, y)
        assert not hasattr(est, "_callback_fit_ctx")
        assert not hasattr(est, "_skl_callbacks_to_teardown")


# --- ProgressBar and ScoringMonitor for every estimator x solver ---------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_progress_bar(cls, solver, capsys):
    X, y = _data()
    est = _make(cls, solver, max_iter=5).set_callbacks(ProgressBar())
    _fit_quietly(est, X, y)
    out = capsys.readouterr().out
    assert f"{cls.__name__} - fit" in out
    assert "100%" in out
    assert not re.search(r"\b[0-9]{1,2}%", out)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_scoring_monitor_scores_each_epoch_as_score_would(cls, solver, n_classes):
    """The score logged at epoch k is that of the model refitted with max_iter=k."""
    X, y = _data(n_classes)
    monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
    est = _fit_quietly(_make(cls, solver, max_iter=6).set_callbacks(monitor), X, y)

    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] in EPOCH_TASKS]
    assert [row["task_id"] for row in epochs] == list(range(est.n_iter_))
    assert est.n_iter_ == 6
    for k, row in enumerate(epochs, start=1):
        at_k = _fit_quietly(_make(cls, solver, max_iter=k), X, y)
        assert row["accuracy"] == at_k.score(X, y)
        assert_allclose(
            row["neg_log_loss"], -log_loss(y, at_k.predict_proba(X)), rtol=1e-12
        )
    # the fit task itself is scored with the final model
    (fit_row,) = [row for row in rows if row["task_name"] == "fit"]
    assert fit_row["accuracy"] == est.score(X, y)


def test_scoring_monitor_uses_sample_weight_and_dataframes():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    w = np.linspace(0.5, 2.0, len(y))
    monitor = ScoringMonitor(scoring="accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. missing feature names
        est = _fit_quietly(
            _make(MLPBackprop, "adam", max_iter=3).set_callbacks(monitor),
            X,
            y,
            sample_weight=w,
        )
    last = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"][-1]
    assert last["accuracy"] == est.score(X, y, sample_weight=w)


# --- the task tree: one subtask per epoch, bounded by max_iter, ended cleanly ---------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_each_epoch_is_a_subtask_of_the_fit(cls, solver):
    X, y = _data()
    recorder = Recorder()
    est = _fit_quietly(_make(cls, solver, max_iter=4).set_callbacks(recorder), X, y)

    _assert_balanced(recorder)
    root = recorder.calls("begin")[0][2]
    assert root.task_name == "fit" and root.parent is None
    assert root.max_subtasks == 4  # known in advance: max_iter
    epochs = recorder.epochs_run()
    assert len(epochs) == est.n_iter_ == 4
    assert all(event[2].parent is root for event in epochs)
    assert {event[2].task_name for event in epochs} == (
        {"iteration"} if solver == "lbfgs" else {"epoch"}
    )
    # the fitted estimator of the last epoch is the fitted model
    assert_allclose(epochs[-1][3].predict_proba(X), est.predict_proba(X))
    # the fit task ends last, with the fitted model
    assert recorder.calls("end")[-1][2] is root


@pytest.mark.parametrize(
    "cls, params",
    [
        (MLPBackprop, dict(solver="adam", early_stopping=True, n_iter_no_change=2)),
        (MLPBackprop, dict(solver="sgd", tol=10.0, n_iter_no_change=2)),
        (SoftmaxClassifier, dict(solver="lbfgs")),
        (LogisticRegressionGD, dict(solver="gd", tol=10.0, n_iter_no_change=2)),
    ],
    ids=["early_stopping", "tol", "lbfgs_converged", "gd_tol"],
)
def test_early_stopping_and_convergence_end_the_task_cleanly(cls, params):
    X, y = _data()
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _make(cls, max_iter=200, **params).set_callbacks(recorder).fit(X, y)
    assert est.n_iter_ < 200
    _assert_balanced(recorder)
    assert len(recorder.epochs_run()) == est.n_iter_
    root = recorder.calls("begin")[0][2]
    assert len(root._children_map) <= root.max_subtasks == 200
    assert recorder.calls("end")[-1][2] is root
    if est.early_stopping:
        # the fit task reports the restored best model, not the last epoch
        fitted = recorder.calls("end")[-1][3]
        assert_allclose(fitted.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callback_can_stop_training(solver):
    X, y = _data()
    recorder = Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _make(MLPBackprop, solver, max_iter=50).set_callbacks(recorder).fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 3
    _assert_balanced(recorder)
    assert_allclose(recorder.epochs_run()[-1][3].predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_is_a_task_of_one_epoch(cls):
    X, y = _data()
    recorder = Recorder()
    est = _make(cls, "sgd").set_callbacks(recorder)
    for _ in range(2):
        est.partial_fit(X, y, classes=np.unique(y))
    roots = [event[2] for event in recorder.calls("begin") if event[2].parent is None]
    assert len(roots) == 2 and all(root.max_subtasks == 1 for root in roots)
    assert len(recorder.epochs_run()) == 2
    assert len(recorder.calls("teardown")) == 2


def test_a_failed_fit_still_tears_callbacks_down():
    X, y = _data()
    recorder = Recorder()
    est = SoftmaxClassifier().set_callbacks(recorder).fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="at least 2 classes"):
        est.fit(X, np.zeros_like(y))
    assert len(recorder.calls("setup")) == len(recorder.calls("teardown")) == 2
    assert not hasattr(est, "_callback_fit_ctx")
    assert_allclose(est.coef_, coef)  # the failed fit left the model as it was


def test_warm_start_runs_up_to_max_iter_more_subtasks():
    X, y = _data()
    recorder = Recorder()
    est = _make(MLPBackprop, "adam", max_iter=3, warm_start=True)
    est.set_callbacks(recorder)
    _fit_quietly(est, X, y)
    _fit_quietly(est, X, y)
    roots = [event[2] for event in recorder.calls("begin") if event[2].parent is None]
    assert [len(root._children_map) for root in roots] == [3, 3]
    assert len(est.loss_curve_) == 6


# --- propagation from meta-estimators ----------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_callbacks_propagate_through_pipeline(cls, capsys):
    X, y = _data()
    recorder = Recorder()
    pipe = make_pipeline(StandardScaler(), _make(cls, "gd", max_iter=3))
    _fit_quietly(pipe.set_callbacks(recorder), X, y)

    _assert_balanced(recorder)  # set up and torn down once, by the pipeline
    epochs = recorder.epochs_run()
    assert len(epochs) == 3
    assert {event[1] for event in epochs} == {cls.__name__}
    pipeline_root = recorder.calls("begin")[0][2]
    assert pipeline_root.estimator_name == "Pipeline"
    assert all(event[2].root_uuid == pipeline_root.root_uuid for event in epochs)
    # the estimator's fit task is merged into the pipeline's step for it
    assert all(event[2].parent.parent is pipeline_root for event in epochs)
    assert all(event[2].parent.source_estimator_name == "Pipeline" for event in epochs)
    assert not hasattr(pipe[-1], "_skl_callbacks")  # removed after the fit

    _fit_quietly(
        make_pipeline(StandardScaler(), _make(cls, "gd", max_iter=3)).set_callbacks(
            ProgressBar(max_propagation_depth=None)
        ),
        X,
        y,
    )
    out = capsys.readouterr().out
    assert re.search(rf"Pipeline - .*\| {cls.__name__} - fit", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)


@pytest.mark.parametrize("solver", SOLVERS)
def test_callbacks_propagate_through_grid_search(solver, capsys):
    X, y = _data()
    recorder = Recorder()
    search = GridSearchCV(
        _make(MLPBackprop, solver, max_iter=3), {"alpha": [1e-4, 1e-2]}, cv=2
    )
    _fit_quietly(search.set_callbacks(recorder), X, y)

    _assert_balanced(recorder)
    ours = [
        event
        for event in recorder.calls("begin")
        if event[1] == "MLPBackprop" and event[2].task_name == "fit"
    ]
    assert len(ours) == 2 * 2 + 1  # every candidate on every fold, and the refit
    assert len(recorder.epochs_run()) == 5 * 3
    root_uuid = recorder.calls("begin")[0][2].root_uuid
    assert all(event[2].root_uuid == root_uuid for event in recorder.events[1:-1])

    _fit_quietly(
        clone(search).set_callbacks(ProgressBar(max_propagation_depth=None)), X, y
    )
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    assert re.search(r"\| MLPBackprop - fit", out)


def test_scoring_monitor_on_an_estimator_inside_grid_search():
    """A non-propagated callback set on the inner estimator logs every fit."""
    X, y = _data()
    monitor = ScoringMonitor(scoring="accuracy")
    est = _make(SoftmaxClassifier, "sgd", max_iter=4).set_callbacks(monitor)
    search = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2)
    _fit_quietly(search.set_callbacks(ProgressBar()), X, y)
    rows = monitor.get_logs().data
    assert {row["estimator_name"] for row in rows} == {"SoftmaxClassifier"}
    assert sum(row["task_name"] == "epoch" for row in rows) == 5 * 4


# --- verbose output stays MLPClassifier's --------------------------------------------


def _template(text):
    """The lines of verbose output with their numbers masked."""
    return [re.sub(r"\d+(\.\d+)?", "#", line) for line in text.splitlines()]


@pytest.mark.parametrize(
    "params",
    [dict(), dict(early_stopping=True), dict(tol=10.0, n_iter_no_change=2)],
    ids=["plain", "early_stopping", "converged"],
)
def test_verbose_output_is_mlpclassifiers(params, capsys):
    X, y = _data()
    shared = dict(
        hidden_layer_sizes=(8,), max_iter=6, random_state=0, verbose=True, **params
    )
    _fit_quietly(MLPClassifier(**shared), X, y)
    expected = capsys.readouterr().out
    est = MLPBackprop(**shared).set_callbacks(ScoringMonitor(scoring="accuracy"))
    _fit_quietly(est, X, y)
    out = capsys.readouterr().out

    assert _template(out) == _template(expected)
    losses = re.findall(r"^Iteration (\d+), loss = ([\d.]+)$", out, re.MULTILINE)
    assert [int(i) for i, _ in losses] == list(range(1, est.n_iter_ + 1))
    assert_allclose([float(v) for _, v in losses], est.loss_curve_, atol=1e-8)
    scores = re.findall(r"^Validation score: ([\d.]+)$", out, re.MULTILINE)
    if est.early_stopping:
        assert_allclose([float(s) for s in scores], est.validation_scores_, atol=1e-6)
    else:
        assert scores == []


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", [SoftmaxClassifier, LogisticRegressionGD])
def test_verbose_prints_one_line_per_epoch_with_callbacks_set(cls, solver, capsys):
    X, y = _data()
    est = _make(cls, solver, max_iter=4, verbose=1).set_callbacks(Recorder())
    _fit_quietly(est, X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Iteration {i}, loss = {loss:.8f}"
        for i, loss in enumerate(est.loss_curve_, start=1)
    ]


# --- without the callback API, without rich ------------------------------------


def test_no_mixin_without_the_callback_api(monkeypatch):
    monkeypatch.delattr(callback, "CallbackSupportMixin")
    assert callback_bases() == ()


def _run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_estimators_work_unchanged_without_the_callback_api():
    """scikit-learn < 1.9, simulated: sklearn.callback lacks CallbackSupportMixin."""
    out = _run_python("""
        import warnings
        from sklearn.datasets import load_iris
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import GridSearchCV
        from sklearn.utils.estimator_checks import check_estimator
        import sklearn.callback
        del sklearn.callback.CallbackSupportMixin  # before skbackprop is imported
        from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

        warnings.simplefilter("ignore", ConvergenceWarning)
        X, y = load_iris(return_X_y=True)
        for cls in (SoftmaxClassifier, LogisticRegressionGD, MLPBackprop):
            assert not hasattr(cls(), "set_callbacks"), cls
            for solver in ("gd", "sgd", "adam", "lbfgs"):
                est = cls(solver=solver, max_iter=5, random_state=0).fit(X, y)
                assert len(est.loss_curve_) == est.n_iter_ == 5
        GridSearchCV(SoftmaxClassifier(max_iter=5), {"alpha": [1e-4, 1e-2]}).fit(X, y)
        MLPBackprop(solver="sgd").partial_fit(X, y, classes=[0, 1, 2])
        check_estimator(SoftmaxClassifier())
        print("ok")
    """)
    assert out.strip() == "ok"


def test_estimators_work_without_rich():
    """Without rich, ProgressBar raises scikit-learn's ImportError; all else works."""
    out = _run_python("""
        import sys
        sys.modules["rich"] = None  # rich is not installed
        from sklearn.callback import ProgressBar, ScoringMonitor
        from sklearn.datasets import load_iris
        from skbackprop import MLPBackprop

        X, y = load_iris(return_X_y=True)
        monitor = ScoringMonitor(scoring="accuracy")
        est = MLPBackprop(max_iter=300, random_state=0).set_callbacks(monitor)
        est.fit(X / 8, y)
        assert len(monitor.get_logs().data) == est.n_iter_ + 1
        try:
            ProgressBar()
        except ImportError as exc:
            assert "rich" in str(exc)
            print("ok")
    """)
    assert out.strip() == "ok"


# --- the regressors: the same tasks, scored by R² ------------------------------------


def _make_regressor(cls, solver, **params):
    """A small, seeded regressor; MLPBackpropRegressor with a step fit for 'gd'."""
    if cls is MLPBackpropRegressor:
        params.setdefault("hidden_layer_sizes", (8,))
        params.setdefault("learning_rate_init", 0.01)
    return cls(solver=solver, batch_size=32, random_state=0, **params)


def _regression_data(n_targets=2):
    X, y = make_regression(
        n_samples=80, n_features=5, n_targets=n_targets, noise=0.5, random_state=0
    )
    return StandardScaler().fit_transform(X), y / np.std(y)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", REGRESSORS)
def test_regressors_run_one_task_per_epoch_scored_as_score(cls, solver):
    X, y = _regression_data()
    recorder = Recorder()
    monitor = ScoringMonitor(scoring="r2")
    est = _make_regressor(cls, solver, max_iter=4).set_callbacks(recorder, monitor)
    _fit_quietly(est, X, y)

    _assert_balanced(recorder)
    epochs = recorder.epochs_run()
    assert len(epochs) == est.n_iter_ == 4
    assert_allclose(epochs[-1][3].predict(X), est.predict(X))
    rows = [r for r in monitor.get_logs().data if r["task_name"] in EPOCH_TASKS]
    for k, row in enumerate(rows, start=1):
        at_k = _fit_quietly(_make_regressor(cls, solver, max_iter=k), X, y)
        assert row["r2"] == pytest.approx(at_k.score(X, y), rel=1e-12)


@pytest.mark.parametrize("cls", REGRESSORS)
def test_regressor_partial_fit_is_a_task_of_one_epoch(cls):
    X, y = _regression_data()
    recorder = Recorder()
    est = _make_regressor(cls, "sgd").set_callbacks(recorder)
    for _ in range(2):
        est.partial_fit(X, y)
    roots = [event[2] for event in recorder.calls("begin") if event[2].parent is None]
    assert len(roots) == 2 and all(root.max_subtasks == 1 for root in roots)
    assert len(recorder.epochs_run()) == 2


@pytest.mark.parametrize("cls", REGRESSORS)
def test_regressor_callbacks_propagate_through_pipeline(cls):
    X, y = _regression_data()
    recorder = Recorder()
    pipe = make_pipeline(StandardScaler(), _make_regressor(cls, "gd", max_iter=3))
    _fit_quietly(pipe.set_callbacks(recorder), X, y)
    _assert_balanced(recorder)
    epochs = recorder.epochs_run()
    assert len(epochs) == 3
    assert {event[1] for event in epochs} == {cls.__name__}
