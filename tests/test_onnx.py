"""ONNX export: onnxruntime reproduces predict and predict_proba.

Labels must equal ``predict`` exactly and probabilities / predictions be within
1e-5 of ``predict_proba`` / ``predict`` on float32 input. The multilabel and
regression graphs are checked on estimators whose fitted attributes are copied
from scikit-learn's own models, so that the reference is independent of ours,
and the regressors also on their own fits.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")

import skl2onnx  # noqa: E402

import skbackprop.onnx  # noqa: E402, F401 (registers the converters)
from skbackprop import (  # noqa: E402
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _run(model, X, options=None):
    """Convert ``model``, run it with onnxruntime; outputs by name."""
    onx = skl2onnx.to_onnx(model, X[:1], options=options)
    session = rt.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    values = session.run(None, {session.get_inputs()[0].name: X})
    return dict(zip(names, values, strict=True)), onx


def _matrix_options(model):
    """Ask for probabilities as a matrix instead of skl2onnx's list of dicts."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return {id(last): {"zipmap": False}}


def _data(n_classes, labels=None, n_samples=120, n_features=6, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        n_classes=n_classes,
        random_state=seed,
    )
    X = (X * 3 + 1).astype(np.float32)  # off-centre, so the Pipeline's scaler matters
    if labels is not None:
        y = np.asarray(labels)[y]
    return X, y


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _assert_classifier_matches(model, X):
    out, _ = _run(model, X, _matrix_options(model))
    np.testing.assert_array_equal(out["label"], model.predict(X))
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), atol=1e-5)


CLASSIFIERS = [
    pytest.param(SoftmaxClassifier(), id="SoftmaxClassifier"),
    pytest.param(
        SoftmaxClassifier(solver="gd", max_iter=50), id="SoftmaxClassifier-gd"
    ),
    pytest.param(LogisticRegressionGD(max_iter=200), id="LogisticRegressionGD"),
    *[
        pytest.param(
            MLPBackprop(hidden_layer_sizes=(7, 5), activation=a, random_state=0),
            id=f"MLPBackprop-{a}",
        )
        for a in ACTIVATIONS
    ],
    pytest.param(MLPBackprop(hidden_layer_sizes=(), random_state=0), id="MLP-linear"),
]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("estimator", CLASSIFIERS)
def test_classifier_outputs_match(estimator, n_classes, in_pipeline):
    X, y = _data(n_classes)
    model = make_pipeline(StandardScaler(), estimator) if in_pipeline else estimator
    _fit(model, X, y)
    _assert_classifier_matches(model, X)


@pytest.mark.parametrize(
    "estimator",
    [SoftmaxClassifier(), LogisticRegressionGD(), MLPBackprop(random_state=0)],
    ids=lambda est: type(est).__name__,
)
@pytest.mark.parametrize("labels", [["no", "yes"], ["ant", "bee", "cat"]])
def test_string_labels(estimator, labels):
    X, y = _data(len(labels), labels)
    model = _fit(make_pipeline(StandardScaler(), estimator), X, y)
    out, _ = _run(model, X, _matrix_options(model))
    assert out["label"].dtype.kind in "OU"
    np.testing.assert_array_equal(out["label"], model.predict(X))


def test_default_outputs_are_those_of_the_scikit_learn_peers():
    X, y = _data(3)
    ours = _fit(MLPBackprop(random_state=0), X, y)
    theirs = _fit(MLPClassifier(random_state=0), X, y)
    our_out, _ = _run(ours, X)
    their_out, _ = _run(theirs, X)
    assert list(our_out) == list(their_out) == ["output_label", "output_probability"]
    np.testing.assert_array_equal(our_out["output_label"], ours.predict(X))
    assert our_out["output_probability"][0].keys() == {0, 1, 2}
    P = np.array(
        [[row[c] for c in ours.classes_] for row in our_out["output_probability"]]
    )
    np.testing.assert_allclose(P, ours.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize(
    "estimator",
    [SoftmaxClassifier(), LogisticRegressionGD(), MLPBackprop(random_state=0)],
    ids=lambda est: type(est).__name__,
)
def test_a_float64_fit_exports_to_float32(estimator):
    X, y = _data(3)
    model = _fit(make_pipeline(StandardScaler(), estimator), X.astype(np.float64), y)
    _assert_classifier_matches(model, X)


def test_float64_input_gives_a_float64_graph():
    X, y = _data(3)
    X = X.astype(np.float64)
    model = _fit(SoftmaxClassifier(), X, y)
    out, _ = _run(model, X, _matrix_options(model))
    assert out["probabilities"].dtype == np.float64
    np.testing.assert_array_equal(out["label"], model.predict(X))
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), atol=1e-12)


