"""Property tests (hypothesis): the math and the estimators on generated data.

Shapes, dtypes, label types, sample weights and magnitudes from 1e-300 to
1e300 are drawn by hypothesis; example counts are bounded so that the whole
file runs in well under a minute.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier, gradients

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]
FAST = settings(max_examples=25, deadline=None)
FITS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Row sums of probabilities: the tolerance of each float type.
ROW_SUM_TOL = {np.float32: 1e-6, np.float64: 1e-12}


def _make(kind, solver, **params):
    """A small, fast estimator of ``kind`` with ``solver``."""
    params = {"max_iter": 8, "random_state": 0, **params}
    if kind == "mlp":
        params.setdefault("learning_rate_init", 0.01)
        return MLPBackprop(hidden_layer_sizes=(3,), solver=solver, **params)
    cls = SoftmaxClassifier if kind == "softmax" else LogisticRegressionGD
    return cls(solver=solver, **params)


ESTIMATORS = [(kind, s) for kind in ("softmax", "logistic", "mlp") for s in SOLVERS]


def _parameters(est):
    if isinstance(est, MLPBackprop):
        return [*est.coefs_, *est.intercepts_]
    return [est.coef_, est.intercept_]


# strategies -----------------------------------------------------------------

DTYPES = st.sampled_from([np.float32, np.float64])


def _finite(dtype, huge=1e300):
    """Finite values of ``dtype``: moderate, tiny (~1e-300) and huge (~1e300)."""
    width = 32 if dtype == np.float32 else 64
    top = min(huge, float(np.finfo(dtype).max) / 4)
    return st.one_of(
        st.floats(-10, 10, width=width),
        st.floats(-top, top, width=width),
        st.floats(-1e-300, 1e-300, width=width) if width == 64 else st.just(0.0),
    )


@st.composite
def score_matrices(draw, min_classes=2):
    """(S, Y, sample_weight): scores of any finite magnitude and one-hot targets."""
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 6))
    k = draw(st.integers(min_classes, 5))
    S = draw(hnp.arrays(dtype, (n, k), elements=_finite(dtype)))
    labels = draw(hnp.arrays(np.intp, n, elements=st.integers(0, k - 1)))
    Y = np.zeros((n, k), dtype=dtype)
    Y[np.arange(n), labels] = 1
    w = draw(st.none() | hnp.arrays(np.float64, n, elements=st.floats(0.1, 10)))
    return S, Y, w


def _moderate_scores(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-5, 5))


# gradients -------------------------------------------------------------------


@FAST
@given(score_matrices())
def test_gradient_outputs_are_finite_and_rows_sum_to_one(data):
    S, Y, w = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid warnings either
        P = gradients.softmax(S)
        log_P = gradients.log_softmax(S)
        loss, dS = gradients.softmax_cross_entropy(S, Y, sample_weight=w)
        p = gradients.sigmoid(S)
        bce, dz = gradients.binary_cross_entropy(S, Y, sample_weight=w)
    for out in (P, log_P, dS, p, dz):
        assert out.dtype == S.dtype and out.shape == S.shape
        assert np.isfinite(out).all()
    assert np.isfinite(loss) and loss >= 0
    assert np.isfinite(bce) and bce >= 0
    assert ((P >= 0) & (P <= 1)).all() and (log_P <= 0).all()
    assert ((p >= 0) & (p <= 1)).all()
    assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=ROW_SUM_TOL[S.dtype.type])


@FAST
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            _moderate_scores((n, 3)),
            hnp.arrays(np.float64, (n, 1), elements=st.floats(-1e3, 1e3)),
        )
    )
)
def test_adding_a_constant_to_each_row_changes_nothing(data):
    S, shift = data
    Y = np.eye(3)[np.arange(S.shape[0]) % 3]
    assert_allclose(gradients.softmax(S + shift), gradients.softmax(S), atol=1e-10)
    assert_allclose(
        gradients.log_softmax(S + shift), gradients.log_softmax(S), atol=1e-10
    )
    loss, dS = gradients.softmax_cross_entropy(S, Y)
    loss_shifted, dS_shifted = gradients.softmax_cross_entropy(S + shift, Y)
    assert loss_shifted == pytest.approx(loss, abs=1e-10)
    assert_allclose(dS_shifted, dS, atol=1e-10)


def _central_differences(f, S, eps=1e-6):
    G = np.empty_like(S)
    for idx in np.ndindex(S.shape):
        E = np.zeros_like(S)
        E[idx] = eps
        G[idx] = (f(S + E) - f(S - E)) / (2 * eps)
    return G


@FAST
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            _moderate_scores((n, 3)),
            hnp.arrays(np.intp, n, elements=st.integers(0, 2)),
            st.none() | hnp.arrays(np.float64, n, elements=st.floats(0.1, 10)),
        )
    )
)
def test_gradients_equal_finite_differences(data):
    S, labels, w = data
    Y = np.eye(3)[labels]
    _, dS = gradients.softmax_cross_entropy(S, Y, sample_weight=w)
    numeric = _central_differences(
        lambda T: gradients.softmax_cross_entropy(T, Y, sample_weight=w)[0], S
    )
    assert_allclose(dS, numeric, atol=1e-8)
    y = (labels > 0).astype(float)
    _, dz = gradients.binary_cross_entropy(S[:, 0], y, sample_weight=w)
    numeric = _central_differences(
        lambda z: gradients.binary_cross_entropy(z, y, sample_weight=w)[0], S[:, 0]
    )
    assert_allclose(dz, numeric, atol=1e-8)


@FAST
@given(score_matrices())
def test_binary_cross_entropy_is_the_two_class_softmax(data):
    S, Y, w = data
    z, y = S[:, 0], Y[:, 0]
    two_class = np.column_stack([np.zeros_like(z), z])
    loss, dS = gradients.softmax_cross_entropy(
        two_class, np.column_stack([1 - y, y]), sample_weight=w
    )
    bce, dz = gradients.binary_cross_entropy(z, y, sample_weight=w)
    # both are exact up to rounding of the scores' magnitude in their dtype
    eps = np.finfo(S.dtype).eps
    rounding = float(4 * eps * (1 + float(np.abs(z).max())))
    assert bce == pytest.approx(
        loss, rel=1e-5 if S.dtype == np.float32 else 1e-12, abs=rounding
    )
    tol = 1e-6 if S.dtype == np.float32 else 1e-12
    assert_allclose(dz, dS[:, 1], atol=tol)
    assert_allclose(-dz, dS[:, 0], atol=tol)


# estimators on generated data ------------------------------------------------


@st.composite
def datasets(draw):
    """(X, y, sample_weight, scale): every class present, values of any magnitude."""
    dtype = draw(DTYPES)
    n_classes = draw(st.integers(2, 4))
    n_samples = draw(st.integers(2 * n_classes, 24))
    n_features = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e30, 1e300]))
    unit = hnp.arrays(np.float64, (n_samples, n_features), elements=st.floats(-3, 3))
    X = draw(unit) * scale
    with np.errstate(over="ignore"):  # beyond float32's range: keep float64
        X = X.astype(dtype) if np.isfinite(X.astype(dtype)).all() else X
    y = np.arange(n_samples) % n_classes
    y = y[draw(st.permutations(range(n_samples)))]
    labels = draw(
        st.sampled_from(["int", "str", "float"] + (["bool"] if n_classes == 2 else []))
    )
    y = {
        "int": y * 3 - 2,
        "str": np.array(["cat", "dog", "eel", "fox"])[y],
        "float": y * 2.0,
        "bool": y.astype(bool),
    }[labels]
    w = draw(st.none() | hnp.arrays(np.float64, n_samples, elements=st.floats(0.5, 4)))
    return X, y, w, scale


def _check_outcome(est, X, y, w):
    """Fit succeeds cleanly or raises a clear ValueError; returns the outcome."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y, sample_weight=w)
        except ValueError as exc:
            message = str(exc)
            assert any(
                hint in message
                for hint in ("learning_rate_init", "tandardise", "alpha")
            ), message
            return "error"
        P = est.predict_proba(X)
        pred = est.predict(X)
    others = [c for c in caught if not issubclass(c.category, ConvergenceWarning)]
    assert not others, [str(c.message) for c in others]
    assert len(caught) <= 1  # no warning storm
    for param in _parameters(est):
        assert np.isfinite(param).all()
    dtype = X.dtype.type
    assert P.dtype == dtype
    assert np.isfinite(P).all()
    assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=ROW_SUM_TOL[dtype])
    assert np.isin(pred, np.unique(y)).all()
    return "fitted"


