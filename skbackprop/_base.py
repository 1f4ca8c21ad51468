"""The estimator every skbackprop model is: parameters, the fit /
partial_fit transaction, persistence; the shared core does the rest.

``fit`` reads top to bottom: validate -> encode targets and weights -> build
the objective -> initial parameters -> train (forward, loss, backward,
update) -> store the fitted attributes. What differs between classifiers and
regressors (how ``y`` becomes targets, the validation score of early
stopping, predictions) is in :mod:`skbackprop._classifier` and
:mod:`skbackprop._regressor`; a model then says only its hidden layers and
activation, its output unit, its penalty convention, how its parameters
start and how they are exposed as fitted attributes.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._array_api import engine_for, move_fitted, to_host
from ._callbacks import callback_bases, fit_task
from ._doc_link import DocLinkMixin
from ._engine import NumPyEngine
from ._limits import check_network_size
from ._linesearch import BarzilaiBorwein
from ._network import Objective, predict_scores
from ._params import Layout
from ._solve import TrainingData, solve_epochs, solve_lbfgs
from ._solvers import UPDATE_RULES
from ._training import Record
from ._transaction import TRAINING_STATE, fit_transaction
from ._weights import check_penalty_scale

_DTYPES = (np.float64, np.float32)
#: every class of solver state kept with a model: pickles name them
_STATE_CLASSES = (*UPDATE_RULES.values(), BarzilaiBorwein)


def _not_lbfgs(estimator):
    """``partial_fit`` exists for every solver but L-BFGS."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            f"partial_fit is not available for solver='lbfgs'; use one of "
            f"'gd', 'sgd' or 'adam' with {type(estimator).__name__}."
        )
    return True


