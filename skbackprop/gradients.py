r"""The derived formulas, as pure NumPy functions.

Every estimator of skbackprop trains on the functions of this module; nothing
else in the library computes a softmax, a sigmoid or a cross-entropy.

Notation (shapes in brackets): scores :math:`S` ``(n_samples, n_classes)``,
probabilities :math:`P = \operatorname{softmax}(S)` row-wise, one-hot targets
:math:`Y` ``(n_samples, n_classes)`` and sample weights :math:`w`
``(n_samples,)`` normalised to sum to one (unit weights give :math:`1/n`).

All functions are numerically stable: they never overflow for finite scores up
to :math:`|s| = 10^{300}` and never emit floating-point warnings on finite
input. float32 input gives float32 output.
"""

import functools
import math

import numpy as np
from scipy.special import expit

__all__ = [
    "softmax",
    "log_softmax",
    "sigmoid",
    "softmax_cross_entropy",
    "binary_cross_entropy",
]


def _float_array(a):
    """Return ``a`` as a float32/float64 array without copying when possible."""
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return a


@functools.lru_cache(maxsize=16)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones: row sums are products with it."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


# Arrays of up to this many entries count as batch-sized: helpers may cache an
# index array for them. A full batch's would keep n_samples indices alive
# after training.
_BATCH_SIZED_UP_TO = 2**16
# _row_max copies scores of up to this many entries (a batch of 200 rows of up
# to 81 classes); a copy of a full batch's block would add to a fit's peak
_COPIED_UP_TO = 2**14


def _row_starts(shape):
    """Flat index of the first entry of each row of an array of ``shape``,
    of shape ``(*shape[:-1], 1)``, read-only."""
    if math.prod(shape) <= _BATCH_SIZED_UP_TO:
        return _cached_row_starts(shape)
    return _cached_row_starts.__wrapped__(shape)  # too large to keep: built anew


@functools.lru_cache(maxsize=16)
def _cached_row_starts(shape):
    starts = np.arange(0, math.prod(shape), shape[-1]).reshape(*shape[:-1], 1)
    starts.flags.writeable = False
    return starts


def _row_max(S):
    """``S.max(axis=-1, keepdims=True)``: the same values, computed faster.

    NumPy runs a max over a short last axis as one tiny loop per row (7 to 9 us
    for 200 x 10 scores). Transposed, the same maximum runs across the rows,
    one vectorised pass per class: 2 us for a batch, copy included. A large
    array is not copied: argmax finds the maxima and a gather reads them, whose
    comparisons branch on the data (6 us per batch of new scores, 2 us on
    repeated ones). A row holding a NaN gives NaN either way.

    The copy is for mini-batches: a full batch's block of rows (a quarter MB
    of scores) would add a second block to the peak memory of a fit.
    """
    if S.size <= _COPIED_UP_TO:
        rows = S.reshape(-1, S.shape[-1])
        return np.ascontiguousarray(rows.T).max(axis=0).reshape(*S.shape[:-1], 1)
    index = S.argmax(axis=-1, keepdims=True)
    index += _row_starts(S.shape)
    return S.take(index)


def log_softmax(S):
    r"""Row-wise logarithm of the softmax, by the log-sum-exp trick.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores.

    Returns
    -------
    log_P : ndarray of shape (n_samples, n_classes)
        :math:`\log p_{ic}`, finite for every finite input.

    Notes
    -----
    .. math::

        \log p_{ic} = s_{ic} - m_i - \log \sum_{c'} e^{s_{ic'} - m_i},
        \qquad m_i = \max_{c'} s_{ic'}

    Subtracting the row maximum leaves the softmax unchanged and keeps every
    exponent :math:`\le 0`, so nothing overflows.

    Examples
    --------
    >>> import numpy as np
    >>> from skbackprop.gradients import log_softmax
    >>> np.round(np.exp(log_softmax([[0.0, 0.0]])), 3)
    array([[0.5, 0.5]])
    """
    S = _float_array(S)
    out = S - _row_max(S)
    out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
    return out


