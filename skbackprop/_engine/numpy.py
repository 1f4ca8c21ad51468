"""The NumPy/SciPy engine: everything that exists for speed or memory.

The math (:mod:`skbackprop.gradients`, :mod:`skbackprop._network`) asks an
engine for scratch arrays, products and a few row-wise and element-wise
operations, and knows nothing else about it. This engine

* keeps **workspaces**: arrays named by the math, reused from batch to batch;
  a shorter batch (the last of an epoch, the last block of a full batch)
  takes the first rows of a longer one's arrays;
* runs dense products on BLAS in place (a bias is copied into the output and
  the product added by ``gemm`` with ``beta = 1``), by pieces where the BLAS
  has small-matrix kernels (:mod:`.blas`), and sparse products on SciPy's
  kernels into existing arrays (:mod:`.sparse`);
* gathers mini-batch rows into reused arrays, cuts full batches into blocks
  of rows, and may sum half of a sparse full batch's blocks on a second
  thread;
* sets the BLAS thread policy (:mod:`.threads`).

Element-wise operations write into ``out`` if given, else over their argument,
and return the result (the math never reads an overwritten argument again);
the reference engine returns new arrays.
"""

import contextlib
import functools
import math
from concurrent import futures

import numpy as np
from scipy import sparse
from scipy.special import expit, xlogy

from . import threads
from ._mixins import OnHost
from .blas import SINGLE_THREAD_BELOW, axpy, product, scale
from .sparse import (
    CSRRows,
    add_sparse_product,
    csr_rows_apply,
    gather_csr_rows,
    sparse_adds_in_place,
)

# a full batch is evaluated over blocks whose arrays take about this many
# bytes, of at least this many rows (fewer would spend more on call overhead)
BLOCK_BYTES = 2**18
MIN_BLOCK_ROWS = 1024
# scores of up to this many entries are copied for a faster row maximum (a
# mini-batch's); a full batch's block is not, to keep it off the peak memory
_COPIED_UP_TO = 2**14
# index arrays are cached for arrays of up to this many entries (batch-sized)
_BATCH_SIZED_UP_TO = 2**16


@functools.lru_cache(maxsize=16)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones: row and column sums are BLAS products
    with it, faster than ``np.sum`` over a short axis."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _row_starts(shape):
    """Flat index of the first entry of each row of an array of ``shape``,
    of shape ``(n_rows,)``, read-only; cached for batch-sized arrays."""
    if math.prod(shape) <= _BATCH_SIZED_UP_TO:
        return _cached_row_starts(shape)
    return _cached_row_starts.__wrapped__(shape)


@functools.lru_cache(maxsize=16)
def _cached_row_starts(shape):
    starts = np.arange(0, math.prod(shape), shape[-1])
    starts.flags.writeable = False
    return starts


