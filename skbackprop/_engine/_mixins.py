"""What the engines share: NumPy arrays live on the host already (the NumPy
and reference engines), and a batch taken whole on the calling thread (the
reference and Array API engines)."""

import contextlib

import numpy as np

from .._step_size import column_rms


class OnHost:
    """Host crossings of engines whose arrays are NumPy arrays: identities."""

    float_dtypes = [np.float64, np.float32]

    @staticmethod
    def to_host(a):
        return a

    @staticmethod
    def from_host(a):
        return a

    @staticmethod
    def set_from_host(dst, a):
        dst[...] = a

    @staticmethod
    def host_dtype(dtype):
        return dtype

    @staticmethod
    def empty_like(x):
        return np.empty_like(x)

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def take(A, index):
        """Rows ``index`` of ``A`` (or None), a new array."""
        return None if A is None else A[index]

    #: losses are floats at once (reading them costs nothing)
    lazy_scalars = False

    @staticmethod
    def to_floats(values):
        return [float(v) for v in values]

    @staticmethod
    def batch_order(order):
        """The shuffled sample order, where the batches' rows are taken."""
        return order

    @staticmethod
    def squared_norm(x):
        """``x @ x``, a float."""
        return float(x @ x)

    @staticmethod
    def column_rms(X):
        """Root mean square of each column of ``X`` (float64, on the host)."""
        return column_rms(X)

    def fresh(self):
        """A new engine of this kind, with no arrays of its own yet."""
        return type(self)()

    @staticmethod
    def weight_sum(w):
        """``sum(w)``, the raw weight of a batch (the penalty's convention)."""
        return w.sum()


class WholeBatches:
    """No blocks of rows and no thread policy: every pass takes the whole batch."""

    def block_rows(self, X, dtype, entries_per_row):
        return X.shape[0]

    def sum_blocks(self, term, X, T, sample_weight, rows, grad, views):
        return term(self, views(grad), X, T, sample_weight, 1.0, False)

    def stochastic_threads(self, layer_units, rows, X):
        return contextlib.nullcontext()

    def lbfgs_threads(self, layer_units, rows, X):
        return contextlib.nullcontext(), contextlib.nullcontext