def softmax(S):
    r"""Row-wise softmax of class scores.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores.

    Returns
    -------
    P : ndarray of shape (n_samples, n_classes)
        Probabilities; each row sums to one.

    Notes
    -----
    .. math::

        p_{ic} = \frac{e^{s_{ic}}}{\sum_{c'} e^{s_{ic'}}}
               = \frac{e^{s_{ic} - m_i}}{\sum_{c'} e^{s_{ic'} - m_i}},
        \qquad m_i = \max_{c'} s_{ic'}

    Examples
    --------
    >>> from skbackprop.gradients import softmax
    >>> softmax([[1e300, 0.0, -1e300]])
    array([[1., 0., 0.]])
    """
    S = _float_array(S)
    P = S - _row_max(S)
    np.exp(P, out=P)
    P /= P.sum(axis=-1, keepdims=True)
    return P


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, element-wise.

    Parameters
    ----------
    z : array-like
        Scores (logits), any shape.

    Returns
    -------
    p : ndarray of the same shape as ``z``
        Values in :math:`[0, 1]`.

    Notes
    -----
    :math:`\sigma(z)` is the two-class softmax with the negative-class score
    fixed at 0: :math:`\sigma(z) = e^{z} / (e^{0} + e^{z})`. It is evaluated
    without overflow for any finite ``z``.

    Examples
    --------
    >>> from skbackprop.gradients import sigmoid
    >>> sigmoid([0.0, 1e300, -1e300])
    array([0.5, 1. , 0. ])
    """
    z = _float_array(z)
    return expit(z)


def _normalised_weights(sample_weight, n_samples, dtype):
    """Weights that sum to one; ``None`` means unit weights, i.e. ``1/n``."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=dtype)
    return w / w.sum()


def softmax_cross_entropy(S, Y, sample_weight=None, *, out=None):
    r"""Softmax cross-entropy and its gradient with respect to the scores.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores.
    Y : array-like of shape (n_samples, n_classes) or (n_samples,)
        One-hot targets, or the class index of each sample (integers in
        ``[0, n_classes)``), which gives the same result without a one-hot
        matrix (training passes the indices: a one-hot matrix of the whole
        data would be ``n_classes / n_features`` of the size of ``X``).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one. ``None`` gives
        the plain mean over samples.
    out : ndarray of shape (n_samples, n_classes), default=None
        Array of ``S``'s dtype that receives ``dS``; it may be ``S`` itself
        (training passes the scores buffer, so no array is allocated).

    Returns
    -------
    loss : float
        :math:`L = -\sum_i w_i \sum_c y_{ic} \log p_{ic}`.
    dS : ndarray of shape (n_samples, n_classes)
        :math:`\partial L / \partial S = w \odot (P - Y)`, that is
        :math:`(P - Y)/n` without weights.

    Notes
    -----
    For one sample with true class :math:`t`,
    :math:`L = -\log p_t = -s_t + \log \sum_c e^{s_c}`, so

    .. math::

        \frac{\partial L}{\partial s_c} = p_c - [c = t] = p_c - y_c ,

    i.e. :math:`\partial L / \partial \mathbf{s} = \mathbf{p} - \mathbf{y}`.
    Because :math:`\mathbf{s} = W\mathbf{x} + \mathbf{b}`, the weight gradient
    is :math:`(\mathbf{p} - \mathbf{y})\mathbf{x}^\top` per sample, and
    :math:`\partial L / \partial W = (\partial L / \partial S)^\top X` over a
    batch.

    Examples
    --------
    >>> import numpy as np
    >>> from skbackprop.gradients import softmax_cross_entropy
    >>> loss, dS = softmax_cross_entropy([[0.0, 0.0]], [[1.0, 0.0]])
    >>> round(loss, 4), dS
    (0.6931, array([[-0.5,  0.5]]))
    >>> softmax_cross_entropy([[0.0, 0.0]], [0])[0] == loss  # class indices
    True
    """
    S = _float_array(S)
    Y = np.asarray(Y)
    if Y.ndim == 1 and S.ndim == 2:
        if not np.issubdtype(Y.dtype, np.integer):
            raise ValueError(
                f"A 1-D Y holds class indices, which must be integers; got {Y.dtype}."
            )
        if Y.size and (Y.min() < 0 or Y.max() >= S.shape[1]):
            raise ValueError(
                f"Class indices must lie in [0, {S.shape[1]}), the columns of S; "
                f"got values from {Y.min()} to {Y.max()}."
            )
        Y = Y.astype(np.intp, copy=False)
    else:
        Y = Y.astype(S.dtype, copy=False)
    return _softmax_cross_entropy(S, Y, sample_weight, out)


