"""The NumPy engine's BLAS thread policy and second thread for blocks of rows,
and the data scans of the step sizes (the L-BFGS scaling's column norms, the
SGD step's row norms) that read sparse X without copies."""

import threading
import time
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from threadpoolctl import ThreadpoolController, threadpool_limits

from skbackprop import MLPBackprop, SoftmaxClassifier
from skbackprop._engine import NumPyEngine
from skbackprop._engine import numpy as engine_module
from skbackprop._engine.threads import numpy_and_other_blas as _blas_of_numpy_and_others
from skbackprop._network import Objective
from skbackprop._step_size import column_rms as _column_rms
from skbackprop._step_size import row_norms2 as _row_norms2


def _sparse_with_empty_columns(fmt, scale=1.0):
    rng = np.random.default_rng(0)
    D = rng.standard_normal((40, 30)) * (rng.random((40, 30)) < 0.2) * scale
    D[:, [0, 7, 29]] = 0.0  # empty columns, first and last among them
    return sparse.csr_matrix(D).asformat(fmt), D


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("chunk_values", [1, 5, 64, 2**18])
def test_column_rms_of_sparse_x_matches_dense_in_any_chunking(fmt, chunk_values):
    # entries of 1e200: their squares overflow unless scaled first
    X, D = _sparse_with_empty_columns(fmt, scale=1e200)
    rms = _column_rms(X, chunk_values=chunk_values)
    assert_allclose(rms, _column_rms(D), rtol=1e-12)
    assert_allclose(rms / 1e200, np.sqrt(np.mean((D / 1e200) ** 2, axis=0)))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_column_rms_of_sparse_x_copies_no_more_than_a_chunk(fmt):
    X = sparse.random(2000, 100, density=0.5, format=fmt, random_state=0)
    tracemalloc.start()
    try:
        _column_rms(X, chunk_values=4096)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.data.nbytes / 4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_full_batch_wakes_no_blas_thread_for_a_sparse_linear_model(solver, monkeypatch):
    # its only BLAS calls are vector-sized: on 2 busy cores, threads woken for
    # them made the fit of a 40k x 20k CSR problem 3x slower. A dense X of this
    # shape (3000 x 20000 x 3 multiply-adds a product) gets the user's threads.
    rng = np.random.default_rng(0)
    X = sparse.random(3000, 20_000, density=1e-3, format="csr", random_state=rng)
    y = rng.integers(0, 3, 3000)
    threads = []
    call = Objective.__call__

    def spy(self, *args):
        blas = ThreadpoolController().select(user_api="blas")
        threads.append(max(lib["num_threads"] for lib in blas.info()))
        return call(self, *args)

    monkeypatch.setattr(Objective, "__call__", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        SoftmaxClassifier(solver=solver, max_iter=2).fit(X, y)
    assert threads and max(threads) == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_large_products_thread_numpys_blas_only(solver, monkeypatch):
    # products of 2000 x 500 x 200 multiply-adds take the user's threads; the
    # other BLAS (SciPy's, of the optimizer steps and L-BFGS-B) stays on one,
    # or the two pools' spinning threads fight over the cores
    numpys, others = _blas_of_numpy_and_others()
    if not others:
        pytest.skip("NumPy and SciPy share one BLAS library: nothing to keep apart")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2000, 500)), rng.integers(0, 3, 2000)
    seen = []
    call = Objective.__call__

    def spy(self, *args):
        blas = ThreadpoolController().select(user_api="blas")
        seen.append({lib["filepath"]: lib["num_threads"] for lib in blas.info()})
        return call(self, *args)

    monkeypatch.setattr(Objective, "__call__", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        MLPBackprop(
            hidden_layer_sizes=(200,), solver=solver, batch_size=2000, max_iter=2
        ).fit(X, y)
    assert seen
    for threads in seen:
        assert all(threads[path] == 2 for path in numpys)
        assert all(threads[path] == 1 for path in others)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_full_batch_by_blocks_keeps_one_blas_thread(monkeypatch):
    # 20000 x 100 x 100 multiply-adds for the whole batch would take threads;
    # evaluated by blocks of 1024 rows, each product is 20 times smaller
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20_000, 100)), rng.integers(0, 3, 20_000)
    threads = []
    call = Objective.__call__

    def spy(self, *args):
        assert self.block_rows(args[1], args[0].dtype) == 1024
        blas = ThreadpoolController().select(user_api="blas")
        threads.append(max(lib["num_threads"] for lib in blas.info()))
        return call(self, *args)

    monkeypatch.setattr(Objective, "__call__", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        MLPBackprop(hidden_layer_sizes=(100,), solver="lbfgs", max_iter=2).fit(X, y)
    assert threads and max(threads) == 1


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("chunk_values", [1, 5, 64, 2**16])
def test_row_norms_of_sparse_x_match_dense_in_any_chunking(fmt, chunk_values):
    X, D = _sparse_with_empty_columns(fmt)
    D[[3, 11]] = 0.0  # empty rows too
    X = sparse.csr_matrix(D).asformat(fmt)
    assert_allclose(
        _row_norms2(X, chunk_values=chunk_values), (D**2).sum(axis=1), rtol=1e-12
    )


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_row_norms_of_sparse_x_copy_no_more_than_a_chunk(fmt):
    # CSC too: its rows are read as the columns of X.T, without a CSR copy
    X = sparse.random(2000, 100, density=0.5, format=fmt, random_state=0)
    tracemalloc.start()
    try:
        norms = _row_norms2(X, chunk_values=4096)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.data.nbytes / 4
    assert_allclose(norms, (X.toarray() ** 2).sum(axis=1), rtol=1e-12)


def test_sgd_fit_on_sparse_x_copies_no_more_than_a_chunk():
    # the auto step's row norms used to square the whole of X
    rng = np.random.default_rng(0)
    X = sparse.random(20_000, 2_000, density=0.01, format="csr", random_state=rng)
    y = rng.integers(0, 2, 20_000)
    tracemalloc.start()
    try:
        SoftmaxClassifier(solver="sgd", max_iter=1, random_state=0).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * X.data.nbytes


def _blocked_problem(fmt, n=3000):
    rng = np.random.default_rng(0)
    X = sparse.random(n, 300, density=0.05, format="csr", random_state=rng)
    y = rng.integers(0, 3, n)
    return (X if fmt == "csr" else X.toarray()), y


def _record_block_threads(monkeypatch):
    """Shrink blocks to 400 rows; return the list of threads that sum blocks."""
    monkeypatch.setattr(engine_module, "BLOCK_BYTES", 1)
    monkeypatch.setattr(engine_module, "MIN_BLOCK_ROWS", 400)
    names = []
    sum_blocks = NumPyEngine._sum

    def spy(self, *args):
        names.append(threading.current_thread().name)
        # every thread computes under the fit's floating-point error handling
        assert np.geterr()["over"] == np.geterr()["invalid"] == "ignore"
        return sum_blocks(self, *args)

    monkeypatch.setattr(NumPyEngine, "_sum", spy)
    return names


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("make", "solver", "fmt", "limit", "shared"),
    [
        # SciPy's sparse kernels release the GIL: a second thread sums half
        # of the blocks
        (SoftmaxClassifier, "lbfgs", "csr", 2, True),
        # ... unless the user allows one thread
        (SoftmaxClassifier, "lbfgs", "csr", 1, False),
        # the searched step ('gd') keeps its memory: one thread
        (SoftmaxClassifier, "gd", "csr", 2, False),
        # dense blocks: BLAS products, and arrays that count against X
        (MLPBackprop, "lbfgs", "dense", 2, False),
    ],
)
def test_sparse_lbfgs_shares_its_blocks_with_a_second_thread(
    make, solver, fmt, limit, shared, monkeypatch
):
    X, y = _blocked_problem(fmt)
    names = _record_block_threads(monkeypatch)
    params = dict(solver=solver, max_iter=5, random_state=0)
    before = threading.active_count()
    with threadpool_limits(limits=limit, user_api="blas"):
        est = make(**params).fit(X, y)
    assert threading.active_count() == before  # the pool is gone with the fit
    assert "MainThread" in names
    assert (set(names) != {"MainThread"}) == shared
    if shared:
        # the same model as on one thread, up to the order of the sums
        with threadpool_limits(limits=1, user_api="blas"):
            alone = make(**params).fit(X, y)
        assert_allclose(est.coef_, alone.coef_, rtol=1e-9, atol=1e-12)
        # and, the halves being fixed, the same model to the bit every time
        with threadpool_limits(limits=limit, user_api="blas"):
            again = make(**params).fit(X, y)
        assert_array_equal(again.coef_, est.coef_)
        assert_array_equal(again.intercept_, est.intercept_)


def test_interrupt_while_the_second_thread_sums_blocks(monkeypatch):
    # Ctrl-C in the main thread's half: fit returns once the other thread is
    # done with its arrays, with the last complete iteration's model
    X, y = _blocked_problem("csr")
    _record_block_threads(monkeypatch)
    sum_blocks = NumPyEngine._sum
    calls = []

    def interrupted_in_main(self, *args):
        if threading.current_thread() is threading.main_thread():
            calls.append(1)
            if len(calls) == 4:
                raise KeyboardInterrupt
            return sum_blocks(self, *args)
        time.sleep(0.05)  # still summing when the main thread is interrupted
        return sum_blocks(self, *args)

    monkeypatch.setattr(NumPyEngine, "_sum", interrupted_in_main)
    before = threading.active_count()
    with threadpool_limits(limits=2, user_api="blas"):
        with pytest.warns(UserWarning, match="interrupted"):
            est = SoftmaxClassifier(solver="lbfgs", max_iter=50).fit(X, y)
    assert threading.active_count() == before
    assert est.n_iter_ >= 1 and np.isfinite(est.coef_).all()