# multilabel: fitted attributes copied from scikit-learn's multilabel models ----
def _multilabel_data():
    X, Y = make_multilabel_classification(
        n_samples=100, n_features=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), Y


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_multilabel_mlp(activation):
    X, Y = _multilabel_data()
    reference = _fit(
        MLPClassifier(hidden_layer_sizes=(6,), activation=activation, random_state=0),
        X,
        Y,
    )
    ours = MLPBackprop(hidden_layer_sizes=(6,), activation=activation)
    ours.coefs_, ours.intercepts_ = reference.coefs_, reference.intercepts_
    ours.out_activation_ = "logistic"
    ours.classes_ = np.arange(Y.shape[1])
    ours.n_features_in_ = X.shape[1]
    ours._label_type = "multilabel-indicator"
    out, onx = _run(ours, X, _matrix_options(ours))
    np.testing.assert_array_equal(out["label"], reference.predict(X))
    np.testing.assert_allclose(
        out["probabilities"], reference.predict_proba(X), atol=1e-5
    )
    label_shape = onx.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in label_shape][1:] == [Y.shape[1]]


def test_multilabel_logistic_regression_in_a_pipeline():
    X, Y = _multilabel_data()
    scaler = StandardScaler().fit(X)
    reference = MultiOutputClassifier(LogisticRegression()).fit(scaler.transform(X), Y)
    ours = LogisticRegressionGD()
    ours.coef_ = np.vstack([e.coef_ for e in reference.estimators_])
    ours.intercept_ = np.concatenate([e.intercept_ for e in reference.estimators_])
    ours.classes_ = np.arange(Y.shape[1])
    ours.n_features_in_ = X.shape[1]
    ours._label_type = "multilabel-indicator"
    model = make_pipeline(scaler, ours)
    out, _ = _run(model, X, _matrix_options(model))
    Xs = scaler.transform(X)
    expected = np.column_stack(
        [e.predict_proba(Xs)[:, 1] for e in reference.estimators_]
    )
    np.testing.assert_array_equal(out["label"], reference.predict(Xs))
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)


# regression ---------------------------------------------------------------------
def _regression_data(n_targets):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5)).astype(np.float32)
    Y = X[:, :3] @ rng.normal(size=(3, max(n_targets, 1))) + 0.1 * rng.normal(
        size=(80, 1)
    )
    return X, (Y[:, 0] if n_targets == 0 else Y)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [0, 1, 3], ids=["1-D y", "y (n, 1)", "y (n, 3)"])
def test_linear_regression(n_targets, fit_intercept):
    X, y = _regression_data(n_targets)
    reference = Ridge(alpha=1.0, fit_intercept=fit_intercept).fit(X, y)
    ours = LinearRegressionGD()
    ours.coef_, ours.intercept_ = reference.coef_, reference.intercept_
    ours.n_features_in_ = X.shape[1]
    out, _ = _run(ours, X)
    expected = reference.predict(X).reshape(len(X), -1)
    np.testing.assert_allclose(out["variable"], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_mlp_regression_in_a_pipeline(loss, activation):
    X, y = _regression_data(0)
    if loss == "poisson":
        y = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, 0]))
    reference = _fit(
        make_pipeline(
            StandardScaler(),
            MLPRegressor(
                loss=loss,
                hidden_layer_sizes=(6,),
                activation=activation,
                random_state=0,
            ),
        ),
        X,
        y,
    )
    mlp = reference[-1]
    ours = MLPBackpropRegressor()
    ours.coefs_, ours.intercepts_ = mlp.coefs_, mlp.intercepts_
    ours.activation, ours.out_activation_ = activation, mlp.out_activation_
    ours.n_features_in_ = X.shape[1]
    out, _ = _run(make_pipeline(reference[0], ours), X)
    assert mlp.out_activation_ == ("exp" if loss == "poisson" else "identity")
    np.testing.assert_allclose(
        out["variable"][:, 0], reference.predict(X), rtol=1e-5, atol=1e-5
    )


def test_multi_output_mlp_regression():
    X, Y = _regression_data(3)
    reference = _fit(MLPRegressor(hidden_layer_sizes=(8,), random_state=0), X, Y)
    ours = MLPBackpropRegressor()
    ours.coefs_, ours.intercepts_ = reference.coefs_, reference.intercepts_
    ours.activation, ours.out_activation_ = "relu", "identity"
    ours.n_features_in_ = X.shape[1]
    out, onx = _run(ours, X)
    np.testing.assert_allclose(
        out["variable"], reference.predict(X), rtol=1e-5, atol=1e-5
    )
    dims = onx.graph.output[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == 3


@pytest.mark.parametrize("n_targets", [0, 1, 3], ids=["1-D y", "y (n, 1)", "y (n, 3)"])
@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_fitted_linear_regression(n_targets, solver):
    X, y = _regression_data(n_targets)
    ours = _fit(LinearRegressionGD(solver=solver, random_state=0), X, y)
    out, _ = _run(ours, X)
    expected = ours.predict(X).reshape(len(X), -1)
    np.testing.assert_allclose(out["variable"], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_fitted_mlp_regression_in_a_pipeline(loss, activation):
    X, Y = _regression_data(2)
    if loss == "poisson":
        Y = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, :2]))
    model = _fit(
        make_pipeline(
            StandardScaler(),
            MLPBackpropRegressor(
                loss=loss,
                hidden_layer_sizes=(6,),
                activation=activation,
                random_state=0,
            ),
        ),
        X,
        Y,
    )
    out, _ = _run(model, X)
    np.testing.assert_allclose(out["variable"], model.predict(X), rtol=1e-5, atol=1e-5)
