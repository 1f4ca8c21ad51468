r"""Step sizes from the data: ``learning_rate_init='auto'`` and the scaling of
L-BFGS's variables.

The linear models' objectives are smooth with a Lipschitz constant the data
bound: the Hessian of the loss with respect to the scores is at most the
output unit's ``curvature`` (1/2 for softmax, 1/4 for a sigmoid unit), so

.. math::

    L = \text{curvature} \cdot
        \lambda_{\max}(\tilde X^\top \operatorname{diag}(w) \tilde X) + \alpha

with :math:`\tilde X` the features and a column of ones (the intercept).
Every statistic here reads ``X`` in place, dense or sparse, in chunks.
"""

import numpy as np
from scipy import sparse
from scipy.linalg.blas import get_blas_funcs
from sklearn.utils._array_api import get_namespace


def largest_abs(X):
    """``max |x_ij|`` of a dense or sparse ``X`` (0 when empty), without a copy."""
    return max(float(X.max()), -float(X.min())) if X.shape[0] else 0.0


def top_eigenvalue(X, w, fit_intercept, n_iter=30):
    """Largest eigenvalue of the weighted Gram matrix ``X~^T diag(w) X~``.

    Power iteration from a fixed start (no random draw), on ``X~ / scale``
    with ``scale = max(1, max|x|)`` so that features of any finite magnitude
    cannot overflow; ``inf`` beyond the float range.
    """
    n_features = X.shape[1]
    scale = max(largest_abs(X), 1.0)
    size = n_features + fit_intercept
    v = np.full(size, 1.0 / np.sqrt(size), dtype=X.dtype)
    u = np.empty_like(v)
    eigenvalue = 0.0
    for _ in range(n_iter):
        r = X @ (v[:n_features] / scale)
        if fit_intercept:
            r += v[n_features] / scale
        r *= w
        r /= scale
        u[:n_features] = X.T @ r
        if fit_intercept:
            u[n_features] = r.sum()
        norm = float(np.linalg.norm(u))
        if norm == 0.0:
            return 0.0
        eigenvalue = norm * scale * scale
        np.divide(u, norm, out=v)
    return eigenvalue


def _stored_columns(X, start, stop):
    """Column of each stored value ``start:stop`` of a CSR or CSC matrix."""
    if X.format == "csr":
        return X.indices[start:stop]
    # CSC: column j holds the values indptr[j]:indptr[j + 1]
    first = np.searchsorted(X.indptr, start, side="right") - 1
    last = np.searchsorted(X.indptr, stop, side="left")
    counts = np.diff(np.clip(X.indptr[first : last + 1], start, stop))
    return np.repeat(np.arange(first, last), counts)


def column_squares(X, scale=1.0, chunk_values=2**16):
    """``sum_i (x_ij / scale)^2`` of every column of a CSR or CSC ``X``, in
    float64, reading ``chunk_values`` stored values at a time."""
    squares = np.zeros(X.shape[1])
    for start in range(0, X.nnz, chunk_values):
        stop = min(start + chunk_values, X.nnz)
        values = np.divide(X.data[start:stop], scale, dtype=np.float64)
        squares += np.bincount(
            _stored_columns(X, start, stop),
            weights=np.square(values, out=values),
            minlength=X.shape[1],
        )
    return squares


