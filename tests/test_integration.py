"""The three estimators inside scikit-learn's tooling, and their input checks.

MLPBackprop runs with a small hidden layer and few iterations to keep this fast.
"""

import functools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # small matrices: BLAS threads only wait for cores on a busy machine
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _softmax(**params):
    return SoftmaxClassifier(**params)


def _logistic(**params):
    return LogisticRegressionGD(**params)


def _mlp(**params):
    params = {
        "hidden_layer_sizes": (5,),
        "max_iter": 100,
        "learning_rate_init": 0.02,
        "random_state": 0,
        **params,
    }
    return MLPBackprop(**params)


MAKERS = {"softmax": _softmax, "logistic": _logistic, "mlp": _mlp}
# two solvers per estimator for the grid search
GRID_SOLVERS = {
    "softmax": ["lbfgs", "gd"],
    "logistic": ["gd", "sgd"],
    "mlp": ["lbfgs", "adam"],
}


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(params=list(MAKERS))
def make(request):
    maker = functools.partial(MAKERS[request.param])
    maker.key = request.param
    return maker


# scikit-learn tooling -----------------------------------------------------


def test_pipeline_inside_grid_search(make):
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", make(random_state=0))])
    grid = {"clf__alpha": [1e-4, 1e-1], "clf__solver": GRID_SOLVERS[make.key]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert search.best_params_["clf__solver"] in GRID_SOLVERS[make.key]
    assert search.best_score_ == scores.max() > 0.8
    assert (
        search.best_estimator_.named_steps["clf"].alpha
        == search.best_params_["clf__alpha"]
    )
    assert search.score(X, y) > 0.8
    assert search.predict_proba(X).shape == (150, 3)


def test_cross_val_score(make):
    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(
        make_pipeline(StandardScaler(), make(random_state=0)), X, y, cv=5
    )
    assert scores.shape == (5,)
    assert scores.mean() > 0.8


def test_clone(make):
    X, y = _iris()
    est = make(alpha=0.5, random_state=3)
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    est.fit(X, y)
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "classes_") and not hasattr(fresh, "n_iter_")
    # same parameters and seed: the clone refits to the very same model
    assert_array_equal(fresh.fit(X, y).predict_proba(X), est.predict_proba(X))


def test_pickle_round_trip(make):
    X, y = _iris()
    est = make(random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.predict(X), est.predict(X))
    assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    assert restored.loss_curve_ == est.loss_curve_
    assert restored.get_params() == est.get_params()


def test_pickle_round_trip_continues_partial_fit(make):
    X, y = _iris()
    est = make(solver="sgd", random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    restored = pickle.loads(pickle.dumps(est))
    est.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_array_equal(restored.predict_proba(X), est.predict_proba(X))


# labels and DataFrames ----------------------------------------------------


def test_string_labels(make):
    X, y = _iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = make(random_state=0).fit(X, names)
    assert_array_equal(est.classes_, ["setosa", "versicolor", "virginica"])
    pred = est.predict(X)
    assert pred.dtype.kind in "UO" and set(pred) <= set(names)
    by_int = make(random_state=0).fit(X, y)
    assert_allclose(est.predict_proba(X), by_int.predict_proba(X))
    assert_array_equal(pred, est.classes_[by_int.predict(X)])
    assert est.score(X, names) == by_int.score(X, y)


def test_string_labels_binary(make):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :5]
    labels = np.array(["benign", "malignant"], dtype=object)[1 - y]
    est = make(random_state=0).fit(X, labels)
    assert_array_equal(est.classes_, ["benign", "malignant"])
    P = est.predict_proba(X)
    assert P.shape == (X.shape[0], 2)
    # the column of classes_[1] is the probability of "malignant"
    assert_array_equal(est.predict(X), np.where(P[:, 1] > 0.5, "malignant", "benign"))
    assert est.score(X, labels) > 0.85


def test_bool_labels(make):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :5]
    labels = y.astype(bool)
    est = make(random_state=0).fit(X, labels)
    assert_array_equal(est.classes_, [False, True])
    pred = est.predict(X)
    assert pred.dtype == bool
    assert_allclose(
        est.predict_proba(X), make(random_state=0).fit(X, y).predict_proba(X)
    )
    assert est.score(X, labels) > 0.85


def test_dataframe_input_sets_feature_names(make):
    pd = pytest.importorskip("pandas")
    X, y = _iris()
    columns = ["sepal length", "sepal width", "petal length", "petal width"]
    df = pd.DataFrame(X, columns=columns)
    est = make(random_state=0).fit(df, pd.Series(y))
    assert_array_equal(est.feature_names_in_, columns)
    assert est.n_features_in_ == 4
    # the same model; the frame's values arrive Fortran-ordered, and BLAS
    # kernels may round a product of that layout differently in the last
    # bits, which a fit of many iterations carries on (the searched 'gd' step
    # of 'auto' within its stopping test, max |gradient| <= tol)
    assert_allclose(
        est.predict_proba(df),
        make(random_state=0).fit(X, y).predict_proba(X),
        rtol=1e-6,
        atol=1e-12 if make.key != "logistic" else 1e-3,
    )
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df.rename(columns={"petal width": "something else"}))
    assert not hasattr(make().fit(X, y), "feature_names_in_")


