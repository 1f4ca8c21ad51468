"""LossCurveDisplay: scikit-learn's Display conventions, checked on the figure."""

import builtins
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skbackprop import (  # noqa: E402
    LogisticRegressionGD,
    LossCurveDisplay,
    MLPBackprop,
    SoftmaxClassifier,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _fitted(estimator, iris):
    return estimator.fit(*iris)


@pytest.mark.parametrize(
    "estimator",
    [
        SoftmaxClassifier(),
        SoftmaxClassifier(solver="gd", max_iter=20),
        LogisticRegressionGD(solver="adam", max_iter=20, random_state=0),
        MLPBackprop((5,), solver="sgd", max_iter=20, random_state=0),
    ],
    ids=["softmax-lbfgs", "softmax-gd", "logistic-adam", "mlp-sgd"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_plotted_data_is_the_loss_curve(estimator, iris):
    est = _fitted(estimator, iris)
    disp = LossCurveDisplay.from_estimator(est)
    x, y = disp.line_.get_data()
    np.testing.assert_array_equal(y, est.loss_curve_)
    np.testing.assert_array_equal(x, np.arange(1, len(est.loss_curve_) + 1))
    assert disp.line_ in disp.ax_.get_lines()
    assert disp.figure_ is disp.ax_.figure
    assert disp.validation_ax_ is None and disp.validation_line_ is None
    assert type(est).__name__ in disp.line_.get_label()
    assert disp.ax_.get_legend() is not None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_validation_scores_on_a_second_axis(iris):
    est = MLPBackprop(
        (5,),
        solver="gd",
        learning_rate_init=0.1,
        early_stopping=True,
        max_iter=30,
        random_state=0,
    ).fit(*iris)
    disp = LossCurveDisplay.from_estimator(est)
    np.testing.assert_array_equal(disp.line_.get_ydata(), est.loss_curve_)
    np.testing.assert_array_equal(
        disp.validation_line_.get_ydata(), est.validation_scores_
    )
    # a twin axis: same x axis, its own y axis
    assert disp.validation_ax_ is not disp.ax_
    assert disp.validation_line_ in disp.validation_ax_.get_lines()
    assert disp.validation_line_ not in disp.ax_.get_lines()
    assert disp.validation_ax_.get_shared_x_axes().joined(disp.ax_, disp.validation_ax_)
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert len(legend) == 2


def test_constructor_only_stores_data():
    curve, scores = [3.0, 2.0, 1.5], [0.5, 0.7, 0.8]
    disp = LossCurveDisplay(
        loss_curve=curve, validation_scores=scores, estimator_name="net"
    )
    assert disp.loss_curve is curve and disp.validation_scores is scores
    assert not hasattr(disp, "ax_") and not hasattr(disp, "line_")
    assert plt.get_fignums() == []
    assert disp.plot() is disp
    assert disp.line_.get_label() == "net training loss"
    assert disp.plot(name="other").line_.get_label() == "other training loss"


def test_ax_is_passed_through_and_shared(iris):
    fig, ax = plt.subplots()
    curves = {}
    for solver in ("lbfgs", "gd"):
        est = SoftmaxClassifier(solver=solver).fit(*iris)
        disp = LossCurveDisplay.from_estimator(est, ax=ax, name=solver)
        assert disp.ax_ is ax and disp.figure_ is fig
        curves[solver] = est.loss_curve_
    assert [line.get_label() for line in ax.get_lines()] == [
        "lbfgs training loss",
        "gd training loss",
    ]
    for line, solver in zip(ax.get_lines(), curves, strict=False):
        np.testing.assert_array_equal(line.get_ydata(), curves[solver])
    # the legend lists both curves, not just the last one
    assert len(ax.get_legend().get_texts()) == 2


def test_line_keywords(iris):
    est = SoftmaxClassifier().fit(*iris)
    disp = LossCurveDisplay.from_estimator(
        est, loss_kw={"color": "black", "label": "mine"}
    )
    assert disp.line_.get_color() == "black"
    assert disp.line_.get_label() == "mine"


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(SoftmaxClassifier())


def test_fitted_without_loss_curve_raises(iris):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(AttributeError, match="loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(*iris))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_is_plotted_through_its_final_step(iris):
    pipe = make_pipeline(
        StandardScaler(),
        MLPBackprop(
            (5,), solver="sgd", early_stopping=True, max_iter=15, random_state=0
        ),
    ).fit(*iris)
    mlp = pipe[-1]
    disp = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(disp.line_.get_ydata(), mlp.loss_curve_)
    np.testing.assert_array_equal(
        disp.validation_line_.get_ydata(), mlp.validation_scores_
    )
    assert disp.line_.get_label() == "MLPBackprop training loss"
    # a nested Pipeline too
    outer = Pipeline([("prep", StandardScaler()), ("inner", pipe)])
    disp = LossCurveDisplay.from_estimator(outer, name="nested")
    np.testing.assert_array_equal(disp.line_.get_ydata(), mlp.loss_curve_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_whose_final_step_has_no_loss_curve_names_the_step(iris):
    from sklearn.linear_model import LogisticRegression

    pipe = Pipeline(
        [("scale", StandardScaler()), ("logreg", LogisticRegression())]
    ).fit(*iris)
    with pytest.raises(AttributeError) as excinfo:
        LossCurveDisplay.from_estimator(pipe)
    message = str(excinfo.value)
    assert "final step 'logreg' (LogisticRegression)" in message
    assert "loss_curve_" in message
    with pytest.raises(AttributeError, match="'outer' -> 'logreg'"):
        LossCurveDisplay.from_estimator(Pipeline([("outer", pipe)]))
    lbfgs = make_pipeline(MLPClassifier((3,), solver="lbfgs", max_iter=500))
    with pytest.raises(AttributeError, match=r"'mlpclassifier' \(MLPClassifier\)"):
        LossCurveDisplay.from_estimator(lbfgs.fit(*iris))


def test_unfitted_pipeline_raises_not_fitted():
    with pytest.raises(NotFittedError, match="MLPBackprop"):
        LossCurveDisplay.from_estimator(make_pipeline(StandardScaler(), MLPBackprop()))


@pytest.fixture
def no_matplotlib(monkeypatch):
    """Make every ``import matplotlib...`` fail, as if it were not installed."""
    for module in list(sys.modules):
        if module == "matplotlib" or module.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, module)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_clear_import_error_without_matplotlib(no_matplotlib, iris):
    est = SoftmaxClassifier().fit(*iris)
    with pytest.raises(ImportError, match="needs matplotlib"):
        LossCurveDisplay.from_estimator(est)
    with pytest.raises(ImportError, match="pip install"):
        LossCurveDisplay(loss_curve=[1.0]).plot()


def test_import_error_via_sys_modules(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib"):
        LossCurveDisplay(loss_curve=[1.0]).plot()
