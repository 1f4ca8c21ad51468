"""In-place BLAS updates for the training's hot loops: vector ``axpy`` and
``scal`` for the optimizers, and ``C += A @ B`` for the forward pass."""

import numpy as np
from scipy.linalg import blas

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
    """``C += A @ B`` in place, for C-contiguous ``A``, ``B`` and ``C`` of one dtype.

    One BLAS call with ``beta = 1``: filling ``C`` with a bias first and adding
    the product is ~4 us faster than ``A @ B`` plus a broadcast ``+= b`` for a
    (200 x 100) @ (100 x 100) float64 batch, and rounds the same. BLAS works
    in column-major order, so it computes the transposed ``C.T += B.T @ A.T``
    on the same memory. It runs on SciPy's BLAS, which training keeps on one
    thread: callers use it for products below ``SINGLE_THREAD_BELOW``.
    """
    result = _GEMM[C.dtype](1.0, B.T, A.T, beta=1.0, c=C.T, overwrite_c=True)
    if result.base is not C:  # f2py copied: C was not contiguous
        C[...] = result.T
