"""Sample weights: ``sample_weight`` times ``class_weight``, validated once.

Every check runs before training, on the weights as given, in float64, so that
no input (negative, NaN or infinite class weights, weights beyond the working
dtype's range, weights whose sum overflows it) gets as far as a
``RuntimeWarning`` or a misleading error raised by the training.

The penalty of :class:`~skbackprop.MLPBackprop` is ``alpha / sum(w)`` (as
MLPClassifier's): :func:`check_penalty_scale` tells a weight sum too small for
``alpha`` (or an ``alpha`` too large) apart from a step size too large.
"""

import math

import numpy as np
from sklearn.utils import compute_class_weight
from sklearn.utils.validation import _check_sample_weight


def _class_weights(class_weight, classes, y_enc, incremental):
    """The weight of each class (float64, one per entry of ``classes``)."""
    if incremental and class_weight == "balanced":
        raise ValueError(
            "class_weight='balanced' is not supported by partial_fit: compute "
            "the weights once with sklearn.utils.compute_class_weight("
            "'balanced', classes=classes, y=y) and pass them as a dict."
        )
    weights = compute_class_weight(class_weight, classes=classes, y=classes[y_enc])
    weights = np.asarray(weights, dtype=np.float64)
    for label, weight in zip(classes.tolist(), weights.tolist(), strict=True):
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(
                f"class_weight for class {label!r} is {weight!r}: class weights "
                "must be finite and non-negative."
            )
    return weights


def _check_range(weights, dtype):
    """Refuse weights (or a weight sum) beyond the range of ``dtype``."""
    largest = float(np.finfo(dtype).max)
    if not math.isfinite(weights.max(initial=0.0)):
        raise ValueError(
            "sample_weight times class_weight overflows: the products must be "
            "finite. Scale the weights down (dividing all of them by one "
            "constant)."
        )
    if weights.max(initial=0.0) > largest:
        raise ValueError(
            f"The sample weights (times class_weight) reach "
            f"{weights.max():.3g}, beyond the range of {np.dtype(dtype).name} "
            f"(the dtype of X, at most {largest:.3g}). Scale the weights down "
            "(dividing all of them by one constant)."
        )
    with np.errstate(over="ignore"):
        total = float(weights.sum(dtype=np.float64))
    if not total <= largest:
        raise ValueError(
            f"The sum of the sample weights (times class_weight) overflows "
            f"{np.dtype(dtype).name} (the dtype of X, at most {largest:.3g}). Scale "
            "the weights down (dividing all of them by one constant)."
        )


def combined_weights(
    sample_weight,
    class_weight,
    X,
    y_enc,
    classes,
    *,
    incremental,
    multilabel=False,
    two_classes=True,
):
    """``sample_weight`` times the weight of each sample's class.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative, finite weights.
    class_weight : dict, 'balanced' or None
        Weight of each class; 'balanced' gives ``n_samples / (n_classes *
        count)``, refused in ``partial_fit`` (it needs all of y).
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The validated training data: the weights take its dtype.
    y_enc : ndarray of shape (n_samples,)
        Index of each sample's class in ``classes``.
    classes : ndarray of shape (n_classes,)
        The sorted labels (``classes_``).
    incremental : bool
        True in ``partial_fit``.
    multilabel : bool, default=False
        ``y_enc`` is an indicator matrix: weights are per sample only, and
        ``class_weight`` must be None.
    two_classes : bool, default=True
        Require samples of two classes among the weighted ones in ``fit``.

    Returns
    -------
    weights : ndarray of shape (n_samples,) of X's dtype, or None
        None when both are None (unit weights).

    Raises
    ------
    ValueError
        Negative or non-finite weights (naming the class for a class weight),
        weights or a weight sum beyond the range of X's dtype, all weights
        zero, one class only with non-zero weight in ``fit``, 'balanced' in
        ``partial_fit``.
    """
    if multilabel and class_weight is not None:
        raise ValueError(
            "class_weight must be None for multilabel y: weight the samples "
            "with sample_weight instead."
        )
    if sample_weight is None and class_weight is None:
        return None
    # float64 first: a cast to float32 of a value beyond its range would warn
    weights = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
    )
    if class_weight is not None:
        per_class = _class_weights(class_weight, classes, y_enc, incremental)
        with np.errstate(over="ignore"):
            weights *= per_class[y_enc]
    _check_range(weights, X.dtype)
    if not weights.any():
        raise ValueError(
            "The sample weights (times class_weight) are all zero: there is "
            "nothing to fit."
        )
    if (
        two_classes
        and not (incremental or multilabel)
        and np.unique(y_enc[weights > 0]).size < 2
    ):
        raise ValueError(
            "Only one class has a non-zero sample weight; a classifier needs "
            "samples of at least 2 classes."
        )
    return weights.astype(X.dtype, copy=False)


def check_penalty_scale(alpha, weight_sum, dtype):
    """Refuse a penalty ``alpha / weight_sum`` that leaves nothing to learn.

    MLPBackprop penalises ``(alpha / (2 * sum(w))) * sum ||W_l||^2``. At the
    optimum ``W = -grad(data term) / lambda`` with ``lambda = alpha /
    sum(w)``; the data term's gradient is of the order of the (normalised)
    features. Once ``lambda`` exceeds ``1 / eps`` of the working dtype
    (4.5e15 in float64, 8.4e6 in float32), every weight is zero to working
    precision: the data cannot move the model, and the stochastic solvers
    diverge long before. Such a ``lambda`` comes from a tiny weight sum
    (``sample_weight`` of 1e-100) or a huge ``alpha``; this says which.

    Parameters
    ----------
    alpha : float
        The ``alpha`` parameter.
    weight_sum : float
        The smallest sum of sample weights the penalty is divided by: a
        batch's (``sum(w) * batch_rows / n_samples`` for the data's ``w``), or
        the number of rows of a batch with unit weights.
    dtype : numpy dtype
        The working dtype (X's).

    Raises
    ------
    ValueError
        If ``alpha / weight_sum`` exceeds ``1 / finfo(dtype).eps``, naming
        ``alpha`` and ``sample_weight`` and the parameter to change.
    """
    bound = 1.0 / float(np.finfo(dtype).eps)
    if alpha == 0 or alpha <= bound * weight_sum:
        return
    with np.errstate(over="ignore", divide="ignore"):
        strength = float(np.float64(alpha) / np.float64(weight_sum))
    if weight_sum >= 1:
        advice = "lower alpha"
    else:
        advice = (
            "scale sample_weight up (e.g. divide it by its mean: the penalty is "
            "alpha / sum(sample_weight)) or lower alpha"
        )
    raise ValueError(
        f"The penalty strength alpha / sum(sample_weight) is {strength:.3g} "
        f"(alpha={alpha!r}, weight sum of a batch {weight_sum:.3g}), beyond "
        f"1/eps = {bound:.3g} of {np.dtype(dtype).name}: the penalty outweighs the "
        f"data, so every weight would be zero and nothing learned. To fit, {advice}."
    )
