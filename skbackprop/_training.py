"""Drivers, the training loops: batch -> forward -> loss -> backward -> update.

:func:`run_epochs` is the loop of ``'gd'``, ``'sgd'`` and ``'adam'``: it runs
epochs of a *driver*, records them, applies the stopping rules and guards
against divergence; it knows no solver by name. A driver runs one epoch:
:class:`MiniBatches` (a pass over the data in batches, an update rule's step
after each; ``'gd'`` takes the whole data as one batch), or the line-searched
full-batch step of :mod:`skbackprop._linesearch`. L-BFGS, whose loop scipy
runs, is in :mod:`skbackprop._lbfgs`.
"""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._array_api import get_namespace

from ._transaction import EpochCheckpoint

# a loss this many times the first loss of the training (or 1) is divergence:
# a stable step never multiplies the loss like this
_EXPLOSION_FACTOR = 1e8


@dataclass
class Record:
    """What training has seen so far; kept between ``partial_fit`` calls.

    Mirrors the attributes of ``MLPClassifier`` (``loss_curve_``, ``best_loss_``,
    ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``).
    """

    tol: float = 1e-4
    early_stopping: bool = False
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list = field(default_factory=list)
    best_validation_score: float = -np.inf
    best_theta: np.ndarray = None
    no_improvement_count: int = 0
    n_iter: int = 0
    t: int = 0

    def end_epoch(self, loss, theta, validation_score):
        """Log an epoch and update the no-improvement count (scikit-learn's rule)."""
        self.loss_curve.append(loss)
        self.n_iter += 1
        if self.early_stopping:
            self.validation_scores.append(validation_score)
            if validation_score < self.best_validation_score + self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            if validation_score > self.best_validation_score:
                self.best_validation_score = validation_score
                self.best_theta = _copy(theta)
        else:
            if loss > self.best_loss - self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            self.best_loss = min(self.best_loss, loss)

    def report(self, verbose):
        """Print the last epoch's line when ``verbose``."""
        if verbose:
            print(f"Iteration {self.n_iter}, loss = {self.loss_curve[-1]:.8f}")
            if self.early_stopping:
                print(f"Validation score: {self.validation_scores[-1]:f}")


def _copy(theta):
    """A copy of ``theta`` in its own namespace, on its device."""
    xp, _ = get_namespace(theta)
    return xp.asarray(theta, copy=True)


class DivergenceError(ValueError):
    """Training diverged: the loss or a parameter is non-finite, or the loss
    exploded."""

    def __init__(self, message, loss):
        super().__init__(message)
        self.loss = loss


def divergence_error(epoch, loss, learning_rate_init):
    """The ValueError raised when training diverges. A non-finite loss or
    parameter is also named in MLPRegressor's words."""
    non_finite = (
        ""
        if math.isfinite(loss)
        else "Solver produced non-finite parameter weights. The input data may "
        "contain large values and need to be preprocessed. "
    )
    return DivergenceError(
        f"{non_finite}Training diverged at iteration {epoch}: the loss became "
        f"{loss:.3g}. The step size is too large for this data: lower "
        f"learning_rate_init (currently {learning_rate_init!r}) or standardise "
        "the features.",
        loss,
    )


class DivergenceGuard:
    """Raises :func:`divergence_error` on a non-finite or exploding loss, or
    on non-finite parameters, at the current epoch of ``record``."""

    def __init__(self, record, learning_rate_init):
        self.record = record
        self.learning_rate_init = learning_rate_init
        # the first loss of the training, kept across partial_fit calls
        self.reference = record.loss_curve[0] if record.loss_curve else None

    def loss(self, loss):
        self.reference = loss if self.reference is None else self.reference
        if not math.isfinite(loss) or loss > _EXPLOSION_FACTOR * max(
            self.reference, 1.0
        ):
            raise divergence_error(
                self.record.n_iter + 1, loss, self.learning_rate_init
            )

    def parameters(self, theta, e):
        if not e.all_finite(theta):
            raise divergence_error(
                self.record.n_iter + 1, np.inf, self.learning_rate_init
            )


def _batches(n_samples, batch_size, order):
    """Index objects of the batches of an epoch: slices, or index arrays."""
    for start in range(0, n_samples, batch_size):
        batch = slice(start, min(start + batch_size, n_samples))
        yield batch if order is None else order[batch]


