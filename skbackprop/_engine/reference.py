"""The reference engine: the same interface as the NumPy engine, in plain
NumPy calls that allocate freely.

It exists to keep the math honest: tests run the math on it and on the fast
engine and compare. It has no workspaces, no BLAS tricks, no blocks, no
threads; targets are real one-hot matrices. Dense ``X`` only (sparse ``X`` is
densified by its products).
"""

import numpy as np
from scipy.special import expit

from ._mixins import OnHost, WholeBatches


class ReferenceEngine(OnHost, WholeBatches):
    """Plain NumPy: every operation returns a new array."""

    def workspace(self, name, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def workspaces(self, name, n_rows, widths, dtype):
        return [np.empty((n_rows, width), dtype=dtype) for width in widths]

    def views(self, layout):
        return layout.views

    def affine(self, A, W, b, out):
        Z = np.asarray(A @ W)
        return Z if b is None else Z + b

    def matmul(self, A, B, out):
        return A @ B

    def weight_gradient(self, A, dZ, dW, add=False):
        result = np.asarray(A.T @ dZ)
        if add:
            dW += result
        else:
            dW[...] = result

    def column_sum(self, dZ, db, add=False):
        if add:
            db += dZ.sum(axis=0)
        else:
            db[...] = dZ.sum(axis=0)

    def row_max(self, S):
        return S.max(axis=1, keepdims=True)

    def row_sum(self, E):
        return E.sum(axis=1)

    def one_hot(self, y, S):
        return (np.asarray(y)[:, np.newaxis] == np.arange(S.shape[1])).astype(S.dtype)

    def pick(self, S, Y):
        return (Y * S).sum(axis=1)

    def subtract_one_hot(self, P, Y):
        return P - Y

    def subtract(self, A, B, out=None):
        return A - B

    def exp(self, x, out=None):
        return np.exp(x)

    def log(self, x, out=None):
        return np.log(x)

    def sigmoid(self, x, out=None):
        return expit(x)

    def tanh(self, x, out=None):
        return np.tanh(x)

    def relu(self, x, out=None):
        return np.maximum(x, 0)

    def multiply(self, a, b, out=None):
        return a * b

    def divide(self, a, b, out=None):
        return a / b

    def sqrt(self, x, out=None):
        return np.sqrt(x)

    def softplus(self, x):
        return np.logaddexp(0, x)

    def xlogx(self, x):
        safe = np.where(x > 0, x, 1)  # log 1 = 0 where x = 0
        return x * np.log(safe)

    def positive(self, x):
        return (x > 0).astype(x.dtype)

    def sum(self, x):
        return x.sum()

    def mean(self, v):
        return float(np.mean(v, dtype=np.float64))

    def weighted_sum(self, v, w):
        return float(np.dot(v.astype(np.float64), w.astype(np.float64)))

    def row_sum64(self, A):
        return A.astype(np.float64).sum(axis=1)

    def axpy(self, a, x, y):
        y += a * x

    def scale(self, a, x):
        x *= a

    def dot(self, x, y):
        return float(x @ y)

    def all_finite(self, x):
        return bool(np.isfinite(x).all())

    def rows(self, A, batch, name):
        return None if A is None else A[batch]

    def shuffle_order(self, X):
        return np.arange(X.shape[0])