def _softmax_cross_entropy(S, Y, sample_weight, out):
    """:func:`softmax_cross_entropy` on validated arrays: ``Y`` one-hot rows of
    ``S``'s dtype, or in-range class indices of an integer dtype."""
    n_samples = S.shape[0]
    # row sums as products with ones (BLAS): ~3x faster than np.sum or einsum
    # over a short last axis
    ones = _ones(S.shape[-1], S.dtype)
    # with m the row maximum, log p_c = (s_c - m) - log sum_c' e^(s_c' - m), so
    # -sum_c y_c log p_c = log(sum_c' e^(s_c' - m)) sum_c y_c - sum_c y_c (s_c - m)
    dS = np.subtract(S, _row_max(S), out=out)
    if Y.ndim == 1:  # class indices: y_c = [c = t], sum_c y_c = 1
        target = Y + _row_starts(S.shape)[:, 0]  # flat index of s_t in each row
        target_score = dS.take(target)
    else:
        target_score = np.dot(np.multiply(Y, dS), ones)
    sums = np.dot(np.exp(dS, out=dS), ones)
    # P = e^(s - m) / sum_c' e^(s_c' - m): one exp per entry, one log per row
    dS /= sums[:, np.newaxis]
    per_sample = np.log(sums, out=sums)
    if Y.ndim == 1:
        per_sample -= target_score
        del target_score  # full batch: one vector less alive at the peak
        _subtract_one_at(dS, target)
    else:
        per_sample *= np.dot(Y, ones)
        per_sample -= target_score
        dS -= Y
    w = _normalised_weights(sample_weight, n_samples, S.dtype)
    # the loss is reduced in float64: a float32 sum of finite terms can overflow
    if w is None:
        dS *= 1.0 / n_samples  # a product: cheaper than a division
        loss = np.add.reduce(per_sample, dtype=np.float64) / n_samples
    else:
        dS *= w[:, np.newaxis]
        loss = per_sample @ w.astype(np.float64)
    return float(loss), dS


def _subtract_one_at(A, flat_index):
    """``A.flat[flat_index] -= 1`` in place, for distinct indices."""
    if A.flags.c_contiguous:
        flat = A.reshape(-1)  # a view
        flat[flat_index] -= 1
    else:
        np.put(A, flat_index, A.take(flat_index) - 1)


def binary_cross_entropy(z, y, sample_weight=None, *, out=None):
    r"""Binary cross-entropy of a sigmoid unit and its gradient w.r.t. ``z``.

    Parameters
    ----------
    z : array-like of shape (n_samples,) or (n_samples, n_units)
        Logits. With several units (one-vs-rest) the loss is summed over
        units.
    y : array-like of the same shape as ``z``
        Targets in {0, 1}.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one.
    out : ndarray of the shape of ``z``, default=None
        Array of ``z``'s dtype that receives ``dz``; it may be ``z`` itself.

    Returns
    -------
    loss : float
        :math:`L = -\sum_i w_i [y_i \log \sigma(z_i)
        + (1 - y_i) \log(1 - \sigma(z_i))]`.
    dz : ndarray of the same shape as ``z``
        :math:`\partial L / \partial z = w \odot (\sigma(z) - y)`.

    Notes
    -----
    Logistic regression is the two-class softmax with the negative-class
    score fixed at 0: with scores :math:`(0, z)`, :math:`p = \sigma(z)` and
    the softmax gradient :math:`p - y` of the positive score is the whole
    gradient. The loss is evaluated as
    :math:`\log(1 + e^{z}) - y z`, stable for any finite :math:`z`.

    Examples
    --------
    >>> from skbackprop.gradients import binary_cross_entropy
    >>> loss, dz = binary_cross_entropy([0.0, 0.0], [1.0, 0.0])
    >>> round(loss, 4), dz
    (0.6931, array([-0.25,  0.25]))
    """
    z = _float_array(z)
    y = np.asarray(y, dtype=z.dtype)
    per_unit = np.logaddexp(0, z)
    per_unit -= y * z
    dz = expit(z, out=out)
    dz -= y
    # the loss is reduced in float64: a float32 sum of finite terms can overflow
    per_sample = per_unit if z.ndim == 1 else per_unit.sum(axis=1, dtype=np.float64)
    w = _normalised_weights(sample_weight, z.shape[0], z.dtype)
    if w is None:
        dz /= z.shape[0]
        loss = per_sample.mean(dtype=np.float64)
    else:
        dz *= w if z.ndim == 1 else w[:, np.newaxis]
        loss = per_sample @ w.astype(np.float64)
    return float(loss), dz