class MiniBatches:
    """Epochs of mini-batches: for each batch, forward, loss, backward, then
    the update rule's step.

    Parameters
    ----------
    rule : update rule (:mod:`skbackprop._solvers`)
    objective : Objective
    X, T, sample_weight : training data, targets and raw weights (or None).
    batch_size : int
    shuffle : bool
        Shuffle the samples every epoch (not when one batch holds them all).
    rng : numpy.random.RandomState
    """

    def __init__(self, rule, objective, X, T, sample_weight, batch_size, shuffle, rng):
        self.rule, self.objective = rule, objective
        self.X, self.T, self.sample_weight = X, T, sample_weight
        self.batch_size, self.rng = batch_size, rng
        self.e = objective.engine
        shuffled = shuffle and batch_size < X.shape[0]
        self.order = self.e.shuffle_order(X) if shuffled else None
        self.grad = None
        self.learning_rate_init = rule.learning_rate_init

    def epoch(self, theta, guard):
        """One pass over the data; returns the mean of the batch losses."""
        if self.grad is None:
            self.grad = self.e.empty_like(theta)
        e, grad = self.e, self.grad
        order = None
        if self.order is not None:
            self.rng.shuffle(self.order)  # on the host: NumPy's permutation
            order = e.batch_order(self.order)
        losses, sizes = [], []
        for batch in _batches(self.X.shape[0], self.batch_size, order):
            X = e.rows(self.X, batch, "X")
            T = e.rows(self.T, batch, "T")
            w = e.rows(self.sample_weight, batch, "w")
            # forward, loss and backward
            loss = self.objective(theta, X, T, w, grad)
            losses.append(loss)
            sizes.append(X.shape[0])
            if not e.lazy_scalars:  # checked before the step that would use it
                guard.loss(loss)
            # update
            self.rule.step(theta, grad, e)
        if e.lazy_scalars:
            # a device's losses are read once an epoch: reading one waits for it
            losses = e.to_floats(losses)
            for loss in losses:
                guard.loss(loss)
        total = 0.0
        for loss, size in zip(losses, sizes, strict=True):
            total += loss * size
        guard.parameters(theta, e)
        return total / self.X.shape[0]

    def commit(self, theta, record, checkpoint):
        """The epoch is complete: Ctrl-C now restores the model, the update
        rule's state and the generator to this point."""
        checkpoint.commit(theta, record, self.rule, self.rng)

    def rollback(self, theta, record, checkpoint):
        checkpoint.rollback(theta, record, self.rule, self.rng)

    def finish(self):
        pass

    def end_epoch(self, samples_seen):
        self.rule.end_epoch(samples_seen)

    def reduce_learning_rate(self):
        return self.rule.reduce_learning_rate()

    @property
    def learning_rate(self):
        return self.rule.learning_rate


def run_epochs(
    driver,
    theta,
    *,
    record,
    max_iter,
    n_iter_no_change,
    incremental=False,
    validation_score=None,
    verbose=0,
    on_epoch=None,
    threads=None,
):
    """Train ``theta`` in place, epoch after epoch of ``driver``.

    Parameters
    ----------
    driver : MiniBatches or the line-searched full batch
    theta : ndarray of shape (n_params,)
    record : Record
    max_iter : int
        Epochs at most; ``incremental`` runs exactly one.
    n_iter_no_change : int
    incremental : bool, default=False
    validation_score : callable, default=None
        ``theta -> score`` on held-out data, for early stopping.
    verbose : int, default=0
    on_epoch : callable, default=None
        Called as ``on_epoch(theta, record)`` after each epoch; a true return
        stops training.
    threads : context manager, default=None
        The engine's BLAS thread policy for the run.

    Returns
    -------
    stopped : bool
        Whether a stopping rule (not ``max_iter``) ended training.
    """
    guard = DivergenceGuard(record, driver.learning_rate_init)
    # the state after the last complete epoch: Ctrl-C in fit goes back to it
    checkpoint = EpochCheckpoint(incremental)
    n_samples = driver.X.shape[0]
    try:
        with np.errstate(over="ignore", invalid="ignore"), threads:
            for _ in range(1 if incremental else max_iter):
                try:
                    loss = driver.epoch(theta, guard)
                except DivergenceError as error:
                    if not record.early_stopping or record.best_theta is None:
                        raise
                    _stop_diverged(record, error, verbose)
                    return True
                record.t += n_samples
                score = None if validation_score is None else validation_score(theta)
                record.end_epoch(loss, theta, score)
                record.report(verbose)
                driver.end_epoch(record.t)
                if _should_stop(
                    record, driver, n_iter_no_change, verbose, on_epoch, theta
                ):
                    return True
                driver.commit(theta, record, checkpoint)
    except KeyboardInterrupt:
        driver.rollback(theta, record, checkpoint)  # re-raises unless restored
        return True
    finally:
        driver.finish()
    if not incremental:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and "
            "the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return False


def _stop_diverged(record, error, verbose):
    """Early stopping has kept a best model: training stops there (the caller
    restores it) instead of raising, and the epoch is recorded with a NaN
    validation score, as MLPClassifier/MLPRegressor record it."""
    record.end_epoch(error.loss, None, np.nan)
    record.report(verbose)
    warnings.warn(
        f"{error} Training stopped; the parameters of the best validation "
        "score are kept.",
        ConvergenceWarning,
        stacklevel=4,
    )


def _should_stop(record, driver, n_iter_no_change, verbose, on_epoch, theta):
    """The stopping rules checked after each epoch."""
    if on_epoch is not None and on_epoch(theta, record):
        return True
    own_rule = getattr(driver, "stopping_rule", None)  # replaces the stall rule
    if own_rule is not None:
        return own_rule(record, n_iter_no_change, verbose)
    if record.no_improvement_count <= n_iter_no_change:
        return False
    what = "Validation score" if record.early_stopping else "Training loss"
    msg = (
        f"{what} did not improve more than tol={record.tol:f} for "
        f"{n_iter_no_change} consecutive epochs."
    )
    if not driver.reduce_learning_rate():
        if verbose:
            print(msg + " Stopping.")
        return True
    if verbose:
        print(msg + f" Setting learning rate to {driver.learning_rate:f}")
    record.no_improvement_count = 0
    return False
