"""The NumPy engine's allocation-free paths (workspaces, in-place products, gathered
rows, blocks of rows) give the same numbers, and fits stay within their memory."""

import tracemalloc
import warnings
from concurrent import futures

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackprop, SoftmaxClassifier, _network, gradients
from skbackprop._engine import NumPyEngine
from skbackprop._engine import numpy as engine_module
from skbackprop._engine.blas import add_product
from skbackprop._engine.numpy import _product
from skbackprop._engine.sparse import CSRRows, add_sparse_product, sparse_adds_in_place
from skbackprop._network import forward
from skbackprop._outputs import OUTPUTS
from skbackprop._params import Layout
from skbackprop._targets import encode_targets


def _rows(A, batch, engine, name):
    return engine.rows(A, batch, name)


def _scores(dtype, n=50, k=4, seed=0):
    rng = np.random.default_rng(seed)
    S = (10 * rng.standard_normal((n, k))).astype(dtype)
    Y = np.eye(k, dtype=dtype)[rng.integers(k, size=n)]
    w = rng.uniform(0.1, 2.0, n)
    return S, Y, w


def _peak_fit_bytes(est, X, y):
    """Peak bytes allocated while ``est`` is fitted (tracemalloc)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tracemalloc.start()
        try:
            est.fit(X, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_loss_into_the_scores_equals_the_public_formula(dtype, weighted):
    # training writes dS over the scores S, with class indices for Y
    S, Y, w = _scores(dtype)
    w = w if weighted else None
    loss, dS = gradients.softmax_cross_entropy(S, Y, w)
    engine = NumPyEngine()
    S_copy = S.copy()
    Y_engine = engine.one_hot(Y.argmax(axis=1).astype(np.uint8), S_copy)
    loss_in, dS_in = gradients.softmax_loss(S_copy, Y_engine, w, engine, out=S_copy)
    assert dS_in is S_copy and dS_in.dtype == dtype
    # the row sums round differently (BLAS against np.sum), which p - 1 for p
    # near 1 shows in float32
    rtol, atol = (1e-6, 1e-8) if dtype == np.float32 else (1e-13, 1e-17)
    assert_allclose(dS_in, dS, rtol=rtol, atol=atol)
    assert loss_in == pytest.approx(loss, rel=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(40,), (40, 3)])
def test_logistic_loss_into_the_scores_equals_the_public_formula(dtype, shape):
    rng = np.random.default_rng(1)
    z = (5 * rng.standard_normal(shape)).astype(dtype)
    y = (rng.uniform(size=shape) < 0.5).astype(dtype)
    loss, dz = gradients.binary_cross_entropy(z, y)
    z_copy = z.copy()
    loss_in, dz_in = gradients.logistic_loss(z_copy, y, None, NumPyEngine(), out=z_copy)
    assert dz_in is z_copy and dz_in.dtype == dtype
    assert_array_equal(dz_in, dz)
    assert loss_in == loss


def test_softmax_loss_in_place_is_stable():
    S = np.array([[1e300, 0.0, -1e300], [-1e300, 1e300, 0.0]])
    y = np.array([0, 2], dtype=np.uint8)
    engine = NumPyEngine()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dS = gradients.softmax_cross_entropy(S.copy(), y)
        loss_in, dS_in = gradients.softmax_loss(
            S, engine.one_hot(y, S), None, engine, S
        )
    assert np.isfinite(loss) and loss == loss_in
    assert_allclose(loss, 1e300 / 2)
    assert_array_equal(dS, dS_in)


def test_rows_gathers_into_a_reused_buffer():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    buffers = NumPyEngine()
    order = rng.permutation(30)
    first = _rows(X, order[:10], buffers, "X")
    assert_array_equal(first, X[order[:10]])
    second = _rows(X, order[10:20], buffers, "X")
    assert second is first  # the same buffer, refilled
    assert_array_equal(second, X[order[10:20]])
    # a slice is a view; None stays None
    assert np.shares_memory(_rows(X, slice(0, 10), buffers, "X"), X)
    assert _rows(None, order[:10], buffers, "w") is None


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_rows_of_csr_are_gathered_into_reused_arrays(index_dtype):
    # SciPy's X[rows] makes a new matrix per mini-batch; the rows are copied
    # into arrays kept between batches instead, which the kernels read
    rng = np.random.default_rng(3)
    A = sparse.random(300, 2000, density=0.05, random_state=rng).toarray()
    A[4] = 0  # an empty row
    X = sparse.csr_matrix(A)
    X.indptr, X.indices = X.indptr.astype(index_dtype), X.indices.astype(index_dtype)
    buffers, order = NumPyEngine(), rng.permutation(300)
    W = rng.standard_normal((2000, 3))
    batches = [order[:50], np.array([4, 4, 0, 299]), order[50:100]]
    gathered = []
    for rows in [*batches, *batches]:
        block = _rows(X, rows, buffers, "X")
        assert isinstance(block, CSRRows) and block.shape == (rows.size, 2000)
        Z, G = np.zeros((rows.size, 3)), np.zeros((2000, 3))
        add_sparse_product(block, W, Z)
        add_sparse_product(block.T, Z, G)
        assert_allclose(Z, X[rows] @ W, rtol=1e-12)
        assert_allclose(G, X[rows].T @ Z, rtol=1e-12)
        gathered.append(block.data)
    # once grown to the largest batch, the values' array is reused as it is
    assert all(data is gathered[2] for data in gathered[3:])
    tracemalloc.start()
    try:
        for rows in batches:
            _rows(X, rows, buffers, "X")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X[order[:50]].data.nbytes
    # a slice reads X's own arrays; CSC (no such kernel for rows) is indexed
    assert _rows(X, slice(10, 60), buffers, "X").data is X.data
    assert sparse.issparse(_rows(X.tocsc(), order[:5], buffers, "X"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [7, 20_000])  # a batch; more than batch-sized
def test_row_max_any_layout(dtype, n_rows):
    # batches take the maximum of a transposed copy, large arrays argmax and a
    # gather by flat index; C, Fortran and strided inputs give the same maxima
    rng = np.random.default_rng(2)
    S = rng.standard_normal((n_rows, 5)).astype(dtype)
    S[3, 1] = np.nan  # a NaN row gives NaN
    wide = np.zeros((n_rows, 10), dtype=dtype)
    wide[:, ::2] = S
    row_max = NumPyEngine().row_max
    for A in (S, np.asfortranarray(S), wide[:, ::2], S[::-1]):
        assert_array_equal(row_max(A), A.max(axis=-1, keepdims=True))
    assert np.isnan(row_max(S)[3, 0])
    # the scores are left alone and the cached row starts cannot be written
    assert_array_equal(S, wide[:, ::2])
    assert not engine_module._row_starts((7, 5)).flags.writeable


def test_row_max_of_a_full_batch_block_copies_no_scores():
    # a block of a full batch (1638 x 20 scores: a quarter MB) takes argmax
    # and a gather; a transposed copy would add a block to a fit's peak
    S = np.random.default_rng(0).standard_normal((1638, 20))
    tracemalloc.start()
    try:
        maxima = NumPyEngine().row_max(S)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_array_equal(maxima, S.max(axis=1, keepdims=True))
    assert peak < 0.25 * S.nbytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_softmax_loss_class_indices_equal_one_hot(dtype, weighted, layout):
    # training passes class indices instead of a one-hot matrix; the result,
    # written into a buffer of either memory layout, must be the same
    S, Y, w = _scores(dtype)
    w = w if weighted else None
    loss, dS = gradients.softmax_cross_entropy(S, Y, w)
    engine = NumPyEngine()
    out = np.empty_like(S, order=layout)
    Y_engine = engine.one_hot(Y.argmax(axis=1), S)
    loss_idx, dS_idx = gradients.softmax_loss(S, Y_engine, w, engine, out=out)
    assert dS_idx is out and dS_idx.dtype == dtype
    # float32: an F-ordered buffer changes the rounding of the row sums by an
    # ulp, which p - 1 for p near 1 shows (here 3e-9 on entries of ~1e-5)
    atol = 1e-8 if dtype == np.float32 else 1e-17
    assert_allclose(dS_idx, dS, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=atol)
    assert loss_idx == pytest.approx(loss, rel=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("labels", [[0, 4], [-1, 0], [3, 5]])
def test_softmax_cross_entropy_rejects_class_indices_out_of_range(labels):
    with pytest.raises(ValueError, match=r"Class indices must lie in \[0, 4\)"):
        gradients.softmax_cross_entropy(np.zeros((2, 4)), labels)


def test_softmax_cross_entropy_rejects_fractional_class_indices():
    with pytest.raises(ValueError, match="must be integers; got float64"):
        gradients.softmax_cross_entropy(np.zeros((2, 4)), [0.5, 1.0])


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "sgd"])
def test_fit_allocates_little_besides_x(solver):
    # no copy of X and no one-hot matrix of the targets: a full-batch fit holds
    # the scores (n x classes: 1/10 of X here) and a few per-sample vectors
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 100))
    y = rng.integers(0, 10, 20_000)
    est = SoftmaxClassifier(solver=solver, max_iter=2, random_state=0)
    peak = _peak_fit_bytes(est, X, y)
    assert peak < 0.2 * X.nbytes


def test_row_starts_cached_for_batches_only():
    # a batch's row starts are reused; a full batch's are not kept after use
    batch, full = (200, 10), (100_000, 10)
    row_starts = engine_module._row_starts
    assert row_starts(batch) is row_starts(batch)
    assert row_starts(full) is not row_starts(full)
    assert_array_equal(row_starts(full)[:3], [0, 10, 20])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_add_product_adds_the_product_in_place(dtype, order):
    rng = np.random.default_rng(3)
    A = np.asarray(rng.standard_normal((7, 5)), dtype=dtype, order=order)
    B = rng.standard_normal((5, 3)).astype(dtype)
    C = np.asarray(rng.standard_normal((7, 3)), dtype=dtype, order=order)
    expected = C + A @ B
    add_product(A, B, C)  # returns nothing: C itself must hold the sum
    assert_allclose(C, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_add_sparse_product_adds_the_product_in_place(dtype, fmt, index_dtype):
    rng = np.random.default_rng(5)
    A = sparse.random(30, 12, density=0.3, format=fmt, random_state=rng, dtype=dtype)
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    B = rng.standard_normal((12, 4)).astype(dtype)
    C = rng.standard_normal((30, 4)).astype(dtype)
    expected = C + A.toarray() @ B
    assert sparse_adds_in_place(A, B, C)
    add_sparse_product(A, B, C)  # returns nothing: C itself must hold the sum
    assert_allclose(C, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # the transpose (CSC of a CSR, and back), as the backward pass uses it
    D = np.zeros((12, 4), dtype=dtype)
    add_sparse_product(A.T, C, D)
    assert_allclose(D, A.toarray().T @ C, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_sparse_product_falls_back_where_the_kernel_does_not_apply():
    # mixed dtypes or a strided output: the public product, same values
    rng = np.random.default_rng(6)
    A = sparse.random(20, 8, density=0.4, format="csr", random_state=rng)
    B = rng.standard_normal((8, 3))
    expected = A.toarray() @ B
    A32 = A.astype(np.float32)
    out = np.empty((20, 3))
    assert not sparse_adds_in_place(A32, B, out)
    _product(A32, B, out)
    assert_allclose(out, A32.toarray().astype(np.float64) @ B, rtol=1e-6)
    wide = np.full((20, 6), np.nan)
    strided = wide[:, ::2]
    assert not sparse_adds_in_place(A, B, strided)
    _product(A, B, strided)
    assert_allclose(strided, expected, rtol=1e-12)
    assert_array_equal(wide[:, 1::2], np.nan)  # nothing written beside it
    # where the kernel applies, _product overwrites whatever out held
    out[...] = np.nan
    _product(A, B, out)
    assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("fused_bias", [True, False])
def test_forward_with_reused_buffers_equals_plain_products(
    dtype, dense, fused_bias, monkeypatch
):
    if not fused_bias:  # every product counts as large: np.dot, then += b
        monkeypatch.setattr(engine_module, "SINGLE_THREAD_BELOW", 0)
    rng = np.random.default_rng(4)
    layout = Layout([6, 5, 4, 3])
    theta = rng.standard_normal(layout.size).astype(dtype)
    layers = layout.views(theta)
    X = rng.standard_normal((9, 6)).astype(dtype)
    # the plain formula, written out: Z = A W + b, A = relu(Z)
    A = X
    for i, (W, b) in enumerate(layers):
        Z = A @ W + b
        A = np.maximum(Z, 0) if i < len(layers) - 1 else Z
    engine = NumPyEngine()
    X_in = X if dense else sparse.csr_matrix(X)
    for _ in range(2):  # the second call reuses the first one's arrays
        S = forward(layers, X_in, "relu", engine)[-1]
        assert_allclose(S, A, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert S is engine.workspaces("Z", 9, [5, 4, 3], S.dtype)[-1]


def test_layout_packs_all_weights_first():
    layout = Layout([3, 2, 4])
    theta = np.arange(layout.size, dtype=float)
    (W1, b1), (W2, b2) = layout.views(theta)
    weights = layout.weights(theta)
    assert weights.size == W1.size + W2.size == layout.n_weights
    assert np.shares_memory(weights, theta)
    assert_array_equal(weights, np.concatenate([W1.ravel(), W2.ravel()]))
    assert_array_equal(theta[layout.n_weights :], np.concatenate([b1, b2]))


@pytest.mark.parametrize(("solver", "vectors"), [("sgd", 9), ("adam", 12), ("gd", 5)])
def test_sparse_fit_holds_few_parameter_sized_arrays(solver, vectors):
    # 20k features x 20 classes: each parameter-sized array is 3.2 MB, more
    # than all the batch arrays together. A fit holds theta and its gradient;
    # SGD and Adam their state (velocity; two moments and a work array) and
    # the last complete epoch's copy of theta and of that state (the Ctrl-C
    # rule: the model and optimizer of a fit with max_iter=k); the searched
    # 'gd' step its last point (which is the restore point) and gradient. The
    # 'auto' step adds the iterate in standardised coordinates, and for SGD and
    # Adam the epoch's sums of iterates and gradients and the last epoch's mean
    # gradient (skbackprop._converging). The sparse
    # products add into the gradient, and the fitted attributes are copied out
    # once the training's own arrays are gone.
    rng = np.random.default_rng(0)
    X = sparse.random(2000, 20_000, density=0.005, format="csr", random_state=rng)
    y = rng.integers(0, 20, 2000)
    param_bytes = (20_000 + 1) * 20 * 8
    est = SoftmaxClassifier(solver=solver, max_iter=2, random_state=0)
    peak = _peak_fit_bytes(est, X, y)
    assert peak < (vectors + 0.5) * param_bytes


def test_sparse_lbfgs_fit_holds_few_vectors_beside_lbfgsb():
    # SciPy's L-BFGS-B holds some 40 parameter-sized float64 vectors of its
    # own (its history and work arrays, bounds, copies of points): measured
    # here on a bare run. Beside those, a fit of unscaled features holds
    # theta, its gradient, the point it evaluates, the second thread's
    # gradient, the float64 gradient handed to L-BFGS-B and the last complete
    # iteration's theta (the Ctrl-C rule); no vector of ones for a change of
    # variables that changes nothing, and no copy of each point
    rng = np.random.default_rng(0)
    X = sparse.random(2000, 20_000, density=0.005, format="csr", random_state=rng)
    y = rng.integers(0, 20, 2000)
    n_params = (20_000 + 1) * 20
    param_bytes = n_params * 8

    def quadratic(x):
        return 0.5 * float(x @ x), x.copy()

    tracemalloc.start()
    try:
        scipy.optimize.minimize(
            quadratic,
            np.full(n_params, 0.01),
            method="L-BFGS-B",
            jac=True,
            options={"maxiter": 2},
        )
        bare = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = SoftmaxClassifier(solver="lbfgs", max_iter=2)
    assert _peak_fit_bytes(est, X, y) < bare + 6 * param_bytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("units", "output", "fit_intercept"),
    [
        ([6, 5, 4, 3], "softmax", True),  # an MLP
        ([6, 4], "logistic", True),  # one-vs-rest units
        ([6, 1], "logistic", False),  # binary, no intercept
    ],
)
@pytest.mark.parametrize("weights", [None, "positive", "zero block"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_objective_by_blocks_of_rows_equals_the_whole_batch(
    dtype, units, output, fit_intercept, weights, fmt, monkeypatch
):
    # a full batch larger than a block is evaluated block by block, each
    # block's mean counted with its share of the weight: loss and gradient
    # are those of the whole batch (CSR blocks: SciPy's kernels reading X's
    # own arrays from the block's first row on)
    rng = np.random.default_rng(7)
    n = 50
    layout = Layout(units, fit_intercept=fit_intercept)
    theta = (0.5 * rng.standard_normal(layout.size)).astype(dtype)
    X = rng.standard_normal((n, units[0])).astype(dtype)
    X[rng.uniform(size=X.shape) < 0.5] = 0
    X[20] = 0  # an empty row
    if fmt == "csr":
        X = sparse.csr_matrix(X)
    if output == "softmax":
        T = rng.integers(units[-1], size=n)
    else:
        T = (rng.uniform(size=(n, units[-1])) < 0.5).astype(dtype)
    w = None if weights is None else rng.uniform(0.1, 2.0, n)
    if weights == "zero block":
        w[7:14] = 0  # the second block of 7 rows weighs nothing
    results = []
    # whole; blocks of 7 rows (the last of 1); the same blocks, the second half
    # summed by a thread of a pool, twice
    for min_rows, threaded in [(n, False), (7, False), (7, True), (7, True)]:
        monkeypatch.setattr(engine_module, "MIN_BLOCK_ROWS", min_rows)
        monkeypatch.setattr(engine_module, "BLOCK_BYTES", 1)
        engine = NumPyEngine()
        unit = OUTPUTS[output](max(units[-1], 2))
        objective = _network.Objective(layout, "tanh", unit, 1e-2, True, engine)
        assert objective.block_rows(X, theta.dtype) == min_rows
        grad = np.full_like(theta, np.nan)  # every entry must be written
        with futures.ThreadPoolExecutor(1) as pool:
            if threaded:  # what the engine's L-BFGS run sets up
                engine._pool, engine._twin = pool, NumPyEngine()
            loss = objective(theta, X, T, w, grad)
        results.append((loss, grad))
        if fmt == "csr":  # other sparse formats and dtypes: the whole batch
            assert objective.block_rows(X.tocsc(), theta.dtype) == n
            other = np.float32 if dtype == np.float64 else np.float64
            assert objective.block_rows(X.astype(other), theta.dtype) == n
    (loss, grad), *blocked = results
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for loss_blocks, grad_blocks in blocked:
        assert loss_blocks == pytest.approx(loss, rel=rtol)
        assert_allclose(grad_blocks, grad, rtol=rtol, atol=rtol * np.abs(grad).max())
    # the halves are fixed: a threaded evaluation repeats to the bit
    assert blocked[1][0] == blocked[2][0]
    assert_array_equal(blocked[1][1], blocked[2][1])


def test_full_batch_mlp_fit_holds_blocks_not_activations():
    # MLPClassifier's full-batch L-BFGS holds activations and their gradients
    # for every sample (more than twice X here); by blocks of rows, a fit
    # holds ~3 MB of them whatever n_samples is, beside L-BFGS's own ~2 MB
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 100))
    y = rng.integers(0, 10, 20_000)
    est = MLPBackprop(solver="lbfgs", max_iter=3, random_state=0)
    peak = _peak_fit_bytes(est, X, y)
    assert peak < 0.75 * X.nbytes


def test_csr_rows_read_the_matrix_in_place():
    rng = np.random.default_rng(8)
    X = sparse.random(40, 9, density=0.3, format="csr", random_state=rng)
    block = CSRRows.block(X, 11, 30)
    assert block.shape == (19, 9) and block.T.shape == (9, 19)
    assert block.data is X.data and block.indices is X.indices
    assert np.shares_memory(block.indptr, X.indptr)
    W, D = rng.standard_normal((9, 2)), rng.standard_normal((19, 2))
    Z, G = np.zeros((19, 2)), np.zeros((9, 2))
    add_sparse_product(block, W, Z)
    add_sparse_product(block.T, D, G)
    assert_allclose(Z, X[11:30] @ W, rtol=1e-12)
    assert_allclose(G, X[11:30].T @ D, rtol=1e-12)


@pytest.mark.parametrize(
    ("n_classes", "dtype"), [(2, np.uint8), (256, np.uint8), (257, np.uint16)]
)
def test_labels_are_encoded_in_the_smallest_unsigned_dtype(n_classes, dtype):
    # one byte a label for up to 256 classes: intp labels took 0.7 % of the
    # memory a sparse fit may use beside X and its parameters
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat(np.arange(n_classes) * 3 - 7, 2))
    est = SoftmaxClassifier()
    y_enc = encode_targets(est, y, None, incremental=False, continuing=False)
    assert y_enc.dtype == dtype
    assert_array_equal(est.classes_[y_enc], y)
    # the loss reads them as class indices, with rows past the dtype's range
    X = rng.standard_normal((y.size, 3))
    objective = est._objective(X, NumPyEngine())
    T = objective.output.targets(y_enc, X.dtype)
    theta = rng.standard_normal(objective.layout.size)
    grads = np.empty((2, theta.size))
    losses = [
        objective(theta, X, t, None, g)
        for t, g in zip((T, y_enc.astype(np.intp)), grads, strict=True)
    ]
    assert T.dtype == dtype and losses[0] == losses[1]
    assert_array_equal(grads[0], grads[1])


class _RecordingRandomState(np.random.RandomState):
    """Records the dtype of every array it shuffles."""

    def __init__(self, seed):
        super().__init__(seed)
        self.shuffled = []

    def shuffle(self, x):
        self.shuffled.append(x.dtype)
        super().shuffle(x)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("shuffle", [False, True])  # CSR rows in place; gathered
@pytest.mark.parametrize("Est", [SoftmaxClassifier, MLPBackprop])
def test_csr_mini_batches_give_the_dense_model(Est, shuffle):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    X[rng.random(X.shape) < 0.6] = 0
    y = rng.integers(0, 3, 300)
    params = dict(solver="sgd", batch_size=32, shuffle=shuffle, max_iter=5)
    dense = Est(random_state=0, **params).fit(X, y)
    csr = Est(random_state=0, **params).fit(sparse.csr_matrix(X), y)
    assert_allclose(csr.predict_proba(X), dense.predict_proba(X), atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_shuffled_order_takes_the_index_dtype_of_the_gather(fmt):
    # CSR rows are gathered with X's own index dtype (int32 here: half the
    # memory of an intp order); np.take casts anything but intp per batch
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = rng.integers(0, 3, 300)
    X = sparse.csr_matrix(X) if fmt == "csr" else X
    random_state = _RecordingRandomState(0)
    SoftmaxClassifier(solver="sgd", max_iter=2, random_state=random_state).fit(X, y)
    expected = X.indptr.dtype if fmt == "csr" else np.intp
    assert random_state.shuffled == [np.dtype(expected)] * 2
    # the same permutations either way: a CSR fit is the dense fit
    dense = SoftmaxClassifier(solver="sgd", max_iter=2, random_state=0)
    sparse_fit = SoftmaxClassifier(solver="sgd", max_iter=2, random_state=0)
    dense.fit(X.toarray() if fmt == "csr" else X, y)
    sparse_fit.fit(sparse.csr_matrix(X), y)
    assert_allclose(sparse_fit.coef_, dense.coef_, rtol=1e-10, atol=1e-12)


def test_label_encoding_holds_two_label_sized_arrays_at_most():
    # a sorted copy and the indices; np.unique(return_inverse=True) held five
    # (6.4 MB for these labels: 20 % of a float32 X of 160k x 50)
    y = np.random.default_rng(0).integers(0, 2, 160_000)
    est = SoftmaxClassifier()
    tracemalloc.start()
    try:
        y_enc = encode_targets(est, y, None, incremental=False, continuing=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_array_equal(est.classes_, [0, 1])
    assert_array_equal(y_enc, y)
    assert peak < 2.5 * y.nbytes
