"""From an estimator's parameters to a training run: the solver's driver,
its state kept between calls, early stopping's held-out data.

Two entry points, one per kind of solver: :func:`solve_lbfgs` and
:func:`solve_epochs` (``'gd'``, ``'sgd'``, ``'adam'``). Each trains ``theta``
in place and returns the final loss.
"""

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from ._array_api import to_host
from ._converging import Converging, LocalCurvature, new_converging_state
from ._decrement import NewtonDecrement
from ._lbfgs import ScaledProblem, run_lbfgs
from ._limits import check_validation_split
from ._linesearch import BarzilaiBorwein
from ._network import predict_scores
from ._solvers import make_update_rule
from ._step_size import Standardised, auto_learning_rate, lbfgs_scaling
from ._training import MiniBatches, run_epochs
from ._whitening import Whitened, WhitenedSteps
from ._whitening import applies as whitened_applies


@dataclass
class TrainingData:
    """What a call trains on.

    Attributes
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y_enc : ndarray
        Encoded labels (class indices, or a multilabel indicator matrix), or
        a regressor's target values.
    T : ndarray
        Targets, as the output unit encodes them.
    sample_weight : ndarray of shape (n_samples,) or None
        Raw weights; None for unit weights.
    """

    X: object
    y_enc: np.ndarray
    T: np.ndarray
    sample_weight: np.ndarray = None

    def rows(self, index, engine):
        """The data of the samples ``index`` (a NumPy index array); ``engine``
        takes the rows of the arrays it holds."""
        X = engine.take(self.X, index)
        if sparse.issparse(X):
            X = X.tocsr()
        return TrainingData(
            X,
            self.y_enc[index],
            engine.take(self.T, index),
            engine.take(self.sample_weight, index),
        )


def solve_lbfgs(estimator, objective, theta, data, record, on_epoch):
    """Minimise the objective with L-BFGS-B; ``theta`` ends at the solution."""
    layout, engine, X = objective.layout, objective.engine, data.X
    scaling = (
        lbfgs_scaling(layout, X, rms=engine.column_rms(X))
        if estimator._scale_lbfgs
        else None
    )
    run, products = engine.lbfgs_threads(
        layout.layer_units, objective.block_rows(X, theta.dtype), X
    )
    problem = ScaledProblem(
        objective, theta, (X, data.T, data.sample_weight), scaling, products
    )
    return run_lbfgs(
        problem,
        record=record,
        max_iter=estimator.max_iter,
        max_fun=estimator._max_fun,
        tol=estimator.tol,
        ftol=estimator._lbfgs_ftol,
        verbose=estimator.verbose,
        on_epoch=on_epoch,
        run=run,
    )


def solve_epochs(estimator, objective, theta, data, rng, record, incremental, on_epoch):
    """Train by epochs of the solver's driver.

    Returns
    -------
    loss : float
    state : update rule or BarzilaiBorwein
        The solver's state, kept with the model for the next ``partial_fit``.
    """
    record.early_stopping = estimator.early_stopping and not incremental
    validation_score = None
    if record.early_stopping:
        data, validation_score = split_validation(estimator, objective, data, rng)
    elif sparse.issparse(data.X) and estimator.solver != "gd":
        data = replace(data, X=data.X.tocsr())  # mini-batches are row slices
    X, T, sample_weight = data.X, data.T, data.sample_weight
    batch_size = estimator._batch_size(X.shape[0])
    # partial_fit goes on with the state (velocity, moments, step size) of the
    # previous call; fit, warm or not, starts afresh
    state = getattr(estimator, "_optimizer", None) if incremental else None
    if state is None:  # else changed in place: the transaction holds a copy
        state = _new_state(estimator, theta, X, sample_weight, batch_size, objective)
    # the update rule's vectors (velocity, moments) live with theta, also when
    # the previous call ran in another namespace
    for name, value in vars(state).items():
        if hasattr(value, "__array_namespace__"):
            setattr(state, name, objective.engine.from_host(to_host(value)))
    # 'auto' (a constant schedule) runs the driver on standardised coordinates
    converging = _converging(
        estimator, state, objective, theta, X, T, sample_weight, batch_size, incremental
    )
    inner_objective = objective if converging is None else converging.objective
    if isinstance(state, BarzilaiBorwein):
        driver = state.bind(inner_objective, X, T, sample_weight)
    else:
        driver = MiniBatches(
            state,
            inner_objective,
            X,
            T,
            sample_weight,
            batch_size,
            estimator.shuffle,
            rng,
        )
    if converging is not None:
        driver = converging.drive(driver)
    engine, rows = objective.engine, objective.block_rows(X, theta.dtype)
    run_epochs(
        driver,
        theta,
        record=record,
        max_iter=estimator.max_iter,
        n_iter_no_change=estimator.n_iter_no_change,
        incremental=incremental,
        validation_score=validation_score,
        verbose=estimator.verbose,
        on_epoch=on_epoch,
        threads=engine.stochastic_threads(
            objective.layout.layer_units, min(batch_size, rows), X
        ),
    )
    if record.early_stopping and record.best_theta is not None:
        theta[...] = record.best_theta
    loss = record.loss_curve[-1] if record.loss_curve else np.nan
    return loss, state


