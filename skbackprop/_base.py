"""The estimator every skbackprop classifier is: validation, labels, weights,
fit / partial_fit / predict, on top of the shared network and training loop.

A subclass says only what differs: its hidden layers and activation, its
output unit, its penalty convention, how its parameters are initialised and
how they are exposed as fitted attributes.

``fit`` reads top to bottom: validate -> encode labels and weights -> build the
objective -> initial parameters -> train (forward, loss, backward, update) ->
store the fitted attributes.
"""

import copy
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._callbacks import callback_bases, fit_task
from ._network import Objective, predict_scores, probabilities
from ._params import Layout
from ._solvers import OPTIMIZER_CLASSES, auto_learning_rate, make_optimizer
from ._training import Record, run_lbfgs, run_stochastic

_DTYPES = (np.float64, np.float32)


def _not_lbfgs(estimator):
    """``partial_fit`` exists for every solver but L-BFGS."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            f"partial_fit is not available for solver='lbfgs'; use one of "
            f"'gd', 'sgd' or 'adam' with {type(estimator).__name__}."
        )
    return True


def _class_indices(classes, y):
    """The index of each label of ``y`` in the sorted ``classes``, in the
    smallest unsigned dtype that holds them all.

    One byte a label for up to 256 classes, not intp's eight: with a 48 MB
    sparse X of 50k rows, intp labels took 0.7 % of the memory a fit may use
    beside X and its parameters.
    """
    indices = np.searchsorted(classes, y)
    return indices.astype(np.min_scalar_type(max(classes.size - 1, 0)))


class BaseBackprop(ClassifierMixin, *callback_bases(), BaseEstimator):
    """Shared implementation of the skbackprop classifiers (not public)."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"gd", "sgd", "adam", "lbfgs"})],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # What a subclass says about itself ------------------------------------
    #: penalty lambda = alpha / sum(w) (MLPClassifier) instead of alpha.
    _alpha_per_weight_sum = False
    #: L-BFGS function tolerance; None keeps scipy's default.
    _lbfgs_ftol = None
    #: names of the weight and bias arrays of layer l, for check_gradients
    _parameter_names = ("coefs_[{}]", "intercepts_[{}]")
    #: L-BFGS evaluations allowed (MLPBackprop exposes it as ``max_fun``).
    _max_fun = 15000

    def _hidden_layer_sizes(self):
        return ()

    def _activation(self):
        return "identity"

    def _fit_intercept(self):
        return True

    def _output(self, n_classes):
        """``(output unit, n_outputs)`` for ``n_classes`` classes."""
        raise NotImplementedError

    def _init_theta(self, layout, rng, dtype):
        """Initial flat parameter vector."""
        raise NotImplementedError

    def _lbfgs_precondition(self, layout, X):
        """Diagonal change of variables for L-BFGS (see ``run_lbfgs``); None: none."""
        return None

    def _get_layers(self):
        """Fitted ``(coefs, intercepts)``, ``coefs[l]`` of shape (fan_in, fan_out)."""
        raise NotImplementedError

    def _set_layers(self, coefs, intercepts):
        raise NotImplementedError

    # fit ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input (CSR/CSC) is never densified.
        y : array-like of shape (n_samples,)
            Target labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``class_weight`` multiplies them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_not_lbfgs)
    @_fit_context(prefer_skip_nested_validation=True)
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

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        # begun before the state is saved: a failed fit still tears callbacks down
        task = fit_task(
            self, X, y, sample_weight, max_epochs=1 if incremental else self.max_iter
        )
        saved_state = dict(self.__dict__)
        try:
            return self._train(X, y, sample_weight, incremental, classes, task)
        except BaseException:
            # nothing lost: a failed fit leaves the estimator as it was
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            raise

    def _train(self, X, y, sample_weight, incremental, classes, task):
        continuing = (incremental or self.warm_start) and hasattr(self, "classes_")
        X, y_enc, sample_weight = self._validate_training_data(
            X,
            y,
            sample_weight,
            incremental=incremental,
            classes=classes,
            continuing=continuing,
        )
        objective, T = self._build_objective(X, y_enc)
        if continuing:
            # the helpers change in place: train on copies, so that a failed
            # call leaves the stored ones (and the next call) as they were
            rng = (
                copy.deepcopy(self._rng)
                if incremental
                else check_random_state(self.random_state)
            )
            theta = objective.layout.pack(*self._get_layers(), dtype=X.dtype)
            record = copy.deepcopy(self._record)
        else:
            rng = check_random_state(self.random_state)
            # initial weights first: no earlier draw may depend on n_samples
            theta = self._init_theta(objective.layout, rng, X.dtype)
            record = Record(tol=self.tol)
        record.tol = self.tol
        record.n_iter = 0
        on_epoch = task.epoch_hook(objective.layout, theta)

        if self.solver == "lbfgs":
            loss = run_lbfgs(
                objective,
                theta,
                X,
                T,
                sample_weight,
                record=record,
                max_iter=self.max_iter,
                max_fun=self._max_fun,
                tol=self.tol,
                ftol=self._lbfgs_ftol,
                precondition=self._lbfgs_precondition(objective.layout, X),
                verbose=self.verbose,
                on_epoch=on_epoch,
            )
        else:
            loss = self._train_stochastic(
                objective,
                theta,
                X,
                y_enc,
                T,
                sample_weight,
                rng,
                record,
                incremental,
                on_epoch,
            )
        # the objective's batch arrays and gradient views go first: the fitted
        # attributes are copies, which then stay under the training's peak
        layout = objective.layout
        del objective
        self._set_layers(*layout.unpack(theta))
        self._set_training_attributes(record, loss, rng)
        task.end()
        return self

    def _validate_training_data(
        self, X, y, sample_weight, *, incremental, classes, continuing
    ):
        """Validated X, encoded labels and combined sample/class weights."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=_DTYPES,
            reset=not continuing,
        )
        check_classification_targets(y)
        y_enc = self._encode_labels(y, classes, incremental, continuing)
        if sample_weight is None and self.class_weight is None:
            return X, y_enc, None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True, copy=True
        )
        if self.class_weight is not None:
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit: compute "
                    "the weights once with sklearn.utils.compute_class_weight("
                    "'balanced',"
                    " classes=classes, y=y) and pass them as a dict."
                )
            weights = compute_class_weight(
                self.class_weight, classes=self.classes_, y=self.classes_[y_enc]
            )
            sample_weight *= weights[y_enc].astype(X.dtype)
        if not sample_weight.any():
            raise ValueError(
                "The sample weights (times class_weight) are all zero: there is "
                "nothing to fit."
            )
        if not incremental and np.unique(y_enc[sample_weight > 0]).size < 2:
            raise ValueError(
                "Only one class has a non-zero sample weight; a classifier needs "
                "samples of at least 2 classes."
            )
        return X, y_enc, sample_weight

    def _encode_labels(self, y, classes, incremental, continuing):
        """Set ``classes_`` on a first call; return ``y`` as class indices."""
        if continuing:
            if not np.isin(y, self.classes_).all():
                unseen = np.setdiff1d(y, self.classes_)
                raise ValueError(
                    f"y contains labels {unseen.tolist()} not seen in the first call "
                    f"(classes_ = {self.classes_.tolist()}); the classes are fixed "
                    "by the first fit/partial_fit."
                )
            if not incremental and np.unique(y).size != self.classes_.size:
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    "in the previous call to fit."
                )
            return _class_indices(self.classes_, y)
        if incremental:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            self.classes_ = np.unique(classes)
            if not np.isin(y, self.classes_).all():
                raise ValueError(
                    f"y has labels {np.setdiff1d(y, self.classes_).tolist()} that "
                    f"are not in classes={self.classes_.tolist()}."
                )
            y_enc = _class_indices(self.classes_, y)
        else:
            # a sorted copy of y, then the indices: two label-sized arrays at
            # most. np.unique(y, return_inverse=True) is faster (100k labels:
            # 0.4 ms against 2.3) but holds five at its peak (the sort's
            # permutation, the sorted copy, a cumulative sum, ...): 20 % of a
            # float32 X of 50 features, beyond the memory a fit may take
            self.classes_ = np.unique(y)
            y_enc = _class_indices(self.classes_, y)
        if self.classes_.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                "data, but the data contain only one class: "
                f"{self.classes_.tolist()[0]!r}."
            )
        return y_enc

    def _build_objective(self, X, y_enc):
        """The training objective and the targets for encoded labels.

        Softmax: the class indices themselves, not a one-hot matrix, which for
        full-batch training would add ``n_classes / n_features`` of ``X``'s
        memory. Logistic: 0/1 per unit.
        """
        n_classes = self.classes_.size
        output, n_outputs = self._output(n_classes)
        layout = Layout(
            [X.shape[1], *self._hidden_layer_sizes(), n_outputs], self._fit_intercept()
        )
        objective = Objective(
            layout, self._activation(), output, self.alpha, self._alpha_per_weight_sum
        )
        if output == "softmax":
            T = y_enc
        elif n_outputs == n_classes:
            T = np.zeros((y_enc.size, n_classes), dtype=X.dtype)
            T[np.arange(y_enc.size), y_enc] = 1
        else:
            T = (y_enc == 1).astype(X.dtype).reshape(-1, 1)
        return objective, T

    def _objective_at_start(self, X, y, sample_weight):
        """The training problem at the fitted, or else the initial, parameters.

        Returns ``(objective, theta, X, T, sample_weight, names)`` where
        ``names`` maps each parameter array's name to its slice of ``theta``.
        Used by :func:`skbackprop.check_gradients`; validates like ``fit``.
        """
        fitted = hasattr(self, "classes_")
        X, y_enc, sample_weight = self._validate_training_data(
            X, y, sample_weight, incremental=False, classes=None, continuing=fitted
        )
        objective, T = self._build_objective(X, y_enc)
        if fitted:
            theta = objective.layout.pack(*self._get_layers(), dtype=X.dtype)
        else:
            rng = check_random_state(self.random_state)
            theta = self._init_theta(objective.layout, rng, X.dtype)
        names = objective.layout.named_slices(*self._parameter_names)
        return objective, theta, X, T, sample_weight, names

    def _batch_size(self, n_samples):
        if self.solver == "gd":
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _learning_rate_init(self, X, sample_weight, batch_size):
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        w = (
            np.full(X.shape[0], 1.0 / X.shape[0], dtype=X.dtype)
            if sample_weight is None
            else sample_weight / sample_weight.sum()
        )
        return auto_learning_rate(
            self.solver,
            X,
            w,
            self._curvature,
            self.alpha,
            self._fit_intercept(),
            batch_size,
        )

    def _train_stochastic(
        self,
        objective,
        theta,
        X,
        y_enc,
        T,
        sample_weight,
        rng,
        record,
        incremental,
        on_epoch=None,
    ):
        record.early_stopping = self.early_stopping and not incremental
        validation_score = None
        if record.early_stopping:
            X, T, sample_weight, validation_score = self._split_validation(
                objective, X, y_enc, T, sample_weight, rng
            )
        elif sparse.issparse(X) and self.solver != "gd":
            X = X.tocsr()  # mini-batches are row slices
        batch_size = self._batch_size(X.shape[0])
        # partial_fit goes on with the optimizer state (velocity, moments, step
        # size) of the previous call; fit, warm or not, starts a fresh one
        previous = getattr(self, "_optimizer", None) if incremental else None
        if previous is not None:
            optimizer = copy.deepcopy(previous)
        else:
            learning_rate_init = self._learning_rate_init(X, sample_weight, batch_size)
            optimizer = make_optimizer(
                self.solver,
                theta.size,
                theta.dtype,
                learning_rate_init,
                self.get_params(),
            )
        run_stochastic(
            objective,
            theta,
            optimizer,
            X,
            T,
            sample_weight,
            record=record,
            batch_size=batch_size,
            shuffle=self.shuffle,
            rng=rng,
            max_iter=self.max_iter,
            n_iter_no_change=self.n_iter_no_change,
            incremental=incremental,
            validation_score=validation_score,
            verbose=self.verbose,
            on_epoch=on_epoch,
        )
        if record.early_stopping and record.best_theta is not None:
            theta[...] = record.best_theta
        self._optimizer = optimizer
        return record.loss_curve[-1] if record.loss_curve else np.nan

    def _split_validation(self, objective, X, y_enc, T, sample_weight, rng):
        """Hold out ``validation_fraction`` of the data, stratified by class.

        Stratification is dropped when a class is too rare for it (a label
        seen once), rather than failing.
        """
        indices = np.arange(X.shape[0])
        try:
            train, val = train_test_split(
                indices,
                test_size=self.validation_fraction,
                random_state=rng,
                stratify=y_enc,
            )
        except ValueError:
            train, val = train_test_split(
                indices, test_size=self.validation_fraction, random_state=rng
            )
        if val.size < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        w_val = None if sample_weight is None else sample_weight[val]
        X_val, y_val = X[val], y_enc[val]
        activation, output = objective.activation, objective.output

        def validation_score(theta):
            S = predict_scores(objective.layout.views(theta), X_val, activation)
            return accuracy_score(
                y_val, _labels_from_scores(S, output), sample_weight=w_val
            )

        w_train = None if sample_weight is None else sample_weight[train]
        X_train = X[train]
        if sparse.issparse(X_train):
            X_train = X_train.tocsr()
        return X_train, T[train], w_train, validation_score

    def _set_training_attributes(self, record, loss, rng):
        self.loss_ = float(loss)
        self.loss_curve_ = list(record.loss_curve)
        self.n_iter_ = record.n_iter
        self.t_ = record.t
        if record.early_stopping:
            self.validation_scores_ = list(record.validation_scores)
            self.best_validation_score_ = record.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = record.best_loss
        self._record = record
        self._rng = rng
        if self.solver == "lbfgs":
            self._optimizer = None

    # persistence ----------------------------------------------------------
    def __getstate__(self):
        # The training record and optimizer kept for warm starts and
        # partial_fit are persisted as plain dicts, so that loading a model
        # (pickle or skops.io) needs no private class: skops.io.load only has
        # to trust the estimator's own class.
        state = dict(super().__getstate__())
        if isinstance(state.get("_record"), Record):
            state["_record"] = dict(vars(state["_record"]))
        optimizer = state.get("_optimizer")
        if optimizer is not None and not isinstance(optimizer, dict):
            state["_optimizer"] = {"class": type(optimizer).__name__, **vars(optimizer)}
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("_record"), dict):
            state["_record"] = Record(**state["_record"])
        if isinstance(state.get("_optimizer"), dict):
            attributes = dict(state["_optimizer"])
            classes = {cls.__name__: cls for cls in OPTIMIZER_CLASSES}
            optimizer = object.__new__(classes[attributes.pop("class")])
            optimizer.__dict__.update(attributes)
            state["_optimizer"] = optimizer
        super().__setstate__(state)

    # predict --------------------------------------------------------------
    def _scores(self, X):
        """Class scores ``S`` of shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=_DTYPES, reset=False
        )
        coefs, intercepts = self._get_layers()
        return predict_scores(
            list(zip(coefs, intercepts, strict=True)), X, self._activation()
        )

    def _output_unit(self):
        return self._output(self.classes_.size)[0]

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            One of ``classes_`` per sample.
        """
        S = self._scores(X)
        return self.classes_[_labels_from_scores(S, self._output_unit())]

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        P : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        return probabilities(self._scores(X), self._output_unit())

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
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _labels_from_scores(S, output):
    """Class indices from scores: the sign for one unit, else the arg-max."""
    if S.shape[1] == 1:
        return (S[:, 0] > 0).astype(np.intp)
    return S.argmax(axis=1)
