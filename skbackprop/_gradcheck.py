"""check_gradients: the analytic gradient against central finite differences."""

import copy
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

# Relative errors are taken against max(|analytic|, |numeric|, _FLOOR) so that a
# gradient near zero (at an optimum) is not reported as a large relative error:
# central differences with epsilon=1e-6 carry an absolute error of ~1e-10.
_FLOOR = 1e-3


@dataclass
class GradientCheckReport:
    """Result of :func:`check_gradients`.

    Attributes
    ----------
    max_abs_error : float
        Largest absolute difference over all parameters.
    max_rel_error : float
        Largest relative difference over all parameters.
    details : dict
        Parameter array name (``'coefs_[0]'``, ``'intercepts_[0]'``, ...) ->
        ``(max_abs_error, max_rel_error)`` of that array.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackprop, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> report = check_gradients(MLPBackprop((3,)), X[::10], y[::10], random_state=0)
    >>> sorted(report.details)
    ['coefs_[0]', 'coefs_[1]', 'intercepts_[0]', 'intercepts_[1]']
    >>> all(rel < 1e-6 for _, rel in report.details.values())
    True
    """

    max_abs_error: float
    max_rel_error: float
    details: dict = field(default_factory=dict)


def check_gradients(
    estimator, X, y, *, sample_weight=None, epsilon=1e-6, random_state=None
):
    r"""Compare an estimator's analytic gradient with finite differences.

    The objective is the estimator's full training objective (weighted mean
    cross-entropy plus penalty) on ``(X, y, sample_weight)``. It is evaluated
    at the fitted parameters if ``estimator`` is fitted, else at the initial
    parameters ``fit`` would start from; the estimator is never modified.

    Parameters
    ----------
    estimator : SoftmaxClassifier, LogisticRegressionGD or MLPBackprop
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    epsilon : float, default=1e-6
        Step of the central differences
        :math:`(J(\theta + \epsilon e_j) - J(\theta - \epsilon e_j)) / 2\epsilon`.
    random_state : int, RandomState instance or None, default=None
        Overrides the estimator's ``random_state`` for the initial parameters
        of an unfitted estimator.

    Returns
    -------
    report : GradientCheckReport
        ``max_abs_error``, ``max_rel_error`` and per-array ``details``.

    Notes
    -----
    The check costs two objective evaluations per parameter; use a small
    ``X`` and network. On float64 data a correct gradient gives
    ``max_rel_error`` below about 1e-6.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import SoftmaxClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> report = check_gradients(SoftmaxClassifier(), X[::10], y[::10])
    >>> report.max_rel_error < 1e-6
    True
    """
    # work on a copy: validating the data must not touch the user's estimator
    if hasattr(estimator, "classes_"):
        est = copy.deepcopy(estimator)
    else:
        est = clone(estimator)
        if random_state is not None:
            est.set_params(random_state=random_state)
    objective, theta, X, T, w, names = est._objective_at_start(X, y, sample_weight)
    theta = theta.astype(np.float64)
    if X.dtype != np.float64:
        X = X.astype(np.float64)
        if not np.issubdtype(T.dtype, np.integer):  # labels stay labels
            T = T.astype(np.float64)
        w = None if w is None else w.astype(np.float64)
    analytic = np.empty_like(theta)
    objective(theta.copy(), X, T, w, analytic)
    numeric = np.empty_like(theta)
    scratch = np.empty_like(theta)
    shifted = theta.copy()
    for j in range(theta.size):
        shifted[j] = theta[j] + epsilon
        plus = objective(shifted, X, T, w, scratch)
        shifted[j] = theta[j] - epsilon
        minus = objective(shifted, X, T, w, scratch)
        shifted[j] = theta[j]
        numeric[j] = (plus - minus) / (2 * epsilon)
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(
        np.maximum(np.abs(analytic), np.abs(numeric)), _FLOOR
    )
    details = {}
    for name, index in names.items():
        details[name] = (
            float(abs_err[index].max(initial=0.0)),
            float(rel_err[index].max(initial=0.0)),
        )
    return GradientCheckReport(
        max_abs_error=float(abs_err.max(initial=0.0)),
        max_rel_error=float(rel_err.max(initial=0.0)),
        details=details,
    )
