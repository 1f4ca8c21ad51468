"""Sparse kernels of the NumPy engine: ``C += A @ B`` for CSR/CSC ``A`` into an
existing array, and CSR rows read in place or gathered into reused arrays."""

import copy

import numpy as np

try:
    # SciPy's own kernels for sparse @ dense; private, hence the guard: without
    # them, products with sparse X take the public ``A @ B`` (a new array)
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - every SciPy release so far has them
    _sparsetools = None


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
    """``C += A @ B`` in place for sparse ``A`` (``A @ B`` would allocate a
    result the size of ``C``, alive at the peak of a fit)."""
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
    """Whether :class:`CSRRows` of ``X`` can meet parameters of ``dtype``:
    ``X`` is CSR of that dtype and SciPy's kernels are there."""
    return (
        _sparsetools is not None
        and getattr(X, "format", None) == "csr"
        and X.dtype == dtype
    )


class CSRRows:
    """Rows of a CSR matrix, for :func:`add_sparse_product` only.

    SciPy copies the values of a block of rows (``X[a:b]``); its kernels can
    read ``X``'s own arrays through the block's index pointers, which may
    start anywhere in them. ``T`` gives the rows as CSC of the transpose.

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


def gather_csr_rows(X, rows, arrays):
    """Rows ``rows`` (an index array) of a CSR ``X``, copied into arrays of the
    dict ``arrays`` that the next calls reuse; a :class:`CSRRows`.

    The value arrays grow to the largest batch seen, plus a quarter, so that
    they rarely grow again.
    """
    index_dtype = X.indptr.dtype
    rows = rows.astype(index_dtype, copy=False)
    n_rows = rows.size
    indptr = arrays.get(("csr indptr", n_rows))
    if indptr is None:
        indptr = arrays[("csr indptr", n_rows)] = np.zeros(n_rows + 1, index_dtype)
    # the rows' lengths, then their running sum: where each row starts
    np.subtract(X.indptr[rows + 1], X.indptr[rows], out=indptr[1:])
    np.cumsum(indptr[1:], out=indptr[1:])
    nnz = int(indptr[-1])
    indices, data = arrays.get("csr values", (None, None))
    if data is None or data.size < nnz:
        indices = data = arrays["csr values"] = None  # freed before the new ones
        room = nnz + nnz // 4
        indices = np.empty(room, dtype=X.indices.dtype)
        data = np.empty(room, dtype=X.dtype)
        arrays["csr values"] = (indices, data)
    _sparsetools.csr_row_index(n_rows, rows, X.indptr, X.indices, X.data, indices, data)
    return CSRRows(X.shape[1], indptr, indices, data)
