r"""The derived formulas: output units, their losses and the gradient
*prediction - target*.

Every estimator of skbackprop trains on the loss functions of this module,
through an *engine* (:mod:`skbackprop._engine`) that supplies scratch arrays
and fast kernels; the public functions run the same formulas on plain NumPy.

Notation (shapes in brackets): scores :math:`S` ``(n_samples, n_classes)``,
probabilities :math:`P = \operatorname{softmax}(S)` row-wise, one-hot targets
:math:`Y` ``(n_samples, n_classes)`` and sample weights :math:`w`
``(n_samples,)`` normalised to sum to one (unit weights give :math:`1/n`).

All functions are numerically stable: they never overflow for finite scores up
to :math:`|s| = 10^{300}` and never emit floating-point warnings on finite
input. float32 input gives float32 output.
"""

import numpy as np
from scipy.special import expit

from ._engine.reference import ReferenceEngine

__all__ = [
    "softmax",
    "log_softmax",
    "sigmoid",
    "softmax_cross_entropy",
    "binary_cross_entropy",
    "squared_error",
    "poisson_deviance",
]

_PLAIN = ReferenceEngine()


def _float_array(a):
    """Return ``a`` as a float32/float64 array without copying when possible."""
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return a


def log_softmax(S):
    r"""Row-wise logarithm of the softmax, by the log-sum-exp trick.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores, one row per sample.

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
    out = S - S.max(axis=-1, keepdims=True)
    out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
    return out


def softmax(S):
    r"""Row-wise softmax :math:`p_{ic} = e^{s_{ic}} / \sum_{c'} e^{s_{ic'}}`.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores.

    Returns
    -------
    P : ndarray of shape (n_samples, n_classes)
        Probabilities: each row is non-negative and sums to one, and
        ``P.argmax(axis=1)`` is the row's largest score.

    Notes
    -----
    Computed as :math:`e^{s_{ic} - m_i} / \sum_{c'} e^{s_{ic'} - m_i}` with
    :math:`m_i` the row maximum: the same value, without overflow.

    Examples
    --------
    >>> from skbackprop.gradients import softmax
    >>> softmax([[1e300, 0.0, -1e300]])
    array([[1., 0., 0.]])
    """
    S = _float_array(S)
    P = np.exp(S - S.max(axis=-1, keepdims=True))
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
    return expit(_float_array(z))


def softmax_cross_entropy(S, Y, sample_weight=None):
    r"""Softmax cross-entropy and its gradient with respect to the scores.

    Parameters
    ----------
    S : array-like of shape (n_samples, n_classes)
        Class scores.
    Y : array-like of shape (n_samples, n_classes) or (n_samples,)
        One-hot targets, or the class index of each sample (integers in
        ``[0, n_classes)``), which gives the same result.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one. ``None`` gives
        the plain mean over samples.

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
        Y = _PLAIN.one_hot(Y, S)
    else:
        Y = Y.astype(S.dtype, copy=False)
    return softmax_loss(S, Y, _weights(sample_weight, S), _PLAIN)