def _new_state(estimator, theta, X, sample_weight, batch_size, objective):
    """A fresh solver state. With the 'auto' step and a constant schedule
    the solver runs on standardised coordinates
    (:mod:`skbackprop._converging`), ``'gd'`` searching its step
    (:class:`BarzilaiBorwein`)."""
    learning_rate_init = estimator.learning_rate_init
    auto = learning_rate_init == "auto"
    dtype = objective.engine.host_dtype(theta.dtype)  # the state is made on the host
    if auto:
        X, w = _host_data(objective.engine, X, sample_weight)
    if auto and estimator.learning_rate == "constant":
        return new_converging_state(
            estimator,
            lambda step: _rule(estimator, theta, dtype, step, searched=True),
            X,
            w,
            batch_size,
            objective,
        )
    if auto:
        learning_rate_init = auto_learning_rate(
            estimator.solver,
            X,
            w,
            objective.output.curvature,
            estimator.alpha,
            objective.layout.fit_intercept,
            batch_size,
        )
    return _rule(estimator, theta, dtype, learning_rate_init, searched=False)


def _host_data(engine, X, sample_weight):
    """``X`` on the host and the sample weights normalised to sum to one
    (the statistics of the data behind the 'auto' steps)."""
    X, sample_weight = engine.to_host(X), engine.to_host(sample_weight)
    n = X.shape[0]
    if sample_weight is None:
        return X, np.full(n, 1.0 / n, dtype=X.dtype)
    return X, sample_weight / sample_weight.sum()


def _converging(
    estimator, state, objective, theta, X, T, sample_weight, batch_size, incremental
):
    """The driver of 'auto' (None for another step), with the few-batch
    'sgd' step where it applies and ``fit``'s decrement test."""
    if not Converging.applies(state):
        return None
    local = whitening = None
    if whitened_applies(estimator, objective, X.shape[0], batch_size, incremental):
        whitening = _whitening(state, objective, theta, X, sample_weight, batch_size)
    elif LocalCurvature.applies(
        estimator, objective.output, X.shape[0], batch_size, incremental
    ):
        local = _local_curvature(estimator, state, objective, X, sample_weight)
    decrement = None
    if NewtonDecrement.applies(objective, incremental):
        decrement = NewtonDecrement(
            objective,
            Standardised(objective.layout, state.auto_mean, state.auto_scale),
            X,
            T,
            sample_weight,
        )
    return Converging(state, objective, theta, X.shape[0], local, decrement, whitening)


def _whitening(state, objective, theta, X, sample_weight, batch_size):
    """The factory of the whitened coordinates and their step for this fit
    (:class:`~skbackprop._whitening.WhitenedSteps`), given the standardisation
    training runs on."""
    e = objective.engine
    X, w = _host_data(e, X, sample_weight)
    host = Standardised(
        objective.layout, e.to_host(state.auto_mean), e.to_host(state.auto_scale)
    )
    lam = objective.penalty_strength(X.shape[0], None)
    n_batches = -(-X.shape[0] // batch_size)

    def whitening(standardised):
        whitened = Whitened(standardised, X, w, host, objective.output, lam, e, theta)
        return WhitenedSteps(whitened, state, n_batches)

    return whitening


def _local_curvature(estimator, state, objective, X, sample_weight):
    """The few-batch ``'sgd'`` step's helper for this fit, its floor the
    fresh state's global step."""
    e = objective.engine
    X, w = _host_data(e, X, sample_weight)
    standardised = Standardised(
        objective.layout, e.to_host(state.auto_mean), e.to_host(state.auto_scale)
    )
    return LocalCurvature(
        X,
        w,
        standardised,
        objective.output,
        estimator.alpha,
        estimator._batch_size(X.shape[0]),
        state.learning_rate,
    )


def _rule(estimator, theta, dtype, learning_rate_init, searched):
    """The solver's update rule, or for ``'gd'`` with ``searched`` the
    searched step (:class:`BarzilaiBorwein`) from ``learning_rate_init``;
    made on the host, in ``dtype``."""
    if searched and estimator.solver == "gd":
        return BarzilaiBorwein(theta.size, dtype, learning_rate_init)
    return make_update_rule(
        estimator.solver,
        theta.size,
        dtype,
        learning_rate_init,
        estimator.get_params(),
    )


def split_validation(estimator, objective, data, rng):
    """Hold out ``validation_fraction`` of the data (the estimator's
    ``_validation_split`` draws it).

    Returns the training part (:class:`TrainingData`) and the validation
    score, a function of the parameters.
    """
    check_validation_split(estimator.validation_fraction, data.X.shape[0])
    e = objective.engine
    indices = np.arange(data.X.shape[0])
    # the split is drawn on the host, from the targets there
    host_data = replace(data, T=e.to_host(data.T))
    train, val = estimator._validation_split(indices, host_data, objective.output, rng)
    if val.size < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    held_out = data.rows(val, e)
    held_out_weight = e.to_host(held_out.sample_weight)
    layout, output = objective.layout, objective.output
    engine = e.fresh()  # its arrays are freed after each score

    def validation_score(theta):
        layers = engine.views(layout)(theta)
        S = predict_scores(layers, held_out.X, objective.activation, engine)
        return estimator._validation_score(
            output, e.to_host(S), held_out.y_enc, held_out_weight
        )

    return data.rows(train, e), validation_score
