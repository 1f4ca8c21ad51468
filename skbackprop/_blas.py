"""In-place updates for the training's hot loops: BLAS ``axpy`` and ``scal``
for the optimizers, ``C += A @ B`` for dense (BLAS) and sparse ``A``, and
dense products cut into pieces for OpenBLAS's small-matrix kernels."""

import copy
import functools

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_info

try:
    # SciPy's own kernels for sparse @ dense; private, hence the guard: without
    # them, products with sparse X take the public ``A @ B`` (a new array)
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - every SciPy release so far has them
    _sparsetools = None

# Below this many multiply-adds in a batch's largest product, BLAS threads cost
# more than they save: measured on 2 busy cores with OpenBLAS, a (200 x 100) @
# (100 x 100) product takes 70 us on one thread and 370-790 us on two, and a
# (100000 x 100) @ (100 x 10) one 26 ms and 94 ms, since the threads stall
# whenever another process holds a core. Training runs such batches on one BLAS
# thread (skbackprop._training).
SINGLE_THREAD_BELOW = 1e8

# One pass and no temporary: about twice as fast on a parameter vector as
# NumPy operations with out= (axpy: 0.6 us against 1.7 us for 11k float32
# entries). Looked up by dtype at each call: the f2py functions do not pickle,
# and optimizers are pickled with the model.
_BLAS = {
    np.dtype(dtype): blas.get_blas_funcs(("axpy", "scal"), dtype=dtype)
    for dtype in (np.float32, np.float64)
}


def axpy(a, x, y):
    """``y += a * x`` in place (``x``, ``y`` of one dtype)."""
    result = _BLAS[y.dtype][0](x, y, a=a)
    if result is not y:  # f2py copied a non-contiguous y
        y[...] = result


def scale(a, x):
    """``x *= a`` in place."""
    result = _BLAS[x.dtype][1](a, x)
    if result is not x:
        x[...] = result


_GEMM = {
    np.dtype(dtype): blas.get_blas_funcs("gemm", dtype=dtype)
    for dtype in (np.float32, np.float64)
}


def add_product(A, B, C):
    """``C += A @ B`` in place, for ``A``, ``B`` and ``C`` of one dtype.

    Fastest for C-contiguous ``B`` and ``C`` and a C- or Fortran-contiguous
    ``A``; other layouts are copied by f2py on the way in (and out, for ``C``).

    One BLAS call with ``beta = 1``: filling ``C`` with a bias first and adding
    the product is ~4 us faster than ``A @ B`` plus a broadcast ``+= b`` for a
    (200 x 100) @ (100 x 100) float64 batch, and rounds the same. BLAS works
    in column-major order, so it computes the transposed ``C.T += B.T @ A.T``
    on the same memory. It runs on SciPy's BLAS, which training keeps on one
    thread: callers use it for products below ``SINGLE_THREAD_BELOW``.
    """
    if A.flags.f_contiguous and not A.flags.c_contiguous:
        # A.T is C-contiguous (the backward pass's A_prev.T): pass A itself,
        # Fortran-ordered, and let BLAS transpose it, rather than f2py copy it
        result = _GEMM[C.dtype](
            1.0, B.T, A, beta=1.0, c=C.T, overwrite_c=True, trans_b=True
        )
    else:
        result = _GEMM[C.dtype](1.0, B.T, A.T, beta=1.0, c=C.T, overwrite_c=True)
    if result.base is not C:  # f2py copied: C was not contiguous
        C[...] = result.T


