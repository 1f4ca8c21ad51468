"""The Array API engine: the same interface as the NumPy engine, in plain
Array API calls, for any namespace and device (PyTorch, CuPy,
array-api-strict, ...).

It is chosen when scikit-learn's ``array_api_dispatch`` is on and the input is
not NumPy (:func:`skbackprop._array_api.engine_for`). Every operation allocates
its result in the namespace ``xp`` on ``device``, except where the math writes
into an argument on purpose (gradients, parameters, solver state): those are
in-place operators on arrays and on views of the flat parameter vector, so the
library must have mutable arrays whose slices and reshapes are views (PyTorch,
CuPy and array-api-strict do; JAX does not). No workspaces, no blocks of rows,
no threads: the library and its device decide how products run.

Data crosses to the host only at the edges: the shuffling order and initial
weights are drawn there with NumPy (the same draws as on NumPy), L-BFGS-B's
vectors live there, and the scores of ``predict`` are turned into labels
there.
"""

import functools

import numpy as np
from sklearn.utils._array_api import (
    _max_precision_float_dtype,
    move_to,
    supported_float_dtypes,
)

from ._mixins import WholeBatches


class ArrayAPIEngine(WholeBatches):
    """Runs the math on arrays of the namespace ``xp`` on ``device``.

    Parameters
    ----------
    xp : namespace
        An Array API namespace, as :func:`sklearn.utils._array_api.get_namespace`
        returns it.
    device : device
        Where the arrays live (the input's device).
    """

    def __init__(self, xp, device):
        self.xp = xp
        self.device = device
        # float dtypes the data may have, widest first (some devices lack float64)
        self.float_dtypes = list(supported_float_dtypes(xp, device))
        # sums of losses accumulate in the widest float the device has
        self._wide = _max_precision_float_dtype(xp, device)
        self._index = (None, None)
        self._classes = None  # arange(n_classes) of one_hot, made once

    # crossing to and from the host -------------------------------------------
    def to_host(self, a):
        """``a`` as a NumPy array on the CPU (None stays None)."""
        return None if a is None else move_to(a, xp=np, device="cpu")

    def from_host(self, a):
        """A NumPy array ``a`` in this namespace on this device (None stays None)."""
        if a is None:
            return None
        a = np.asarray(a)  # a NumPy scalar stays 0-d (ascontiguousarray makes it 1-d)
        if a.dtype.kind == "u" and a.dtype.itemsize > 1:
            # wide unsigned integers are not supported everywhere (PyTorch)
            a = a.astype(np.int64)
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a)
        return move_to(a, xp=self.xp, device=self.device)

    def set_from_host(self, dst, a):
        """``dst[...] = a`` for a NumPy array ``a``."""
        dst[...] = self.xp.asarray(a, dtype=dst.dtype, device=self.device)

    def host_dtype(self, dtype):
        """The NumPy dtype of a float dtype of this namespace."""
        return np.float32 if dtype == self.xp.float32 else np.float64

    def fresh(self):
        """A new engine of this kind, with no arrays of its own yet."""
        return ArrayAPIEngine(self.xp, self.device)

    # scalars stay on the device until read: reading one waits for the device
    lazy_scalars = True

    def to_floats(self, values):
        """Python floats of a list of scalars, read in one transfer."""
        xp = self.xp
        stacked = xp.stack(
            [xp.asarray(v, dtype=self._wide, device=self.device) for v in values]
        )
        return [float(v) for v in self.to_host(stacked)]

    def batch_order(self, order):
        """The shuffled order on the device, once an epoch."""
        return self.xp.asarray(order, device=self.device)

    def column_rms(self, X, chunk_rows=16384):
        """Root mean square of each column of ``X``, computed on the device by
        chunks of rows, returned as a float64 NumPy vector."""
        xp = self.xp
        largest = max(float(xp.max(X)), -float(xp.min(X))) or 1.0
        squares = xp.zeros(X.shape[1], dtype=self._wide, device=self.device)
        n_samples = X.shape[0]
        for start in range(0, n_samples, chunk_rows):
            stop = min(start + chunk_rows, n_samples)
            rows = xp.astype(X[start:stop, ...], self._wide) / largest
            squares += xp.sum(rows * rows, axis=0)
        rms = largest * xp.sqrt(squares / X.shape[0])
        return self.to_host(rms).astype(np.float64)

    # arrays --------------------------------------------------------------------
    def workspace(self, name, shape, dtype):
        return self.xp.empty(shape, dtype=dtype, device=self.device)

    def workspaces(self, name, n_rows, widths, dtype):
        return [self.workspace(name, (n_rows, width), dtype) for width in widths]

    def views(self, layout):
        return functools.partial(layout.views, reshape=self.xp.reshape)

    def empty_like(self, x):
        return self.xp.empty_like(x)

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def take(self, A, index):
        """Rows ``index`` (a NumPy index array) of ``A``, a new array."""
        if A is None:
            return None
        return self.xp.take(A, self._on_device(index), axis=0)

    def _on_device(self, index):
        # the same batch's index serves X, T and the weights: moved once
        if self._index[0] is not index:
            self._index = (index, self.xp.asarray(index, device=self.device))
        return self._index[1]

    # products --------------------------------------------------------------
    def affine(self, A, W, b, out):
        Z = A @ W
        if b is not None:
            Z += b
        return Z

    def matmul(self, A, B, out):
        return A @ B

    def weight_gradient(self, A, dZ, dW, add=False):
        if add:
            dW += A.T @ dZ
        else:
            dW[...] = A.T @ dZ

    def column_sum(self, dZ, db, add=False):
        if add:
            db += self.xp.sum(dZ, axis=0)
        else:
            db[...] = self.xp.sum(dZ, axis=0)

    # rows of scores ----------------------------------------------------------
    def row_max(self, S):
        return self.xp.max(S, axis=1, keepdims=True)

    def row_sum(self, E):
        return self.xp.sum(E, axis=1)

    def one_hot(self, y, S):
        n_classes = S.shape[1]
        if self._classes is None or self._classes.shape[0] != n_classes:
            self._classes = self.xp.arange(n_classes, device=self.device)
        return self.xp.astype(y[:, None] == self._classes, S.dtype)

    def pick(self, S, Y):
        return self.xp.sum(Y * S, axis=1)

    def subtract_one_hot(self, P, Y):
        P -= Y
        return P

    # element-wise: new arrays (the math uses the result, not ``out``) -------
    def subtract(self, A, B, out=None):
        return A - B

    def exp(self, x, out=None):
        return self.xp.exp(x)

    def log(self, x, out=None):
        return self.xp.log(x)

    def sigmoid(self, x, out=None):
        # e^{-|x|} never overflows: 1 / (1 + e^{-x}) or e^{x} / (1 + e^{x})
        xp = self.xp
        small = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + small), small / (1 + small))

    def tanh(self, x, out=None):
        return self.xp.tanh(x)

    def relu(self, x, out=None):
        return self.xp.clip(x, min=0)

    def multiply(self, a, b, out=None):
        return a * b

    def divide(self, a, b, out=None):
        return a / b

    def sqrt(self, x, out=None):
        return self.xp.sqrt(x)

    def softplus(self, x):
        """``log(1 + e^x) = max(x, 0) + log(1 + e^{-|x|})``, without overflow."""
        xp = self.xp
        return xp.clip(x, min=0) + xp.log1p(xp.exp(-xp.abs(x)))

    def xlogx(self, x):
        """``x log x`` with ``0 log 0 = 0``."""
        xp = self.xp
        return x * xp.log(xp.where(x > 0, x, xp.ones_like(x)))

    def positive(self, x):
        return self.xp.astype(x > 0, x.dtype)

    # reductions --------------------------------------------------------------
    def sum(self, x):
        return self.xp.sum(x)

    def weight_sum(self, w):
        return float(self.xp.sum(self.xp.astype(w, self._wide)))

    # the loss's terms: scalars on the device (``to_floats`` reads them)
    def mean(self, v):
        return self.xp.sum(self.xp.astype(v, self._wide)) / v.shape[0]

    def weighted_sum(self, v, w):
        xp = self.xp
        return xp.sum(xp.astype(v, self._wide) * xp.astype(w, self._wide))

    def squared_norm(self, x):
        return self.xp.sum(self.xp.astype(x, self._wide) ** 2)

    def row_sum64(self, A):
        return self.xp.sum(self.xp.astype(A, self._wide), axis=1)

    # parameter vectors -------------------------------------------------------
    def axpy(self, a, x, y):
        y += a * x

    def scale(self, a, x):
        x *= a

    def dot(self, x, y):
        return float(self.xp.sum(x * y))

    def all_finite(self, x):
        return bool(self.xp.all(self.xp.isfinite(x)))

    # rows of the data ----------------------------------------------------------
    def rows(self, A, batch, name):
        """Rows ``batch`` (a slice, or indices on the device: ``batch_order``)."""
        if A is None or isinstance(batch, slice):
            return None if A is None else A[batch, ...]
        return self.xp.take(A, batch, axis=0)

    def shuffle_order(self, X):
        # on the host: the same permutations as NumPy's from the same seed
        return np.arange(X.shape[0], dtype=np.intp)
