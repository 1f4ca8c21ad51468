"""Target encoding of the classifiers: labels to class indices, or a 0/1
indicator matrix (multilabel); ``classes_`` is fixed by the first call."""

import numpy as np
from sklearn.utils.multiclass import type_of_target, unique_labels

MULTILABEL = "multilabel-indicator"


def class_indices(classes, y):
    """The index of each label of ``y`` in the sorted ``classes``, in the
    smallest unsigned dtype that holds them all (labels are a full batch's
    largest array after ``X``)."""
    indices = np.searchsorted(classes, y)
    return indices.astype(np.min_scalar_type(max(classes.size - 1, 0)))


def encode_targets(estimator, y, classes, *, incremental, continuing):
    """Set ``classes_`` and ``_label_type`` on a first call; return ``y`` as
    class indices, or as the indicator matrix itself (multilabel).

    Parameters
    ----------
    estimator : classifier
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
    classes : array-like or None
        ``partial_fit``'s ``classes``: required on its first call.
    incremental : bool
        A ``partial_fit`` call.
    continuing : bool
        A call that keeps the fitted model (``partial_fit`` or ``warm_start``).
    """
    name = type(estimator).__name__
    label_type = MULTILABEL if type_of_target(y) == MULTILABEL else "classes"
    if label_type == MULTILABEL and not estimator._multilabel:
        raise ValueError(
            f"{name} cannot fit a multilabel indicator y: its softmax classes "
            "exclude each other. Use LogisticRegressionGD (one sigmoid unit per "
            "label) or MLPBackprop for multilabel targets."
        )
    if y.ndim == 2 and label_type != MULTILABEL:
        raise ValueError(
            f"y should be a 1d array or a 0/1 indicator matrix, got an array of "
            f"shape {y.shape} with targets of type {type_of_target(y)!r}."
        )
    if continuing and incremental and classes is not None:
        if not np.array_equal(estimator.classes_, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {estimator.classes_!r}"
            )
    if continuing:
        return _known_targets(estimator, y, label_type, incremental)
    if incremental and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    estimator._label_type = label_type
    if label_type == MULTILABEL:
        estimator.classes_ = np.arange(y.shape[1])
        return y
    # np.unique then searchsorted: two label-sized arrays at the peak, where
    # np.unique(return_inverse=True) holds five
    estimator.classes_ = np.unique(classes if incremental else y)
    if incremental and not np.isin(y, estimator.classes_).all():
        raise ValueError(
            f"y has labels {np.setdiff1d(y, estimator.classes_).tolist()} that "
            f"are not in classes={estimator.classes_.tolist()}."
        )
    if estimator.classes_.size < 2 and not estimator._single_class:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data, but the "
            f"data contain only one class: {estimator.classes_.tolist()[0]!r}."
        )
    return class_indices(estimator.classes_, y)


def _known_targets(estimator, y, label_type, incremental):
    """Encode ``y`` against the classes of the model being continued."""
    known = estimator.classes_
    if label_type != getattr(estimator, "_label_type", "classes"):
        raise ValueError(
            f"y is of another kind than in the first call ({label_type!r} now, "
            f"{estimator._label_type!r} then); the targets are fixed by the "
            "first fit/partial_fit."
        )
    if label_type == MULTILABEL:
        if y.shape[1] != known.size:
            raise ValueError(
                f"y has {y.shape[1]} labels, but the model was fitted on {known.size}."
            )
        return y
    if not incremental and set(unique_labels(y)) != set(known):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in "
            f"the previous call to fit. Previously got {known}, `y` has "
            f"{unique_labels(y)}"
        )
    if not np.isin(y, known).all():
        raise ValueError(
            f"y contains labels {np.setdiff1d(y, known).tolist()} not seen in "
            f"the first call (classes_ = {known.tolist()}); the classes are "
            "fixed by the first fit/partial_fit."
        )
    return class_indices(known, y)