@pytest.mark.parametrize("kind, solver", ESTIMATORS)
@FITS
@given(data=datasets())
def test_fit_succeeds_cleanly_or_raises_a_clear_error(kind, solver, data):
    X, y, w, scale = data
    est = _make(kind, solver)
    outcome = _check_outcome(est, X, y, w)
    if outcome == "error":
        # data of order one (or tiny) always fits; only large features, too
        # large for the step size (fixed, or beyond the float range), may fail
        assert scale >= 1e8


def test_fit_outcome_on_ordinary_data_is_success():
    # the guard in the property above must not hide failures on sane data
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 3), np.arange(30) % 3
    for kind, solver in ESTIMATORS:
        assert _check_outcome(_make(kind, solver), X, y, None) == "fitted"


@st.composite
def ordinary_data(draw, n_classes=None):
    n_classes = n_classes or draw(st.integers(2, 3))
    n_samples = draw(st.integers(3 * n_classes, 20))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, 3)
    y = np.arange(n_samples) % n_classes
    perm = np.asarray(draw(st.permutations(range(n_samples))))
    return X, y, perm, rng.uniform(0.5, 2, n_samples)


@pytest.mark.parametrize(
    "kind, solver", [e for e in ESTIMATORS if e[1] in ("lbfgs", "gd")]
)
@settings(max_examples=8, deadline=None)
@given(data=ordinary_data())
def test_predictions_do_not_depend_on_the_order_of_training_rows(kind, solver, data):
    X, y, perm, w = data
    # tol=0: 'gd' runs all its epochs, whatever the order of the rows
    params = {"tol": 0.0, "max_iter": 15}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = _make(kind, solver, **params).fit(X, y, sample_weight=w)
        b = _make(kind, solver, **params).fit(X[perm], y[perm], sample_weight=w[perm])
    # the order changes only the rounding of the sums over samples; 15 L-BFGS
    # iterations on a network (not convex) can grow it to ~3e-8 in probability
    # (seen on a 2-class draw with probabilities near 1e-5)
    atol = 1e-6 if (kind, solver) == ("mlp", "lbfgs") else 1e-9
    assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-6, atol=atol)


