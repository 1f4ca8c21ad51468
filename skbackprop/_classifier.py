"""The classifiers' part of the estimator: labels to class indices (or a
multilabel indicator), class weights, early stopping on accuracy, and
predictions as labels and probabilities."""

import functools

from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ._array_api import like, to_host
from ._base import BaseBackprop, _not_lbfgs
from ._outputs import Multilabel
from ._targets import MULTILABEL, encode_targets
from ._weights import combined_weights


class ClassifierBackprop(ClassifierMixin, BaseBackprop):
    """Shared implementation of the skbackprop classifiers (not public)."""

    _parameter_constraints: dict = {
        **BaseBackprop._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    #: fits a 0/1 indicator y, one sigmoid unit per label
    _multilabel = False
    #: fits y of a single class (MLPClassifier does; the linear models raise)
    _single_class = False

    @available_if(_not_lbfgs)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over the given data, continuing from the current state.

        Not available for ``solver='lbfgs'``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _targets_known(self):
        return hasattr(self, "classes_")

    def _validate_training_data(
        self, X, y, sample_weight, *, incremental, classes, continuing, engine=None
    ):
        """Validated X (in the engine's namespace), encoded labels and combined
        sample/class weights (NumPy arrays)."""
        X, y = self._validate_xy(
            X, y, continuing=continuing, ravel_column_y=True, engine=engine
        )
        check_classification_targets(y)
        y_enc = encode_targets(
            self, y, classes, incremental=incremental, continuing=continuing
        )
        sample_weight = combined_weights(
            sample_weight,
            self.class_weight,
            self._host_stand_in(X, engine),
            y_enc,
            self.classes_,
            incremental=incremental,
            multilabel=self._label_type == MULTILABEL,
            two_classes=not self._single_class,
        )
        return X, y_enc, sample_weight

    def _validation_split(self, indices, data, output, rng):
        """Stratified by class, or at random where a class is too rare for it
        (or multilabel)."""
        split = functools.partial(
            train_test_split,
            indices,
            test_size=self.validation_fraction,
            random_state=rng,
        )
        if self._label_type == MULTILABEL:
            return split()
        try:
            return split(stratify=data.y_enc)
        except ValueError:
            return split()

    def _validation_score(self, output, S, y_enc, sample_weight):
        """The accuracy on the held-out samples."""
        return accuracy_score(y_enc, output.labels(S), sample_weight=sample_weight)

    def _output_unit(self):
        if self._label_type == MULTILABEL:
            return Multilabel(self.classes_.size)
        return self._output(self.classes_.size)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            One of ``classes_`` per sample; multilabel: the 0/1 matrix of the
            labels whose probability exceeds one half.
        """
        S = self._scores(X, "predict")
        return like(self._output_unit().predict(to_host(S), self.classes_), S)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples whose class probabilities are wanted, of the features
            seen in ``fit``.

        Returns
        -------
        P : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one, except for
            multilabel targets, whose labels have their own probabilities.
        """
        return self._probabilities(X, "predict_proba")

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Probabilities are floored at the smallest normal float, so the result
        is finite (at least about -708 in float64) and ranks the classes as
        ``predict_proba`` does.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_P : ndarray of shape (n_samples, n_classes)
        """
        P = self._probabilities(X, "predict_log_proba")
        xp, _ = get_namespace(P)
        return xp.log(P)

    def _probabilities(self, X, method):
        S = self._scores(X, method)
        # from scores to probabilities on the host (a small array)
        return like(self._output_unit().probabilities(to_host(S)), S)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = self._multilabel
        return tags