class BaseBackprop(DocLinkMixin, *callback_bases(), BaseEstimator):
    """Shared implementation of the skbackprop estimators (not public)."""

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
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # What a subclass says about itself ------------------------------------
    #: penalty lambda = alpha / sum(w) (MLPClassifier) instead of alpha.
    _alpha_per_weight_sum = False
    #: L-BFGS function tolerance; None keeps scipy's default.
    _lbfgs_ftol = None
    #: L-BFGS on variables scaled by the features' size (linear models).
    _scale_lbfgs = False
    #: names of the weight and bias arrays of layer l, for check_gradients
    _parameter_names = ("coefs_[{}]", "intercepts_[{}]")
    #: L-BFGS evaluations allowed (MLPBackprop exposes it as ``max_fun``).
    _max_fun = 15000
    #: partial_fit with early_stopping=True raises ValueError (scikit-learn's
    #: MLPs do); else it is ignored there, as partial_fit holds out nothing
    _partial_fit_refuses_early_stopping = False

    def _hidden_layer_sizes(self):
        return ()

    def _activation(self):
        return "identity"

    def _fit_intercept(self):
        return True

    def _output(self, n_outputs):
        """The output unit (:mod:`skbackprop._outputs`) for ``n_outputs``
        classes or targets."""
        raise NotImplementedError

    def _targets_known(self):
        """Whether a fit has fixed the targets (classes, or number of targets)."""
        raise NotImplementedError

    def _validate_training_data(
        self, X, y, sample_weight, *, incremental, classes, continuing, engine=None
    ):
        """``(X, y_enc, sample_weight)``: X validated in the engine's namespace;
        ``y`` in the form the output unit's ``targets`` takes and the combined
        weights, NumPy arrays."""
        raise NotImplementedError

    def _output_unit(self):
        """The output unit of the fitted targets."""
        raise NotImplementedError

    def _validation_split(self, indices, data, output, rng):
        """Training and validation indices for early stopping."""
        raise NotImplementedError

    def _validation_score(self, output, S, y_enc, sample_weight):
        """Early stopping's score of host scores ``S`` on held-out targets."""
        raise NotImplementedError

    def _init_theta(self, layout, rng, dtype):
        """Initial flat parameter vector."""
        raise NotImplementedError

    def _get_layers(self):
        """Fitted ``(coefs, intercepts)``, ``coefs[l]`` of shape (fan_in, fan_out)."""
        raise NotImplementedError

    def _set_layers(self, coefs, intercepts):
        raise NotImplementedError

    # fit ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input (CSR/CSC) is never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifiers: a 0/1 indicator matrix for multilabel
            targets) or target values (regressors).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a classifier's ``class_weight`` multiplies
            them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        """The transaction: a call completes, or leaves the estimator exactly
        as it was (:mod:`skbackprop._transaction`)."""
        if (
            incremental
            and self.early_stopping
            and self._partial_fit_refuses_early_stopping
        ):
            raise ValueError("partial_fit does not support early_stopping=True")
        continuing = (incremental or self.warm_start) and self._targets_known()
        # outside _fit_context, whose exit tears the callbacks down: a failing
        # teardown is undone too
        with fit_transaction(
            self, self.random_state, copy_state=TRAINING_STATE if continuing else ()
        ):
            return self._fit_in_context(X, y, sample_weight, incremental, classes)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_in_context(self, X, y, sample_weight, incremental, classes):
        task = fit_task(
            self, X, y, sample_weight, max_epochs=1 if incremental else self.max_iter
        )
        return self._train(X, y, sample_weight, incremental, classes, task)

    def _train(self, X, y, sample_weight, incremental, classes, task):
        continuing = (incremental or self.warm_start) and self._targets_known()
        # X's namespace and device decide the engine; targets and weights are
        # encoded on the host, then moved to X's device
        engine = engine_for(X)
        X, y_enc, sample_weight = self._validate_training_data(
            X,
            to_host(y),
            to_host(sample_weight),
            incremental=incremental,
            classes=classes,
            continuing=continuing,
            engine=engine,
        )
        dtype = engine.host_dtype(X.dtype)
        self._check_limits(X, sample_weight, dtype)
        sample_weight = engine.from_host(sample_weight)
        objective = self._objective(X, engine)
        T = engine.from_host(objective.output.targets(y_enc, dtype))
        # drawn on the host, as on NumPy: the same seed gives the same start
        theta, rng, record = self._starting_point(
            objective.layout, dtype, continuing, incremental
        )
        theta = engine.from_host(theta)
        on_epoch = task.epoch_hook(objective.layout, theta)
        data = TrainingData(X, y_enc, T, sample_weight)
        if self.solver == "lbfgs":
            loss = solve_lbfgs(self, objective, theta, data, record, on_epoch)
            state = None
        else:
            loss, state = solve_epochs(
                self, objective, theta, data, rng, record, incremental, on_epoch
            )
        # the objective's arrays go first: the fitted attributes are copies,
        # which then stay under the training's peak
        layout = objective.layout
        del objective
        engine = engine.fresh()  # without the training's workspaces
        self._set_layers(*layout.unpack(engine.to_host(theta)))
        move_fitted(self, engine.from_host)
        self._set_training_attributes(record, loss, rng, state)
        task.end()
        return self

    def _starting_point(self, layout, dtype, continuing, incremental):
        """``(theta, rng, record)`` a call starts from."""
        if continuing:
            # changed in place: the transaction holds copies
            rng = self._rng if incremental else check_random_state(self.random_state)
            coefs, intercepts = self._get_layers()
            theta = layout.pack(
                [to_host(c) for c in coefs], [to_host(b) for b in intercepts], dtype
            )
            record = self._record
        else:
            rng = check_random_state(self.random_state)
            # initial weights first: no earlier draw may depend on n_samples
            theta = self._init_theta(layout, rng, dtype)
            record = Record()
        record.tol = self.tol
        record.n_iter = 0
        return theta, rng, record

    def _validate_xy(self, X, y, *, continuing, ravel_column_y, engine, **checks):
        """``X`` (in the engine's namespace) and ``y`` as ``fit`` takes them
        (``checks`` adds to ``validate_data``'s); a ``y`` of one column is
        raveled, with scikit-learn's DataConversionWarning, where
        ``ravel_column_y``."""
        dtypes = _DTYPES if engine is None else tuple(engine.float_dtypes)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=dtypes,
            reset=not continuing,
            multi_output=True,
            **checks,
        )
        if ravel_column_y and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    @staticmethod
    def _host_stand_in(X, engine):
        """An empty NumPy array of X's length and host dtype: the weights need
        nothing more of X."""
        dtype = X.dtype if engine is None else engine.host_dtype(X.dtype)
        return np.empty((X.shape[0], 0), dtype=dtype)

    def _check_limits(self, X, sample_weight, dtype):
        """Fail fast: a network beyond memory, a penalty leaving nothing to learn."""
        n_samples = X.shape[0]
        rows = n_samples if self.solver == "lbfgs" else self._batch_size(n_samples)
        units = [X.shape[1], *self._hidden_layer_sizes(), self._output_unit().n_outputs]
        check_network_size(units, rows, dtype)
        if self._alpha_per_weight_sum:
            total = n_samples if sample_weight is None else float(sample_weight.sum())
            check_penalty_scale(self.alpha, total * rows / n_samples, dtype)

    def _objective(self, X, engine):
        """The training objective for ``X``'s features and the fitted targets."""
        output = self._output_unit()
        layout = Layout(
            [X.shape[1], *self._hidden_layer_sizes(), output.n_outputs],
            self._fit_intercept(),
        )
        return Objective(
            layout,
            self._activation(),
            output,
            self.alpha,
            self._alpha_per_weight_sum,
            engine,
        )

    def _objective_at_start(self, X, y, sample_weight):
        """The training problem at the fitted, or else the initial, parameters.

        Returns ``(objective, theta, X, T, sample_weight, names)`` where
        ``names`` maps each parameter array's name to its slice of ``theta``.
        Used by :func:`skbackprop.check_gradients`; validates like ``fit``.
        """
        fitted = self._targets_known()
        # a diagnostic: computed on the host, whatever the data's device
        X, y_enc, sample_weight = self._validate_training_data(
            to_host(X),
            to_host(y),
            to_host(sample_weight),
            incremental=False,
            classes=None,
            continuing=fitted,
        )
        objective = self._objective(X, NumPyEngine())
        T = objective.output.targets(y_enc, X.dtype)
        if fitted:
            coefs, intercepts = self._get_layers()
            theta = objective.layout.pack(
                [to_host(c) for c in coefs], [to_host(b) for b in intercepts], X.dtype
            )
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

    def _set_training_attributes(self, record, loss, rng, state):
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
        self._optimizer = state

    # persistence ----------------------------------------------------------
    def __getstate__(self):
        # the training record and solver state kept for warm starts and
        # partial_fit are persisted as plain dicts: loading a model (pickle or
        # skops.io) then trusts only the estimator's own class
        state = dict(super().__getstate__())
        if isinstance(state.get("_record"), Record):
            state["_record"] = dict(vars(state["_record"]))
        solver_state = state.get("_optimizer")
        if solver_state is not None and not isinstance(solver_state, dict):
            state["_optimizer"] = {
                "class": type(solver_state).__name__,
                **vars(solver_state),
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("_record"), dict):
            state["_record"] = Record(**state["_record"])
        if isinstance(state.get("_optimizer"), dict):
            attributes = dict(state["_optimizer"])
            classes = {cls.__name__: cls for cls in _STATE_CLASSES}
            solver_state = object.__new__(classes[attributes.pop("class")])
            solver_state.__dict__.update(attributes)
            state["_optimizer"] = solver_state
        super().__setstate__(state)

    # predict --------------------------------------------------------------
    @property
    def _fitted_weights(self):
        """The first layer's weights: their namespace and device are the fit's."""
        return self._get_layers()[0][0]

    def _scores(self, X, method="predict"):
        """Output scores ``S`` of shape (n_samples, n_outputs), in ``X``'s
        namespace and on its device; ``method`` names the caller in errors."""
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="_fitted_weights", method=method)
        engine = engine_for(X)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=tuple(engine.float_dtypes),
            reset=False,
        )
        coefs, intercepts = self._get_layers()
        layers = list(zip(coefs, intercepts, strict=True))
        return predict_scores(layers, X, self._activation(), engine)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
