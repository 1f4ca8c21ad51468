"""The regressors' part of the estimator: numeric targets of one or several
columns, early stopping on R², and predictions of the output unit."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.metaestimators import available_if

from ._array_api import like, to_host
from ._base import BaseBackprop, _not_lbfgs
from ._weights import combined_weights


class RegressorBackprop(RegressorMixin, BaseBackprop):
    """Shared implementation of the skbackprop regressors (not public).

    ``y`` of shape (n_samples,) or (n_samples, n_targets); one output unit
    per target. ``_target_shape`` keeps ``y.shape[1:]`` of the first fit.
    """

    #: y of shape (n_samples, 1) is raveled with a DataConversionWarning, as
    #: MLPRegressor does (Ridge keeps it 2-D)
    _ravel_column_y = False

    @available_if(_not_lbfgs)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over the given data, continuing from the current state.

        Not available for ``solver='lbfgs'``; MLPBackpropRegressor raises
        ValueError with ``early_stopping=True``, as MLPRegressor does.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets_known(self):
        return hasattr(self, "_target_shape")

    def _n_targets(self):
        return self._target_shape[0] if self._target_shape else 1

    def _validate_training_data(
        self, X, y, sample_weight, *, incremental, classes, continuing, engine=None
    ):
        """Validated X (in the engine's namespace), numeric y and sample
        weights (NumPy arrays)."""
        X, y = self._validate_xy(
            X,
            y,
            continuing=continuing,
            ravel_column_y=self._ravel_column_y,
            engine=engine,
            y_numeric=True,
        )
        if continuing and y.shape[1:] != self._target_shape:
            raise ValueError(
                f"y has shape {y.shape}, but the model being continued was "
                f"fitted on targets of shape (n_samples, *{self._target_shape})."
            )
        self._target_shape = y.shape[1:]
        sample_weight = combined_weights(
            sample_weight,
            None,
            self._host_stand_in(X, engine),
            None,
            None,
            incremental=incremental,
            two_classes=False,
        )
        return X, y, sample_weight

    def _output_unit(self):
        return self._output(self._n_targets())

    def _validation_split(self, indices, data, output, rng):
        """At random (MLPRegressor's split): the same seed holds out the same
        samples."""
        return train_test_split(
            indices, test_size=self.validation_fraction, random_state=rng
        )

    def _validation_score(self, output, S, y_enc, sample_weight):
        """R² on the held-out samples (averaged over targets); NaN for
        non-finite predictions, as MLPRegressor scores them."""
        Y_pred = output.predict(S)
        if not np.isfinite(Y_pred).all():
            return np.nan
        return r2_score(y_enc, Y_pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predict the targets: the output units' predictions, the scores
        themselves for the squared error, their exponential for
        ``loss='poisson'``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, of the features seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            One column per target; 1-D for a single target.
        """
        S = self._scores(X, "predict")  # checks first that the model is fitted
        Y = self._output_unit().predict(to_host(S))
        return like(Y[:, 0] if Y.shape[1] == 1 else Y, S)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
