"""Target encoding of the classifiers: labels to class indices, ``classes_``
fixed by the first call."""

import numpy as np


def class_indices(classes, y):
    """The index of each label of ``y`` in the sorted ``classes``, in the
    smallest unsigned dtype that holds them all (labels are a full batch's
    largest array after ``X``)."""
    indices = np.searchsorted(classes, y)
    return indices.astype(np.min_scalar_type(max(classes.size - 1, 0)))


def encode_classes(estimator, y, classes, *, incremental, continuing):
    """Set ``estimator.classes_`` on a first call; return ``y`` as class indices.

    Parameters
    ----------
    estimator : classifier
    y : ndarray of shape (n_samples,)
    classes : array-like or None
        ``partial_fit``'s ``classes``: required on its first call.
    incremental : bool
        A ``partial_fit`` call.
    continuing : bool
        A call that keeps the fitted model (``partial_fit`` or ``warm_start``).
    """
    if continuing:
        known = estimator.classes_
        if not np.isin(y, known).all():
            raise ValueError(
                f"y contains labels {np.setdiff1d(y, known).tolist()} not seen in "
                f"the first call (classes_ = {known.tolist()}); the classes are "
                "fixed by the first fit/partial_fit."
            )
        if not incremental and np.unique(y).size != known.size:
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                "in the previous call to fit."
            )
        return class_indices(known, y)
    if incremental:
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        estimator.classes_ = np.unique(classes)
        if not np.isin(y, estimator.classes_).all():
            raise ValueError(
                f"y has labels {np.setdiff1d(y, estimator.classes_).tolist()} that "
                f"are not in classes={estimator.classes_.tolist()}."
            )
    else:
        # np.unique then searchsorted: two label-sized arrays at the peak, where
        # np.unique(return_inverse=True) holds five
        estimator.classes_ = np.unique(y)
    if estimator.classes_.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the "
            "data, but the data contain only one class: "
            f"{estimator.classes_.tolist()[0]!r}."
        )
    return class_indices(estimator.classes_, y)
