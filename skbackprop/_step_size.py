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
        L = (n * (b - 1) * L + (n - b) * L_max) / (b * (n - 1))
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