# OpenBLAS's kernels for AVX-512 cores (SkylakeX, and Cooperlake and
# SapphireRapids, which build on it) multiply products of at most 100**3
# multiply-adds with "small-matrix" kernels that skip the packing of the
# operands; larger ones take the general path. Measured on one thread of an
# AMD EPYC core running the SkylakeX kernels, the small kernels were 1.3 to 2
# times faster for the products of training: (200 x 100) @ (100 x 100) took
# 49 us whole and 35 us as two products of 100 rows (float64; float32: 21 and
# 18), and a (1024 x 100) @ (100 x 10) block of a linear model 55 and 29 us.
# So a dense product above that size is cut into pieces of rows that fit,
# while the pieces keep enough rows: below ~32 rows (float64) or ~96 rows
# (float32) the calls cost more than the small kernels save. Other BLAS
# (other OpenBLAS cores, MKL, Accelerate) take products whole: on OpenBLAS's
# Haswell kernels the same pieces were 1 to 3 % slower. The choice depends on
# shapes and on the BLAS only, never on timings, so a fit repeats to the bit.
SMALL_KERNEL_SIZE = 100**3
_SMALL_KERNEL_CORES = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
_MIN_PIECE_ROWS = {np.dtype(np.float64): 32, np.dtype(np.float32): 96}


@functools.cache
def small_kernels():
    """Whether every BLAS loaded is OpenBLAS on a core with small-matrix
    kernels (read once, by threadpoolctl)."""
    libs = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    return bool(libs) and all(
        lib["internal_api"] == "openblas"
        and str(lib.get("architecture")).lower() in _SMALL_KERNEL_CORES
        for lib in libs
    )