# bad input: each a clear ValueError ---------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(make, bad):
    X, y = _iris()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        make().fit(X, y)
    est = make().fit(*_iris())
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.predict(X)


def test_single_class(make):
    X, y = _iris()
    X1, y1 = X[y == 1], y[y == 1]
    if make.key != "mlp":  # as LogisticRegression
        with pytest.raises(ValueError, match="class"):
            make().fit(X1, y1)
        return
    # as MLPClassifier: it fits, and predicts that class
    est = make().fit(X1, y1)
    assert_array_equal(est.classes_, [1])
    assert_array_equal(est.predict(X), 1)
    assert est.predict_proba(X).shape == (len(X), 2)


def test_empty_X(make):
    with pytest.raises(ValueError, match="sample"):
        make().fit(np.empty((0, 4)), np.array([], dtype=int))


def test_wrong_number_of_features_at_predict(make):
    X, y = _iris()
    est = make().fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba", "score"):
        args = (X[:, :3], y) if method == "score" else (X[:, :3],)
        with pytest.raises(ValueError, match="features"):
            getattr(est, method)(*args)


def test_all_zero_sample_weights(make):
    X, y = _iris()
    with pytest.raises(ValueError, match="zero"):
        make().fit(X, y, sample_weight=np.zeros(y.size))


def test_negative_sample_weights(make):
    X, y = _iris()
    sw = np.ones(y.size)
    sw[5] = -1.0
    with pytest.raises(ValueError, match="[Nn]egative"):
        make().fit(X, y, sample_weight=sw)


def test_zero_weight_on_all_but_one_class(make):
    X, y = _iris()
    if make.key == "mlp":  # as MLPClassifier, which accepts one class
        est = make().fit(X, y, sample_weight=(y == 2).astype(float))
        assert_array_equal(est.predict(X), 2)
        return
    with pytest.raises(ValueError, match="class"):
        make().fit(X, y, sample_weight=(y == 2).astype(float))


def test_unseen_label_in_partial_fit(make):
    X, y = _iris()
    est = make(solver="sgd", random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    P = est.predict_proba(X)
    y_new = y.copy()
    y_new[0] = 3
    with pytest.raises(ValueError, match="3"):
        est.partial_fit(X, y_new)
    assert_array_equal(est.classes_, [0, 1, 2])
    assert_array_equal(est.predict_proba(X), P)


def test_failed_fit_leaves_no_fitted_state(make):
    X, y = _iris()
    X[0, 0] = np.nan
    est = make()
    with pytest.raises(ValueError):
        est.fit(X, y)
    assert not hasattr(est, "classes_") and not hasattr(est, "n_features_in_")


def test_invalid_parameter(make):
    X, y = _iris()
    with pytest.raises(ValueError, match="alpha"):
        make(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        make(solver="newton").fit(X, y)


# the fitted attributes of the contract, for every estimator and solver ---------


@pytest.mark.parametrize("solver", ["lbfgs", "gd", "sgd", "adam"])
@pytest.mark.parametrize("kind", MAKERS)
def test_training_attributes_follow_the_contract(kind, solver):
    X, y = _iris()
    est = MAKERS[kind](solver=solver, max_iter=30, random_state=0).fit(X, y)
    assert est.n_features_in_ == 4
    assert_array_equal(est.classes_, [0, 1, 2])
    # one float per epoch, or per L-BFGS iteration
    assert len(est.loss_curve_) == est.n_iter_ > 0
    assert all(isinstance(v, float) and np.isfinite(v) for v in est.loss_curve_)
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    if solver == "lbfgs":
        # the objective at the solution: the last iteration's value
        assert est.loss_ == pytest.approx(est.loss_curve_[-1], rel=1e-12)
    else:
        # as MLPClassifier: the mean of the last epoch's batch losses
        assert est.loss_ == est.loss_curve_[-1]
        assert est.t_ == est.n_iter_ * X.shape[0]


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("kind", MAKERS)
def test_early_stopping_attributes_follow_the_contract(kind, solver):
    X, y = _iris()
    est = MAKERS[kind](
        solver=solver, early_stopping=True, max_iter=40, random_state=0
    ).fit(X, y)
    assert est.best_loss_ is None
    assert len(est.validation_scores_) == len(est.loss_curve_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert all(0.0 <= s <= 1.0 for s in est.validation_scores_)