def binary_cross_entropy(z, y, sample_weight=None):
    r"""Binary cross-entropy of a sigmoid unit and its gradient w.r.t. ``z``.

    Parameters
    ----------
    z : array-like of shape (n_samples,) or (n_samples, n_units)
        Logits. With several units (one-vs-rest, multilabel) the loss is
        summed over units.
    y : array-like of the same shape as ``z``
        Targets in {0, 1}.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one.

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
    return logistic_loss(z, y, _weights(sample_weight, z), _PLAIN)


def squared_error(Yhat, Y, sample_weight=None):
    r"""Half squared error of identity output units and its gradient.

    Parameters
    ----------
    Yhat : array-like of shape (n_samples,) or (n_samples, n_targets)
        Predictions (the identity unit's input is its output).
    Y : array-like of the same shape as ``Yhat``
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one.

    Returns
    -------
    loss : float
        :math:`L = \sum_i w_i \lVert \hat y_i - y_i \rVert^2 / (2 \sum_i w_i)`,
        summed over targets (not averaged).
    dYhat : ndarray of the same shape as ``Yhat``
        :math:`\partial L / \partial \hat Y = w \odot (\hat Y - Y) / \sum_i w_i`.

    Notes
    -----
    For one sample and target, :math:`\ell = \frac12 (\hat y - y)^2` and
    :math:`\partial \ell / \partial \hat y = \hat y - y`: prediction minus
    target, as for softmax and sigmoid units. The loss overflows only where
    the squared residuals exceed the float range.

    Examples
    --------
    >>> from skbackprop.gradients import squared_error
    >>> loss, dYhat = squared_error([1.0, 3.0], [0.0, 1.0])
    >>> loss, dYhat
    (1.25, array([0.5, 1. ]))
    """
    Yhat = _float_array(Yhat)
    Y = np.asarray(Y, dtype=Yhat.dtype)
    return squared_loss(Yhat, Y, _weights(sample_weight, Yhat), _PLAIN)


def poisson_deviance(Z, Y, sample_weight=None):
    r"""Half Poisson deviance of exp output units and its gradient w.r.t. ``Z``.

    Parameters
    ----------
    Z : array-like of shape (n_samples,) or (n_samples, n_targets)
        Raw scores; the prediction is :math:`\hat y = e^{z}`.
    Y : array-like of the same shape as ``Z``
        Non-negative targets (counts, rates).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, normalised here to sum to one.

    Returns
    -------
    loss : float
        :math:`L = \sum_i w_i \sum_t [e^{z_{it}} - y_{it} z_{it}
        + y_{it} \log y_{it} - y_{it}] / \sum_i w_i` (with :math:`0 \log 0 = 0`),
        summed over targets; 0 where :math:`e^{z} = y`.
    dZ : ndarray of the same shape as ``Z``
        :math:`\partial L / \partial Z = w \odot (e^{Z} - Y) / \sum_i w_i`.

    Notes
    -----
    The half deviance :math:`y \log(y / \hat y) - y + \hat y` written in the
    score :math:`z = \log \hat y`: no logarithm of a prediction is taken, so
    the loss is finite wherever :math:`e^{z}` is. Its derivative in :math:`z`
    is :math:`e^{z} - y`, prediction minus target again.

    Examples
    --------
    >>> import numpy as np
    >>> from skbackprop.gradients import poisson_deviance
    >>> loss, dZ = poisson_deviance(np.log([1.0, 2.0]), [1.0, 2.0])
    >>> float(loss), dZ
    (0.0, array([0., 0.]))
    """
    Z = _float_array(Z)
    Y = np.asarray(Y, dtype=Z.dtype)
    with np.errstate(over="ignore"):  # e^z beyond the float range is inf
        return poisson_loss(Z, Y, _weights(sample_weight, Z), _PLAIN)


def _weights(sample_weight, S):
    return None if sample_weight is None else np.asarray(sample_weight, dtype=S.dtype)


# The formulas, on an engine ``e``. Each returns the loss and the gradient
# with respect to the output unit's input; ``out`` (optional) receives the
# gradient, and ``weights`` are raw (they are normalised here).


def softmax_loss(S, Y, weights, e, out=None):
    r"""Softmax cross-entropy: :math:`L = -\sum_i w_i \log p_{i t_i}`,
    :math:`\partial L/\partial S = w \odot (P - Y)`.

    ``Y`` are the one-hot targets in the engine's form (``e.one_hot``).
    """
    n = S.shape[0]
    # s - m: the softmax is unchanged and every exponent is <= 0
    shifted = e.subtract(S, e.row_max(S), out)
    true_score = e.pick(shifted, Y)  # s_t - m
    E = e.exp(shifted)
    Z = e.row_sum(E)  # sum_c e^(s_c - m)
    P = E
    P /= Z[:, None]  # P = softmax(S)
    per_sample = e.log(Z)
    per_sample -= true_score  # -log p_t = log Z - (s_t - m)
    del true_score  # one vector less alive at the peak of a full batch
    dS = e.subtract_one_hot(P, Y)  # dS = P - Y
    if weights is None:
        dS *= 1.0 / n
        return e.mean(per_sample), dS
    w = weights / e.sum(weights)
    dS *= w[:, None]
    return e.weighted_sum(per_sample, w), dS


def logistic_loss(z, y, weights, e, out=None):
    r"""Binary cross-entropy of sigmoid units, summed over units:
    :math:`L = \sum_i w_i \sum_u [\log(1 + e^{z_{iu}}) - y_{iu} z_{iu}]`,
    :math:`\partial L/\partial z = w \odot (\sigma(z) - y)`."""
    per_unit = e.softplus(z)
    per_unit -= y * z  # -log p(y | z) = log(1 + e^z) - y z
    P = e.sigmoid(z, out)  # p = sigma(z)
    dz = P
    dz -= y  # dz = p - y
    return _weighted_mean(per_unit, dz, weights, e)


def _weighted_mean(per_unit, dY, weights, e):
    """The loss from per-unit terms, and the gradient ``dY`` (per-unit
    ``prediction - target``) scaled by the normalised weights, in place."""
    per_sample = per_unit if dY.ndim == 1 else e.row_sum64(per_unit)
    if weights is None:
        dY /= dY.shape[0]
        return e.mean(per_sample), dY
    w = weights / e.sum(weights)
    dY *= w if dY.ndim == 1 else w[:, None]
    return e.weighted_sum(per_sample, w), dY


def squared_loss(Yhat, Y, weights, e, out=None):
    r"""Half squared error of identity units, summed over units:
    :math:`L = \sum_i w_i \frac12 \lVert \hat y_i - y_i \rVert^2`,
    :math:`\partial L/\partial \hat Y = w \odot (\hat Y - Y)`."""
    dY = e.subtract(Yhat, Y, out)  # dY = Yhat - Y
    per_unit = e.multiply(dY, dY)
    per_unit *= 0.5
    return _weighted_mean(per_unit, dY, weights, e)


def poisson_loss(Z, Y, weights, e, out=None):
    r"""Half Poisson deviance of exp units, summed over units:
    :math:`L = \sum_i w_i \sum_t [e^{z} - y z + y \log y - y]`,
    :math:`\partial L/\partial Z = w \odot (e^{Z} - Y)`."""
    per_unit = e.xlogx(Y)
    per_unit -= Y
    per_unit -= e.multiply(Y, Z)
    mu = e.exp(Z, out)  # the prediction e^z
    per_unit += mu  # e^z - y z + y log y - y: 0 where e^z = y
    dZ = mu
    dZ -= Y  # dZ = e^z - y
    return _weighted_mean(per_unit, dZ, weights, e)
