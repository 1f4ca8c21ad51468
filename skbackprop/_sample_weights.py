"""Sample weights: ``sample_weight`` times ``class_weight``, validated."""

import numpy as np
from sklearn.utils import compute_class_weight
from sklearn.utils.validation import _check_sample_weight


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
    """One weight per sample, of ``X``'s dtype, or None for unit weights.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
    class_weight : dict, 'balanced' or None
    X : {ndarray, sparse matrix}
    y_enc : ndarray of shape (n_samples,)
        Class indices into ``classes``.
    classes : ndarray
    incremental : bool
        A ``partial_fit`` call ('balanced' needs the whole data).
    multilabel : bool, default=False
        ``y_enc`` is an indicator matrix: weights are per sample only.
    two_classes : bool, default=True
        Require samples of two classes among the weighted ones.
    """
    if multilabel and class_weight is not None:
        raise ValueError(
            "class_weight must be None for multilabel y: weight the samples "
            "with sample_weight instead."
        )
    if sample_weight is None and class_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True, copy=True
    )
    if class_weight is not None:
        if incremental and class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: compute "
                "the weights once with sklearn.utils.compute_class_weight("
                "'balanced', classes=classes, y=y) and pass them as a dict."
            )
        weights = compute_class_weight(class_weight, classes=classes, y=classes[y_enc])
        sample_weight *= weights[y_enc].astype(X.dtype)
    if not sample_weight.any():
        raise ValueError(
            "The sample weights (times class_weight) are all zero: there is "
            "nothing to fit."
        )
    if (
        two_classes
        and not (incremental or multilabel)
        and np.unique(y_enc[sample_weight > 0]).size < 2
    ):
        raise ValueError(
            "Only one class has a non-zero sample weight; a classifier needs "
            "samples of at least 2 classes."
        )
    return sample_weight