@functools.lru_cache(maxsize=64)
def _pieces(n_rows, per_row, dtype):
    """Slices cutting ``n_rows`` rows of ``per_row`` multiply-adds each into
    pieces for the small-matrix kernels, or None to take them whole."""
    total = n_rows * per_row
    if total <= SMALL_KERNEL_SIZE or total >= SINGLE_THREAD_BELOW:
        return None
    most_rows = SMALL_KERNEL_SIZE // per_row
    if not most_rows:
        return None
    n_pieces = -(-n_rows // most_rows)
    rows = -(-n_rows // n_pieces)  # as even as can be, each within the size
    if rows < _MIN_PIECE_ROWS.get(dtype, n_rows + 1):
        return None
    return tuple(
        slice(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)
    )


def product(A, B, C, add=False):
    """``C[...] = A @ B``, or ``C += A @ B`` with ``add``, for dense arrays of
    one dtype and a C-contiguous ``C``, by pieces where the BLAS has
    small-matrix kernels (see ``SMALL_KERNEL_SIZE``).

    A C-contiguous ``A`` (a forward product) is cut into pieces of rows, each
    giving the same rows of ``C``. A Fortran-contiguous ``A`` (the transpose
    of a batch in a weight gradient ``A_prev.T @ dZ``, or a Fortran-ordered
    ``X``) is cut along the sum: its columns and ``B``'s rows, the pieces'
    products added up in ``C``. Other layouts are taken whole.
    """
    if small_kernels():
        if A.flags.c_contiguous:
            pieces = _pieces(A.shape[0], A.shape[1] * B.shape[1], C.dtype)
            if pieces is not None:
                for rows in pieces:
                    _whole_product(A[rows], B, C[rows], add)
                return
        elif A.flags.f_contiguous:
            pieces = _pieces(A.shape[1], A.shape[0] * B.shape[1], C.dtype)
            if pieces is not None:
                for rows in pieces:
                    _whole_product(A[:, rows], B[rows], C, add)
                    add = True
                return
    _whole_product(A, B, C, add)


def _whole_product(A, B, C, add):
    """One BLAS call: ``C[...] = A @ B``, or ``C += A @ B`` with ``add``."""
    if add:
        add_product(A, B, C)
    else:
        np.dot(A, B, out=C)


def sparse_adds_in_place(A, B, C):
    """Whether :func:`add_sparse_product` can compute ``C += A @ B``: CSR or CSC
    ``A``, C-contiguous 2-D ``B`` and ``C``, all of one dtype."""
    return (
        _sparsetools is not None
        and A.format in ("csr", "csc")
        and A.dtype == B.dtype == C.dtype
        and B.ndim == C.ndim == 2
        and B.flags.c_contiguous
        and C.flags.c_contiguous
    )


def add_sparse_product(A, B, C):
    """``C += A @ B`` in place, for sparse ``A`` (see :func:`sparse_adds_in_place`).

    ``A @ B`` runs the same SciPy kernel, on a new array of zeros that the
    caller then copies: for the gradient of a sparse linear model, a
    parameter-sized array alive at the peak of a fit (3.2 MB of 17 MB beside a
    60 MB X of 20k features and 20 classes, float64 SGD) and a pass over it.
    """
    kernel = _sparsetools.csr_matvecs if A.format == "csr" else _sparsetools.csc_matvecs
    n_rows, n_cols = A.shape
    kernel(
        n_rows,
        n_cols,
        B.shape[1],
        A.indptr,
        A.indices,
        A.data,
        B.reshape(-1),
        C.reshape(-1),
    )


def csr_rows_apply(X, dtype):
    """Whether :class:`CSRRows` blocks of ``X`` can meet parameters of
    ``dtype``: ``X`` is CSR of that dtype and SciPy's kernels are there."""
    return (
        _sparsetools is not None
        and getattr(X, "format", None) == "csr"
        and X.dtype == dtype
    )


class CSRRows:
    """Rows of a CSR matrix, for :func:`add_sparse_product` only.

    SciPy copies the values and indices of a block of rows (``X[a:b]``, and
    its constructor when given slices of a larger array); its kernels read
    ``X``'s own arrays through the block's index pointers, which may start
    anywhere in them. :func:`gather_csr_rows` makes one over arrays that
    training reuses from batch to batch. ``T`` gives the rows as CSC of the
    transpose.

    Parameters
    ----------
    n_columns : int
    indptr : ndarray of shape (n_rows + 1,)
        Where each row starts in ``indices`` and ``data``, and where the last
        one ends.
    indices, data : ndarray
        Column indices and values, read where ``indptr`` points.
    """

    def __init__(self, n_columns, indptr, indices, data):
        self.format = "csr"
        self.shape = (indptr.size - 1, n_columns)
        self.dtype = data.dtype
        self.indptr, self.indices, self.data = indptr, indices, data

    @classmethod
    def block(cls, X, start, stop):
        """Rows ``start:stop`` of a CSR ``X``, its arrays not copied."""
        return cls(X.shape[1], X.indptr[start : stop + 1], X.indices, X.data)

    @property
    def T(self):
        transposed = copy.copy(self)
        transposed.format = "csc" if self.format == "csr" else "csr"
        transposed.shape = self.shape[::-1]
        return transposed


def gather_csr_rows(X, rows, buffers):
    """Rows ``rows`` (an index array) of a CSR ``X``, copied into arrays of
    ``buffers`` (a dict) that the next calls reuse; see :func:`csr_rows_apply`.

    ``X[rows]`` makes three new arrays for every mini-batch, and two batches
    are alive while the next one is made: 0.5 MB, 1 % of a 48 MB ``X`` of
    20k features, beside parameters of 6.2 % each. The arrays here grow to the
    largest batch seen (a quarter more, so that they rarely grow again).
    Returns a :class:`CSRRows`.
    """
    index_dtype = X.indptr.dtype
    rows = rows.astype(index_dtype, copy=False)
    n_rows = rows.size
    indptr = buffers.get(("csr indptr", n_rows))
    if indptr is None:
        indptr = buffers[("csr indptr", n_rows)] = np.zeros(n_rows + 1, index_dtype)
    # the rows' lengths, then their running sum: where each row starts
    np.subtract(X.indptr[rows + 1], X.indptr[rows], out=indptr[1:])
    np.cumsum(indptr[1:], out=indptr[1:])
    nnz = int(indptr[-1])
    indices, data = buffers.get("csr values", (None, None))
    if data is None or data.size < nnz:
        indices = data = buffers["csr values"] = None  # freed before the new ones
        room = nnz + nnz // 4
        indices = np.empty(room, dtype=X.indices.dtype)
        data = np.empty(room, dtype=X.dtype)
        buffers["csr values"] = (indices, data)
    _sparsetools.csr_row_index(n_rows, rows, X.indptr, X.indices, X.data, indices, data)
    return CSRRows(X.shape[1], indptr, indices, data)