def row_norms2(X, chunk_values=2**14):
    """``||x_i||^2`` of every row in float64 (``inf`` beyond its range),
    without a copy of a sparse ``X``."""
    with np.errstate(over="ignore"):
        if sparse.issparse(X):
            return column_squares(X.T, chunk_values=chunk_values)
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def column_rms(X, chunk_values=2**16):
    """Root mean square of each column, without overflow, copying at most
    ``chunk_values`` values of ``X`` at a time (dense: whole rows)."""
    largest = largest_abs(X) or 1.0
    if sparse.issparse(X):
        squares = column_squares(X, largest, chunk_values)
    else:
        squares = np.zeros(X.shape[1])
        chunk_rows = max(1, chunk_values // max(X.shape[1], 1))
        for start in range(0, X.shape[0], chunk_rows):
            rows = X[start : start + chunk_rows] / largest
            squares += np.einsum("ij,ij->j", rows, rows)
    return largest * np.sqrt(squares / X.shape[0])


def batch_lipschitz(L, L_max, n, b):
    """The expected smoothness of a batch of ``b`` of ``n`` samples drawn
    without replacement (Gower et al., 2019): ``L`` for the full batch,
    ``L_max`` for one sample, and between them."""
    return (n * (b - 1) * L + (n - b) * L_max) / (b * (n - 1))


def auto_learning_rate(
    solver, X, sample_weight, curvature, alpha, fit_intercept, batch_size
):
    """The step of ``learning_rate_init='auto'``.

    ``'gd'``: :math:`1/L`. ``'sgd'``: :math:`1/L_b`, the expected smoothness of
    a batch of :math:`b` samples drawn from :math:`n` (Gower et al., 2019),
    :math:`L_b = \\frac{n(b-1)}{b(n-1)} L + \\frac{n-b}{b(n-1)} L_{\\max}` with
    :math:`L_{\\max} = \\text{curvature} \\max_i \\lVert\\tilde x_i\\rVert^2 +
    \\alpha`. ``'adam'``: 0.01, ten times MLPClassifier's default (its step is
    scale-free; a linear model has few parameters to move far).

    Parameters
    ----------
    solver : {'gd', 'sgd', 'adam'}
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
        Weights normalised to sum to one.
    curvature : float
    alpha : float
    fit_intercept : bool
    batch_size : int

    Returns
    -------
    learning_rate : float
    """
    if solver == "adam":
        return 0.01
    L = curvature * top_eigenvalue(X, sample_weight, fit_intercept) + alpha
    n, b = X.shape[0], batch_size
    if solver == "sgd" and b < n:
        largest = float(row_norms2(X)[sample_weight > 0].max())
        L_max = curvature * (largest + fit_intercept) + alpha
        L = batch_lipschitz(L, L_max, n, b)
    if L <= 0:
        return 1.0
    if not X.dtype.type(1.0 / L) > 0:  # L is inf, or 1 / L underflows
        raise ValueError(
            f"The features are too large for gradient descent in {X.dtype}: the "
            f"step size learning_rate_init='auto' derives ({1.0 / L:.3g}) is not "
            "representable. Standardise the features (e.g. with StandardScaler)."
        )
    return 1.0 / L


def lbfgs_scaling(layout, X, rms=None):
    """Diagonal change of variables ``theta = d * u`` for L-BFGS, or None.

    L-BFGS-B's first trial step has norm 1, far too long for weights that
    multiply huge features; on ``W_j * max(rms(x_j), 1)`` its steps stay of
    sensible size at any feature magnitude. Powers of two, so that scaling is
    exact; None when no feature needs it (standardised or sparse data).
    ``rms``, when given, is ``column_rms(X)`` computed elsewhere (an engine
    on a device).
    """
    rms = column_rms(X) if rms is None else rms
    exponents = np.round(np.log2(np.maximum(rms, 1.0)))
    if not exponents.any():
        return None
    d = np.ones(layout.size)
    W, _ = layout.views(d)[0]
    W *= np.exp2(-exponents)[:, np.newaxis]
    return d


# -- learning_rate_init='auto' of the linear models' 'gd', 'sgd' and 'adam' --

#: Adam's 'auto' step, in standardised units: a tenth of a weight of one
ADAM_STEP = 0.1


class Standardised:
    r"""The change of variables to the weights of standardised features.

    With the weighted column means :math:`m` and standard deviations :math:`s`
    of ``X`` (``d = 1/s``), :math:`W = \mathrm{diag}(d)\,U` and
    :math:`b = c - W^\top m`, so that :math:`x^\top W + b = ((x - m) \odot
    d)^\top U + c`: the same model, on coordinates ``u = (U, c)`` whose
    curvature is of order one.

    Parameters
    ----------
    layout : Layout
        A linear model's layout (one layer).
    mean, scale : ndarray of shape (n_features,)
        The centre ``m`` (zeros without intercept) and ``d = 1/s``.
    """

    def __init__(self, layout, mean, scale):
        self.layout, self.mean, self.scale = layout, mean, scale
        self._column = scale[:, None]  # d as a column, to scale rows of W
        # training maps the same three vectors (u, theta, the gradient) at
        # every batch: their views are kept, as the NumPy engine keeps its own
        self._recent = {}
        self._ger = None

    @classmethod
    def from_data(cls, layout, X, sample_weight, dtype, alpha=0.0):
        """Weighted column means and standard deviations of ``X`` (root mean
        squares without intercept, which has nothing to absorb a mean).

        Constant columns keep the scale 1, and ``d <= 1 / sqrt(alpha)``: past
        that, a weight's curvature comes from the penalty, and stretching it
        further only makes the problem stiff. ``X`` is read a block of rows
        at a time, divided by its largest entry (no overflow, no copy of a
        sparse ``X``).
        """
        top = max(largest_abs(X), 1.0)
        mean = np.zeros(X.shape[1])
        for rows, block in _blocks(X, top):
            mean += _as_vector(sample_weight[rows] @ block)
        var = np.zeros(X.shape[1])
        for rows, block in _blocks(X, top):
            if sparse.issparse(block):
                # E[x^2] - m^2: centring would fill the block
                var += _as_vector(block.multiply(block).T @ sample_weight[rows])
            else:
                block -= mean
                var += _as_vector(sample_weight[rows] @ np.square(block, out=block))
        if sparse.issparse(X):
            var -= mean**2
        if not layout.fit_intercept:
            var = var + mean**2
            mean = np.zeros_like(mean)
        std = np.sqrt(np.maximum(var, 0.0))
        # a column that is constant (or nearly so) keeps its own units
        constant = ~(std > 1e-8 * max(float(std.max(initial=0.0)), 1.0))
        std[constant] = 1.0 / top
        with np.errstate(over="ignore"):
            scale = 1.0 / (std * top)
        if alpha > 0:
            np.minimum(scale, 1.0 / np.sqrt(alpha), out=scale)
        return cls(layout, (mean * top).astype(dtype), scale.astype(dtype))

    def _views(self, v):
        entry = self._recent.get(id(v))
        if entry is not None and entry[0] is v:
            return entry[1]
        if isinstance(v, np.ndarray):
            ((W, b),) = self.layout.views(v)
        else:  # another Array API namespace: its own reshape makes the views
            xp, _ = get_namespace(v)
            ((W, b),) = self.layout.views(v, reshape=xp.reshape)
        if len(self._recent) >= 3:
            self._recent.clear()
        self._recent[id(v)] = (v, (W, b))
        return W, b

    def to_theta(self, u, theta):
        """``theta := A u`` (``theta`` may be ``u``)."""
        U, c = self._views(u)
        W, b = self._views(theta)
        if isinstance(W, np.ndarray) and u is not theta:
            np.multiply(U, self._column, out=W)
            if b is not None:  # in place, through b (c is another array)
                np.dot(self.mean, W, out=b)
                np.subtract(c, b, out=b)
            return
        W[...] = U * self._column
        if b is not None:
            b[...] = c - self.mean @ W

    def to_u(self, theta, u):
        """``u := A^{-1} theta`` (``u`` may be ``theta``)."""
        W, b = self._views(theta)
        U, c = self._views(u)
        if b is not None:
            c[...] = b + self.mean @ W
        if isinstance(U, np.ndarray):
            np.divide(W, self._column, out=U)
        else:
            U[...] = W / self._column

    def gradient_to_u(self, grad):
        """``grad := A^T grad`` in place: ``dU = diag(d)(dW - m db^T)``,
        ``dc = db``."""
        gW, gb = self._views(grad)
        if not isinstance(gW, np.ndarray):
            if gb is None:
                gW[...] = gW * self._column
            else:
                gW[...] = (gW - self.mean[:, None] * gb[None, :]) * self._column
            return
        if gb is not None:
            # gW -= m gb^T in place: BLAS ger on the Fortran-ordered gW^T
            if self._ger is None or self._ger.dtype != gW.dtype:
                self._ger = get_blas_funcs("ger", dtype=gW.dtype)
            result = self._ger(-1.0, gb, self.mean, a=gW.T, overwrite_a=True)
            if not np.shares_memory(result, gW):
                gW[...] = result.T
        gW *= self._column


def _as_vector(a):
    return np.asarray(a, dtype=np.float64).ravel()


def _blocks(X, divisor=1.0, rows=512):
    """``(slice, X[slice] / divisor)`` for blocks of ``rows`` rows, in float64
    (dense blocks are new arrays, which the caller may overwrite)."""
    for start in range(0, X.shape[0], rows):
        part = slice(start, min(start + rows, X.shape[0]))
        block = X[part]
        if sparse.issparse(block):
            block = block.astype(np.float64) / divisor
        else:
            block = np.divide(block, divisor, dtype=np.float64)
        yield part, block


def _standardised_top_eigenvalue(X, w, standardised, n_iter=30):
    """Largest eigenvalue of ``Z^T diag(w) Z`` with ``Z = [(X - m) diag(d), 1]``
    (the column of ones with an intercept), by power iteration from a fixed
    start (not the caller's generator); ``Z`` is never formed."""
    # a fixed Gaussian start: centred columns make a uniform start orthogonal
    # to the top eigenvector as often as not (two columns of opposite
    # correlation); a Gaussian is not, almost surely
    size = X.shape[1] + standardised.layout.fit_intercept
    start = np.random.default_rng(0).standard_normal(size)
    return standardised_power_iteration(X, w, standardised, start, n_iter)[0]


def standardised_power_iteration(X, w, standardised, v, n_iter):
    """``n_iter`` steps of power iteration on ``Z^T diag(w) Z`` (see
    :func:`_standardised_top_eigenvalue`) from ``v``.

    Returns
    -------
    eigenvalue : float
        The last estimate (0 when the product vanishes).
    vector : ndarray
        The last unit vector, a start for the next call.
    """
    # the products in X's dtype: a float64 vector would upcast (copy) X
    with np.errstate(over="ignore", invalid="ignore"):
        result = _power_iteration(X, w, standardised, v, n_iter, _in_dtype(X))
    if np.isfinite(result[0]) and np.isfinite(result[1]).all():
        return result
    # huge entries overflowed X's dtype: again in float64, a block at a time
    return _power_iteration(X, w, standardised, v, n_iter, _in_float64(X))


def _in_dtype(X):
    """``X @ a`` and ``X^T @ b`` in ``X``'s dtype."""

    def product(a, transpose=False):
        A = X.T if transpose else X
        return _as_vector(A @ a.astype(X.dtype, copy=False))

    return product


def _in_float64(X):
    """``X @ a`` and ``X^T @ b`` in float64, a block of rows of ``X / top``
    at a time (``top`` its largest entry: no overflow)."""
    top = max(largest_abs(X), 1.0)

    def product(a, transpose=False):
        if transpose:
            out = np.zeros(X.shape[1])
            for rows, block in _blocks(X, top):
                out += _as_vector(block.T @ a[rows])
        else:
            out = np.empty(X.shape[0])
            for rows, block in _blocks(X, top):
                out[rows] = _as_vector(block @ a)
        return out * top

    return product


def _power_iteration(X, w, standardised, v, n_iter, product):
    m = standardised.mean.astype(np.float64)
    d = standardised.scale.astype(np.float64)
    intercept = standardised.layout.fit_intercept
    n_features = X.shape[1]
    v = v / np.linalg.norm(v)
    eigenvalue = 0.0
    for _ in range(n_iter):
        dv = d * v[:n_features]
        r = product(dv) - m @ dv
        if intercept:
            r += v[n_features]
        r *= w
        u = np.empty_like(v)
        u[:n_features] = d * (product(r, transpose=True) - m * r.sum())
        if intercept:
            u[n_features] = r.sum()
        norm = float(np.linalg.norm(u))
        if not norm > 0:
            return 0.0, v
        eigenvalue = norm
        v = u / norm
    return eigenvalue, v


def largest_standardised_row_norm2(X, w, standardised, factor=None):
    """``max_i ||(x_i - m) * d||^2`` over the samples of positive weight
    (each norm times ``factor[i]`` if given), a block of rows at a time."""
    m = standardised.mean.astype(np.float64)
    d = standardised.scale.astype(np.float64)
    largest = 0.0
    for rows, block in _blocks(X):
        if sparse.issparse(block):
            scaled = block.multiply(d).tocsr()
            md = m * d
            norms = (
                _as_vector(scaled.multiply(scaled).sum(axis=1))
                - 2 * _as_vector(scaled @ md)
                + md @ md
            )
        else:
            block -= m
            block *= d
            norms = np.einsum("ij,ij->i", block, block)
        if factor is not None:
            norms *= factor[rows]
        norms = norms[w[rows] > 0]
        if norms.size:
            largest = max(largest, float(norms.max()))
    return largest


def standardised_step(
    solver, X, sample_weight, curvature, alpha, batch_size, standardised
):
    r"""The ``'auto'`` step of ``solver`` in the standardised coordinates.

    The gradient of the objective in :math:`u` is Lipschitz with
    :math:`L = \kappa\,\lambda_{\max}(Z^\top \mathrm{diag}(w) Z) + \alpha
    \max_j d_j^2`, :math:`\kappa` the output unit's curvature and :math:`Z`
    the standardised samples (with a column of ones): of order :math:`\kappa`
    times the top eigenvalue of the correlation matrix. ``'gd'`` starts its
    searched step from :math:`1/L`; ``'sgd'`` takes :math:`1/L_b`, the
    expected smoothness of a batch of :math:`b` of :math:`n` samples (as
    :func:`auto_learning_rate`, with :math:`L_{\max} = \kappa \max_i
    \lVert z_i \rVert^2 + \alpha \max_j d_j^2`); Adam, whose step is a length
    per coordinate, :data:`ADAM_STEP`.

    Returns
    -------
    learning_rate : float
    """
    if solver == "adam":
        return ADAM_STEP
    d = standardised.scale.astype(np.float64)
    penalty = alpha * float(np.max(d * d, initial=0.0))
    L = curvature * _standardised_top_eigenvalue(X, sample_weight, standardised)
    L += penalty
    n, b = X.shape[0], batch_size
    if solver == "sgd" and b < n:
        largest = largest_standardised_row_norm2(X, sample_weight, standardised)
        L_max = curvature * (largest + standardised.layout.fit_intercept) + penalty
        L = batch_lipschitz(L, L_max, n, b)
    return 1.0 / L if L > 0 else 1.0
