"""Dense products by pieces for OpenBLAS's small-matrix kernels give the
products taken whole, and are cut only where the BLAS has those kernels."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackprop, SoftmaxClassifier, _network
from skbackprop._engine import NumPyEngine
from skbackprop._engine import blas as _blas
from skbackprop._engine.blas import (
    SINGLE_THREAD_BELOW,
    SMALL_KERNEL_SIZE,
    _pieces,
    product,
)
from skbackprop._outputs import Softmax
from skbackprop._params import Layout

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)


@pytest.fixture
def small_kernels(monkeypatch):
    """Products are cut into pieces whatever BLAS runs the tests."""
    monkeypatch.setattr(_blas, "small_kernels", lambda: True)


@pytest.fixture
def whole(monkeypatch):
    """Products are taken whole whatever BLAS runs the tests."""
    monkeypatch.setattr(_blas, "small_kernels", lambda: False)


@pytest.fixture
def calls(monkeypatch):
    """The ``(A, B, C, add)`` of every BLAS call :func:`product` makes."""
    made = []
    whole_product = _blas._whole_product

    def record(A, B, C, add):
        made.append((A.shape, B.shape, C.shape, add))
        whole_product(A, B, C, add)

    monkeypatch.setattr(_blas, "_whole_product", record)
    return made


@pytest.mark.parametrize(
    "n_rows, per_row, dtype, rows",
    [
        (200, 100 * 100, F64, [100, 100]),  # a batch of the MLP of issue 8
        (200, 100 * 100, F32, [100, 100]),
        (201, 100 * 100, F64, [67, 67, 67]),  # as even as can be
        (1024, 100 * 10, F64, [512, 512]),  # a block of a linear model
        (1797, 64 * 10, F32, [899, 898]),
        (200, 150 * 150, F64, [40] * 5),
        (200, 150 * 150, F32, None),  # pieces of 40 rows: too few for float32
        (200, 784 * 100, F64, None),  # pieces of 12 rows: too few
        (200, 100 * 50, F64, None),  # 10**6 multiply-adds: small already
        (200, 100 * 10, F64, None),
        (20, 10**6, F64, None),  # one row is past the size
        (10**5, 100 * 10, F64, None),  # 10**8: BLAS threads may take it
        (200, 100 * 100, np.dtype(np.int64), None),  # no BLAS
    ],
)
def test_pieces_fit_the_small_kernels(n_rows, per_row, dtype, rows):
    pieces = _pieces(n_rows, per_row, dtype)
    if rows is None:
        assert pieces is None
        return
    assert [p.stop - p.start for p in pieces] == rows
    # consecutive, covering every row once, each within the kernels' size
    assert pieces[0].start == 0 and pieces[-1].stop == n_rows
    assert all(a.stop == b.start for a, b in zip(pieces[:-1], pieces[1:], strict=True))
    assert all((p.stop - p.start) * per_row <= SMALL_KERNEL_SIZE for p in pieces)
    assert n_rows * per_row < SINGLE_THREAD_BELOW


def _assert_close(actual, expected):
    """Equal up to the rounding of sums of 100 to 200 terms in ``actual``'s
    dtype (relative to the largest entry: small ones are cancellations)."""
    eps = np.finfo(actual.dtype).eps
    scale = np.abs(expected).max()
    assert_allclose(actual, expected, rtol=100 * eps, atol=100 * eps * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("add", [False, True])
def test_forward_product_by_pieces_of_rows(dtype, add, small_kernels, calls):
    # Z (+)= A @ W: pieces of A's rows give the same rows of Z
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 100)).astype(dtype)
    W = rng.standard_normal((100, 100)).astype(dtype)
    C = rng.standard_normal((200, 100)).astype(dtype)
    expected = A.astype(np.float64) @ W + (C if add else 0)
    product(A, W, C, add=add)
    _assert_close(C, expected)
    assert calls == [((100, 100), (100, 100), (100, 100), add)] * 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("add", [False, True])
def test_weight_gradient_by_pieces_of_the_sum(dtype, add, small_kernels, calls):
    # dW (+)= A_prev.T @ dZ: the batch's rows are the sum's terms, so the
    # pieces' products are added up; the first overwrites unless adding
    rng = np.random.default_rng(1)
    A_prev = rng.standard_normal((200, 100)).astype(dtype)
    dZ = rng.standard_normal((200, 100)).astype(dtype)
    dW = np.full((100, 100), np.nan if not add else 1.0, dtype=dtype)
    expected = A_prev.T.astype(np.float64) @ dZ + (1.0 if add else 0.0)
    product(A_prev.T, dZ, dW, add=add)
    _assert_close(dW, expected)
    assert calls == [
        ((100, 100), (100, 100), (100, 100), add),
        ((100, 100), (100, 100), (100, 100), True),
    ]


def test_fortran_ordered_x_is_cut_along_the_sum(small_kernels, calls):
    # a Fortran-ordered X (a DataFrame's values) times W: pieces of X's
    # columns and W's rows, added up
    rng = np.random.default_rng(7)
    X = np.asfortranarray(rng.standard_normal((1797, 64)))
    W = rng.standard_normal((64, 10))
    Z = np.full((1797, 10), np.nan)
    product(X, W, Z)
    _assert_close(Z, X @ W)
    assert calls == [
        ((1797, 32), (32, 10), (1797, 10), False),
        ((1797, 32), (32, 10), (1797, 10), True),
    ]


def test_products_stay_whole_without_small_kernels(whole, calls):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((200, 100))
    W = rng.standard_normal((100, 100))
    C = np.empty((200, 100))
    product(A, W, C)
    product(A.T, C, W, add=True)
    assert calls == [
        ((200, 100), (100, 100), (200, 100), False),
        ((100, 200), (200, 100), (100, 100), True),
    ]


def test_products_of_other_layouts_stay_whole(small_kernels, calls):
    # neither C- nor Fortran-contiguous: one call, as before
    rng = np.random.default_rng(3)
    A = rng.standard_normal((200, 200))[:, ::2]
    W = rng.standard_normal((100, 100))
    C = np.empty((200, 100))
    product(A, W, C)
    assert_allclose(C, A @ W, rtol=1e-12)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "info, expected",
    [
        ([("openblas", "SkylakeX")], True),
        ([("openblas", "SkylakeX"), ("openblas", "Cooperlake")], True),
        ([("openblas", "SapphireRapids")], True),
        ([("openblas", "Haswell")], False),
        ([("openblas", "SkylakeX"), ("openblas", "Haswell")], False),
        ([("openblas", "SkylakeX"), ("mkl", None)], False),
        ([("openblas", None)], False),
        ([], False),
    ],
)
def test_small_kernels_where_every_blas_is_openblas_on_an_avx512_core(
    info, expected, monkeypatch
):
    libs = [
        {"user_api": "blas", "internal_api": api, "architecture": core}
        for api, core in info
    ]
    libs.append({"user_api": "openmp", "internal_api": "openmp", "architecture": None})
    monkeypatch.setattr(_blas, "threadpool_info", lambda: libs)
    _blas.small_kernels.cache_clear()
    try:
        assert _blas.small_kernels() is expected
    finally:
        _blas.small_kernels.cache_clear()


def _objective_at(units, n, dtype, seed=4):
    rng = np.random.default_rng(seed)
    layout = Layout(units)
    theta = (0.1 * rng.standard_normal(layout.size)).astype(dtype)
    X = rng.standard_normal((n, units[0])).astype(dtype)
    T = rng.integers(units[-1], size=n).astype(np.uint8)
    grad = np.full_like(theta, np.nan)
    objective = _network.Objective(
        layout, "relu", Softmax(units[-1]), 1e-3, True, NumPyEngine()
    )
    loss = objective(theta, X, T, None, grad)
    return loss, grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "units, n",
    [
        ([100, 100, 10], 200),  # a mini-batch: both large products cut in two
        ([64, 10], 1797),  # a linear model's full batch
        ([100, 100, 10], 3000),  # a full batch by blocks of rows, each cut
    ],
)
def test_objective_by_pieces_equals_whole_products(dtype, units, n, monkeypatch, calls):
    results, n_calls = [], []
    for cut in (False, True):
        monkeypatch.setattr(_blas, "small_kernels", lambda cut=cut: cut)
        calls.clear()
        results.append(_objective_at(units, n, dtype))
        n_calls.append(len(calls))
    assert n_calls[1] > n_calls[0]  # the pieces were products of their own
    (loss, grad), (loss_cut, grad_cut) = results
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss_cut == pytest.approx(loss, rel=rtol)
    assert_allclose(grad_cut, grad, rtol=rtol, atol=rtol * np.abs(grad).max())


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_mlp_fit_by_pieces_repeats_to_the_bit(solver, monkeypatch, calls):
    # the pieces depend on shapes only: two fits give the same bits, and are
    # the fit of whole products up to rounding
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1200, 100))
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)
    params = dict(
        hidden_layer_sizes=(100,),
        solver=solver,
        batch_size=200,
        max_iter=5,
        random_state=0,
    )
    monkeypatch.setattr(_blas, "small_kernels", lambda: True)
    first = _fit(MLPBackprop(**params), X, y)
    # forward pieces: fewer rows than a batch (200) or a block (1024, 176)
    assert any(A[1] == 100 and A[0] < 176 for A, *_ in calls)
    second = _fit(MLPBackprop(**params), X, y)
    for a, b in zip(
        first.coefs_ + first.intercepts_,
        second.coefs_ + second.intercepts_,
        strict=True,
    ):
        assert_array_equal(a, b)
    monkeypatch.setattr(_blas, "small_kernels", lambda: False)
    reference = _fit(MLPBackprop(**params), X, y)
    assert first.loss_ == pytest.approx(reference.loss_, rel=1e-9)
    assert_allclose(
        first.predict_proba(X), reference.predict_proba(X), rtol=1e-6, atol=1e-12
    )


def test_linear_fit_by_pieces_reaches_the_same_optimum(monkeypatch, calls):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((1500, 100))
    y = rng.integers(0, 20, size=1500)
    params = dict(solver="lbfgs", max_iter=1000, tol=1e-10)
    monkeypatch.setattr(_blas, "small_kernels", lambda: True)
    cut = _fit(SoftmaxClassifier(**params), X, y)
    assert ((500, 100), (100, 20), (500, 20), True) in calls  # bias, then X W
    monkeypatch.setattr(_blas, "small_kernels", lambda: False)
    whole = _fit(SoftmaxClassifier(**params), X, y)
    assert_allclose(cut.coef_, whole.coef_, rtol=1e-5, atol=1e-8)
    assert_allclose(cut.intercept_, whole.intercept_, rtol=1e-5, atol=1e-8)
