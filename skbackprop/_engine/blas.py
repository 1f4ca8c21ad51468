"""Dense BLAS kernels of the NumPy engine: in-place ``axpy``/``scal``, ``C += A @ B``,
and products cut into pieces for OpenBLAS's small-matrix kernels.

The one machine-specific choice of the library lives here, behind
:func:`small_kernels`; figures behind it are on the performance page.
"""

import functools

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_info

#: Products of at least this many multiply-adds may use BLAS threads; smaller
#: ones run on one (threads stall on busy cores, see the performance page).
SINGLE_THREAD_BELOW = 1e8

# one pass and no temporary; looked up by dtype at each call, as the f2py
# functions do not pickle
_AXPY_SCAL = {
    np.dtype(dtype): blas.get_blas_funcs(("axpy", "scal"), dtype=dtype)
    for dtype in (np.float32, np.float64)
}
_GEMM = {
    np.dtype(dtype): blas.get_blas_funcs("gemm", dtype=dtype)
    for dtype in (np.float32, np.float64)
}


def axpy(a, x, y):
    """``y += a * x`` in place (``x``, ``y`` of one dtype)."""
    result = _AXPY_SCAL[y.dtype][0](x, y, a=a)
    if result is not y:  # f2py copied a non-contiguous y
        y[...] = result


def scale(a, x):
    """``x *= a`` in place."""
    result = _AXPY_SCAL[x.dtype][1](a, x)
    if result is not x:
        x[...] = result


def add_product(A, B, C):
    """``C += A @ B`` in place, one ``gemm`` call with ``beta = 1``.

    BLAS is column-major, so it computes ``C.T += B.T @ A.T`` on the same
    memory. A Fortran-ordered ``A`` (the backward pass's ``A_prev.T``) is
    passed as it is and transposed by BLAS rather than copied by f2py.
    """
    if A.flags.f_contiguous and not A.flags.c_contiguous:
        result = _GEMM[C.dtype](
            1.0, B.T, A, beta=1.0, c=C.T, overwrite_c=True, trans_b=True
        )
    else:
        result = _GEMM[C.dtype](1.0, B.T, A.T, beta=1.0, c=C.T, overwrite_c=True)
    if result.base is not C:  # f2py copied: C was not contiguous
        C[...] = result.T


# OpenBLAS's AVX-512 kernels multiply products of at most 100**3 multiply-adds
# without packing their operands; pieces below these rows cost more in calls
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
    one dtype and a C-contiguous ``C``; by pieces where :func:`small_kernels`.

    A C-contiguous ``A`` (a forward product) is cut into pieces of rows. A
    Fortran-contiguous ``A`` (``A_prev.T`` of a weight gradient, or a
    Fortran-ordered ``X``) is cut along the sum, the pieces added up in ``C``.
    The cut depends on shapes only, so a fit repeats to the bit.
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