class NumPyEngine(OnHost):
    """Runs the math on NumPy and SciPy arrays (dense, CSR or CSC ``X``).

    One engine per fit: it owns that fit's workspaces, and the second thread
    of a sparse full batch while :meth:`lbfgs_threads` holds it.
    """

    def __init__(self):
        self._arrays = {}
        self._gathered = {}  # CSR rows of mini-batches
        self._views = {}
        self._pool = None
        self._twin = None

    # workspaces ------------------------------------------------------------
    def workspace(self, name, shape, dtype):
        """A reusable array of ``shape`` (contents undefined)."""
        out = self._arrays.get((name, shape))
        if out is not None and out.dtype == dtype:
            return out
        out = self._arrays[(name, shape)] = self._first_rows(
            name, shape[0], [shape[1:]], dtype
        )[0]
        return out

    def workspaces(self, name, n_rows, widths, dtype):
        """One reusable ``(n_rows, width)`` array per entry of ``widths`` (one
        look-up for all the layers of a batch)."""
        out = self._arrays.get((name, n_rows))
        if out is not None and (not out or out[0].dtype == dtype):
            return out
        out = self._arrays[(name, n_rows)] = self._first_rows(
            name, n_rows, [(width,) for width in widths], dtype
        )
        return out

    def _first_rows(self, name, n_rows, trailing_shapes, dtype):
        """The first rows of ``name``'s arrays if they are longer, else new ones."""
        for (key, _), longer in self._arrays.items():
            arrays = longer if isinstance(longer, list) else [longer]
            if (
                key == name
                and arrays
                and arrays[0].shape[0] > n_rows
                and [a.shape[1:] for a in arrays] == trailing_shapes
                and all(a.dtype == dtype for a in arrays)
            ):
                return [a[:n_rows] for a in arrays]
        return [np.empty((n_rows, *shape), dtype=dtype) for shape in trailing_shapes]

    def _constant(self, name, shape, dtype, value):
        out = self._arrays.get((name, shape))
        if out is None or out.dtype != dtype:
            out = self.workspace(name, shape, dtype)
            out.fill(value)
        return out

    def views(self, layout):
        """A function ``flat -> layout.views(flat)`` that keeps the views of
        the last two vectors: training passes the same parameter and gradient
        vectors on every batch."""
        recent = self._views

        def views(flat):
            entry = recent.get(id(flat))
            if entry is None or entry[0] is not flat:
                if len(recent) >= 2:
                    recent.clear()
                entry = recent[id(flat)] = (flat, layout.views(flat))
            return entry[1]

        return views

    # products --------------------------------------------------------------
    def affine(self, A, W, b, out):
        """``out = A @ W + b`` (``b`` may be None); dense or sparse ``A``."""
        if b is not None and _adds_in_place(A, W, out):
            np.copyto(out, b)  # the product adds into it: no pass to add b
            _add_product(A, W, out)
        else:
            _product(A, W, out)
            if b is not None:
                out += b
        return out

    def matmul(self, A, B, out):
        """``out = A @ B`` for dense ``A`` and ``B``."""
        return np.dot(A, B, out=out)

    def weight_gradient(self, A, dZ, dW, add=False):
        """``dW = A.T @ dZ``, or ``dW += A.T @ dZ`` with ``add``."""
        (_add_product if add else _product)(A.T, dZ, dW)

    def column_sum(self, dZ, db, add=False):
        """``db = sum_i dZ_i``, or ``db += ...`` with ``add``."""
        ones = self._arrays.get(("ones", dZ.shape[:1]))
        if ones is None or ones.dtype != dZ.dtype:
            ones = self._constant("ones", dZ.shape[:1], dZ.dtype, 1)
        if add:
            db += np.dot(ones, dZ)
        else:
            np.dot(ones, dZ, out=db)

    # rows of scores ----------------------------------------------------------
    def row_max(self, S):
        """``S.max(axis=1)[:, None]``, faster: a mini-batch's scores are
        transposed so that the maximum runs across rows, vectorised; a large
        array's maxima are gathered at their ``argmax``."""
        if S.size <= _COPIED_UP_TO:
            return np.ascontiguousarray(S.T).max(axis=0)[:, np.newaxis]
        index = S.argmax(axis=1)
        index += _row_starts(S.shape)
        return S.take(index)[:, np.newaxis]

    def row_sum(self, E):
        """``E.sum(axis=1)``, as a BLAS product with ones."""
        return np.dot(E, _ones(E.shape[1], E.dtype))

    def one_hot(self, y, S):
        """The one-hot targets ``Y`` of class indices ``y`` for scores ``S``:
        here the flat index of each sample's true class, no matrix."""
        return y + _row_starts(S.shape)

    def pick(self, S, Y):
        """``sum_c Y_ic S_ic``: each sample's true-class entry of ``S``."""
        return S.take(Y)

    def subtract_one_hot(self, P, Y):
        """``P - Y`` in place."""
        if P.flags.c_contiguous:
            P.reshape(-1)[Y] -= 1
        else:
            np.put(P, Y, P.take(Y) - 1)
        return P

    # element-wise: into ``out``, or over the argument -----------------------
    def subtract(self, A, B, out=None):
        """``A - B``, written into ``out`` (a new array if None)."""
        return np.subtract(A, B, out=out)

    def exp(self, x, out=None):
        return np.exp(x, out=x if out is None else out)

    def log(self, x, out=None):
        return np.log(x, out=x if out is None else out)

    def sigmoid(self, x, out=None):
        return expit(x, out=x if out is None else out)

    def tanh(self, x, out=None):
        return np.tanh(x, out=x if out is None else out)

    def relu(self, x, out=None):
        # the maximum of two arrays is vectorised, of an array and 0 is not
        zeros = self._constant("zeros", x.shape, x.dtype, 0)
        return np.maximum(x, zeros, out=x if out is None else out)

    def multiply(self, a, b, out=None):
        return np.multiply(a, b, out=out)

    def divide(self, a, b, out=None):
        return np.divide(a, b, out=out)

    def sqrt(self, x, out=None):
        return np.sqrt(x, out=x if out is None else out)

    def softplus(self, x):
        """``log(1 + e^x)``, a new array."""
        return np.logaddexp(0, x)

    def xlogx(self, x):
        """``x log x`` with ``0 log 0 = 0``, a new array."""
        return xlogy(x, x)

    def positive(self, x):
        """``x > 0`` as a mask to multiply by."""
        return x > 0

    # reductions --------------------------------------------------------------
    def sum(self, x):
        return x.sum()

    def mean(self, v):
        """Mean of ``v`` as a float, accumulated in float64 (a float32 sum of
        finite terms can overflow)."""
        return float(np.add.reduce(v, dtype=np.float64) / v.shape[0])

    def weighted_sum(self, v, w):
        """``v @ w`` as a float, in float64."""
        return float(v @ w.astype(np.float64))

    def row_sum64(self, A):
        """Row sums of ``A`` in float64."""
        return A.sum(axis=1, dtype=np.float64)

    # parameter vectors -------------------------------------------------------
    axpy = staticmethod(axpy)
    scale = staticmethod(scale)

    @staticmethod
    def dot(x, y):
        return float(x @ y)

    @staticmethod
    def all_finite(x):
        """``np.isfinite(x).all()`` without its boolean array."""
        return math.isfinite(x.max(initial=0.0)) and math.isfinite(x.min(initial=0.0))

    # rows of the data ----------------------------------------------------------
    def rows(self, A, batch, name):
        """Rows ``batch`` (a slice or an index array) of ``A`` (or None):
        views of slices, CSR rows read in place, else gathered into reused
        arrays."""
        if A is None:
            return None
        if not isinstance(A, np.ndarray):
            if not csr_rows_apply(A, A.dtype):
                return A[batch]
            if isinstance(batch, slice):
                return CSRRows.block(A, batch.start, batch.stop)
            return gather_csr_rows(A, batch, self._gathered)
        if isinstance(batch, slice):
            return A[batch]
        out = self.workspace(name, (batch.size, *A.shape[1:]), A.dtype)
        return A.take(batch, axis=0, out=out, mode="clip")

    def shuffle_order(self, X):
        """``arange(n_samples)`` in the index dtype the gathers of ``X`` take."""
        index_dtype = X.indptr.dtype if csr_rows_apply(X, X.dtype) else np.intp
        return np.arange(X.shape[0], dtype=index_dtype)

    def block_rows(self, X, dtype, entries_per_row):
        """Rows per block of a full batch whose pass holds ``entries_per_row``
        entries a sample: blocks of about ``BLOCK_BYTES``; a dense ``X`` is
        taken whole when those arrays are small beside it, a sparse one when
        its rows cannot be read in place."""
        n_samples = X.shape[0]
        bytes_per_row = X.dtype.itemsize * entries_per_row
        if n_samples * bytes_per_row <= BLOCK_BYTES:  # every mini-batch
            return n_samples
        if isinstance(X, np.ndarray):
            whole = n_samples * bytes_per_row <= X.nbytes / 8
        else:
            whole = not csr_rows_apply(X, dtype)
        return n_samples if whole else max(MIN_BLOCK_ROWS, BLOCK_BYTES // bytes_per_row)

    def sum_blocks(self, term, X, T, sample_weight, rows, grad, views):
        """``term`` summed over blocks of ``rows`` rows of a full batch.

        ``term(engine, grads, X_block, T_block, w_block, share, add)`` returns
        the block's loss times ``share``, its weight over the total, and writes
        (``add``: adds) its gradient into ``grads``, the per-layer views of
        ``grad``. With a second thread (:meth:`lbfgs_threads`), it sums the
        later half of the blocks into a gradient of its own, added at the end:
        the result does not depend on which thread finishes first.
        """
        n_samples = X.shape[0]
        total = (
            n_samples
            if sample_weight is None
            else float(sample_weight.sum(dtype=np.float64))
        )
        if total <= 0:  # no share to give; the whole batch says why
            return term(self, views(grad), X, T, sample_weight, 1.0, False)
        blocks = []
        for start in range(0, n_samples, rows):
            block = slice(start, min(start + rows, n_samples))
            w = None if sample_weight is None else sample_weight[block]
            weight = block.stop - block.start if w is None else float(w.sum())
            if weight:  # else it adds nothing (and its mean would be 0 / 0)
                blocks.append((block, w, weight / total))
        grads = views(grad)
        if self._pool is None or len(blocks) < 2:
            return self._sum(term, grads, X, T, blocks)
        half = (len(blocks) + 1) // 2
        other_grad = self._twin.workspace("grad", grad.shape, grad.dtype)
        other = self._pool.submit(
            _under_errstate,
            np.geterr(),
            self._twin._sum,
            term,
            views(other_grad),
            X,
            T,
            blocks[half:],
        )
        loss = self._sum(term, grads, X, T, blocks[:half])
        loss += other.result()
        axpy(1.0, other_grad, grad)
        return loss

    def _sum(self, term, grads, X, T, blocks):
        loss, add = 0.0, False
        for block, w, share in blocks:
            X_block = (
                X[block]
                if isinstance(X, np.ndarray)
                else CSRRows.block(X, block.start, block.stop)
            )
            loss += term(self, grads, X_block, T[block], w, share, add)
            add = True
        return loss

    # threads -------------------------------------------------------------------
    def stochastic_threads(self, layer_units, rows, X):
        """The BLAS thread policy of a stochastic run (a context manager)."""
        return threads.for_stochastic(layer_units, rows, sparse.issparse(X))

    def lbfgs_threads(self, layer_units, rows, X):
        """``(run, products)``: the context manager of an L-BFGS run (every BLAS
        on one thread, and a second thread for the blocks of a sparse full
        batch while it is held), and a context-manager factory giving large
        dense products of an evaluation the user's threads back."""
        user = threads.user_threads()
        products = threads.for_lbfgs_products(
            layer_units, rows, sparse.issparse(X), user
        )
        second = user >= 2 and rows < X.shape[0] and sparse.issparse(X)
        return self._run_with_pool(second), products

    @contextlib.contextmanager
    def _run_with_pool(self, second_thread):
        with threads.one_blas_thread():
            if not second_thread:
                yield
                return
            with futures.ThreadPoolExecutor(1, thread_name_prefix="skbackprop") as pool:
                self._pool, self._twin = pool, NumPyEngine()
                try:
                    yield
                finally:
                    self._pool = self._twin = None


def _under_errstate(errors, function, *args):
    """``function(*args)`` under NumPy's error handling ``errors``: it is per
    thread, and a pool's thread starts with the defaults."""
    with np.errstate(**errors):
        return function(*args)


def _product(A, B, out):
    """``out = A @ B`` for dense or sparse ``A``."""
    if isinstance(A, np.ndarray):
        product(A, B, out)
    elif sparse_adds_in_place(A, B, out):
        out.fill(0)
        add_sparse_product(A, B, out)
    else:
        out[...] = A @ B


def _adds_in_place(A, W, Z):
    """Whether :func:`_add_product` computes ``Z += A @ W`` in place: dense
    C-contiguous ``A`` in one-thread products, or a SciPy sparse kernel."""
    if isinstance(A, np.ndarray):
        return A.flags.c_contiguous and A.shape[0] * W.size < SINGLE_THREAD_BELOW
    return sparse_adds_in_place(A, W, Z)


def _add_product(A, B, out):
    """``out += A @ B``, in place where the layouts allow."""
    if isinstance(A, np.ndarray):
        product(A, B, out, add=True)
    elif sparse_adds_in_place(A, B, out):
        add_sparse_product(A, B, out)
    else:
        out += A @ B