@pytest.mark.parametrize("kind, solver", ESTIMATORS)
@settings(max_examples=6, deadline=None)
@given(data=ordinary_data(), factor=st.sampled_from([1e-3, 0.5, 3.0, 1e4]))
def test_scaling_sample_weight_by_a_constant_changes_nothing(
    kind, solver, data, factor
):
    X, y, _, w = data
    # MLPBackprop penalises with alpha / sum(w), as MLPClassifier: only its data
    # term is invariant to the scale of the weights, so compare it with alpha=0.
    params = {"alpha": 0.0} if kind == "mlp" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = _make(kind, solver, **params).fit(X, y, sample_weight=w)
        b = _make(kind, solver, **params).fit(X, y, sample_weight=w * factor)
    assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-6, atol=1e-9)
    assert_array_equal(b.predict(X), a.predict(X))


def _frozen(a):
    a = a.copy()
    (a.data if sparse.issparse(a) else a).flags.writeable = False
    return a


@pytest.mark.parametrize("kind, solver", ESTIMATORS)
@settings(max_examples=4, deadline=None)
@given(
    data=ordinary_data(n_classes=3),
    layout=st.sampled_from(["C", "F", "float32", "csr", "csc"]),
)
def test_input_arrays_are_never_modified(kind, solver, data, layout):
    X, y, _, w = data
    X = {
        "C": np.ascontiguousarray(X),
        "F": np.asfortranarray(X),
        "float32": X.astype(np.float32),
        "csr": sparse.csr_matrix(X),
        "csc": sparse.csc_matrix(X),
    }[layout]
    # read-only inputs: an in-place write anywhere raises
    X_in, y_in, w_in = _frozen(X), _frozen(y), _frozen(w)
    est = _make(kind, solver, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_in, y_in, sample_weight=w_in)
        if solver != "lbfgs":
            est.partial_fit(X_in, y_in, sample_weight=w_in)
    est.predict(X_in), est.predict_proba(X_in), est.score(X_in, y_in, w_in)
    if hasattr(est, "decision_function"):
        est.decision_function(X_in)
    dense = X_in.toarray() if sparse.issparse(X_in) else X_in
    assert_array_equal(dense, X.toarray() if sparse.issparse(X) else X)
    assert_array_equal(y_in, y)
    assert_array_equal(w_in, w)
