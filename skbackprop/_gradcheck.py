"""check_gradients: the analytic gradient against central finite differences."""

import copy
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

# Relative errors are taken against max(|analytic|, |numeric|, _FLOOR) so that a
# gradient near zero (at an optimum) is not reported as a large relative error:
# central differences with epsilon=1e-6 carry an absolute error of ~1e-10.
_FLOOR = 1e-3

#: A correct float64 gradient stays below this relative error (about 1e-9 in
#: practice); a wrong formula lands far above it (a missing factor: ~0.1 to 1).
PASS_THRESHOLD = 1e-6

# The private hook every skbackprop estimator provides for the check; it is
# what makes an estimator "ours", so estimators added later are accepted too.
_HOOK = "_objective_at_start"


@dataclass
class GradientCheckReport:
    """Result of :func:`check_gradients`.

    ``print(report)`` shows a table with one row per parameter array and the
    verdict.

    Attributes
    ----------
    max_abs_error : float
        Largest absolute difference over all parameters.
    max_rel_error : float
        Largest relative difference over all parameters.
    details : dict
        Parameter array name (``'coefs_[0]'``, ``'intercepts_[0]'``, ...) ->
        ``(max_abs_error, max_rel_error)`` of that array.
    threshold : float, default=1e-6
        The check passes when ``max_rel_error`` is below it.
    passed : bool
        ``max_rel_error < threshold``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackprop, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> report = check_gradients(MLPBackprop((3,)), X[::10], y[::10], random_state=0)
    >>> sorted(report.details)
    ['coefs_[0]', 'coefs_[1]', 'intercepts_[0]', 'intercepts_[1]']
    >>> report.passed
    True
    >>> print(report)  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    parameter array   max abs error   max rel error
    coefs_[0]         ...e-...        ...e-...
    intercepts_[0]    ...e-...        ...e-...
    coefs_[1]         ...e-...        ...e-...
    intercepts_[1]    ...e-...        ...e-...
    passed: max_rel_error ...e-... < 1e-06
    """

    max_abs_error: float
    max_rel_error: float
    details: dict = field(default_factory=dict)
    threshold: float = PASS_THRESHOLD

    @property
    def passed(self):
        """Whether ``max_rel_error`` is below ``threshold``."""
        return bool(self.max_rel_error < self.threshold)

    def __str__(self):
        name_width = max([len("parameter array"), *map(len, self.details)])
        lines = [f"{'parameter array':<{name_width}}   max abs error   max rel error"]
        for name, (abs_err, rel_err) in self.details.items():
            lines.append(f"{name:<{name_width}}   {abs_err:>13.3e}   {rel_err:>13.3e}")
        verdict = (
            f"passed: max_rel_error {self.max_rel_error:.3e} < {self.threshold:g}"
            if self.passed
            else f"FAILED: max_rel_error {self.max_rel_error:.3e} >= "
            f"{self.threshold:g}, in {self._worst_array()}"
        )
        return "\n".join([*lines, verdict])

    def _worst_array(self):
        return max(self.details, key=lambda name: self.details[name][1], default="-")


def _supported_estimators():
    """Names of the estimator classes skbackprop exports (all carry the hook)."""
    import skbackprop

    return [
        name
        for name in skbackprop.__all__
        if isinstance(getattr(skbackprop, name), type)
        and hasattr(getattr(skbackprop, name), _HOOK)
    ]


def _check_supported(estimator):
    if isinstance(estimator, type) or not callable(getattr(estimator, _HOOK, None)):
        got = (
            f"the class {estimator.__name__} (pass an instance)"
            if isinstance(estimator, type)
            else f"a {type(estimator).__name__}"
        )
        hint = (
            "; for a Pipeline, check its final step on the transformed X"
            if hasattr(estimator, "steps")
            else ""
        )
        raise TypeError(
            "check_gradients checks skbackprop's estimators ("
            f"{', '.join(_supported_estimators())}), got {got}{hint}."
        )


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
    estimator : skbackprop estimator
        One of skbackprop's estimators (SoftmaxClassifier,
        LogisticRegressionGD, MLPBackprop, ...), fitted or not.
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
        ``max_abs_error``, ``max_rel_error``, per-array ``details`` and
        ``passed``; ``print(report)`` shows them as a table.

    Raises
    ------
    TypeError
        If ``estimator`` is not one of skbackprop's estimators (their
        objective is what is checked).

    Notes
    -----
    The check costs two objective evaluations per parameter; use a small
    ``X`` and network. The relative error of each entry is
    :math:`|g - \hat g| / \max(|g|, |\hat g|, 10^{-3})`: the floor keeps a
    gradient near 0 (at an optimum) from looking wrong. The check passes
    (``report.passed``) when the largest relative error is below ``1e-6``;
    a correct gradient on float64 data stays well below it, a wrong formula
    lands orders of magnitude above. The objective is evaluated in float64
    whatever the dtype of ``X``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import SoftmaxClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> report = check_gradients(SoftmaxClassifier(), X[::10], y[::10])
    >>> report.passed
    True
    """
    _check_supported(estimator)
    # work on a copy: validating the data must not touch the user's estimator
    try:
        check_is_fitted(estimator)
        est = copy.deepcopy(estimator)
    except NotFittedError:
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
