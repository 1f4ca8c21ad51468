"""L-BFGS: scipy's L-BFGS-B on the objective, optionally on scaled variables.

scipy runs the loop; this module gives it the loss and gradient
(:class:`ScaledProblem`, the change of variables ``theta = d * u``), records
every iteration and turns scipy's outcome into the estimator's.
"""

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._transaction import EpochCheckpoint


def _divergence_error(loss):
    return ValueError(
        f"L-BFGS reached a non-finite objective ({loss}); standardise the features "
        "or increase alpha (learning_rate_init does not apply to solver='lbfgs')."
    )


class ScaledProblem:
    """The objective in L-BFGS-B's variables ``u``, with ``theta = d * u``.

    With ``d`` None the variables are the parameters themselves; scipy gets a
    new float64 gradient at every call, as it keeps it.

    Parameters
    ----------
    objective : Objective
    theta : ndarray of shape (n_params,)
        The starting point, overwritten with each point accepted.
    data : tuple
        ``(X, T, sample_weight)``.
    d : ndarray of shape (n_params,) or None
    products : callable
        Context-manager factory around each evaluation (the engine's threads).
    """

    def __init__(self, objective, theta, data, d, products):
        self.objective, self.theta, self.data, self.d = objective, theta, data, d
        self.products = products
        # the engine's arrays (on its device); L-BFGS-B's stay on the host
        self.e = e = objective.engine
        self.work = e.copy(theta)
        self.grad = e.empty_like(theta)
        self._grad_host = None
        self.start_loss = None
        self._u = None  # the last point evaluated, when scaled

    def start(self):
        """L-BFGS-B's first point."""
        theta = self.e.to_host(self.theta)
        return theta.astype(np.float64) if self.d is None else theta / self.d

    def to_theta(self, u):
        return u if self.d is None else self.d * u

    def set_theta(self, u):
        """``theta`` at L-BFGS-B's point ``u``."""
        self.e.set_from_host(self.theta, self.to_theta(u))

    def __call__(self, u):
        """Loss and gradient at ``u``."""
        # theta = d * u, computed in float64 and rounded to theta's dtype
        self.e.set_from_host(self.work, self.to_theta(u))
        with self.products():
            loss = float(self.objective(self.work, *self.data, self.grad))
        if self.start_loss is None:
            self.start_loss = loss
        grad = self._grad_host = self.e.to_host(self.grad)
        if self.d is None:
            return loss, grad.astype(np.float64)
        self._u = u.copy()
        return loss, self.d * grad

    def converged(self, u, tol):
        """``max |dJ/dtheta| <= tol`` at ``u``: the stopping rule on the true
        gradient (scipy's tests the scaled one)."""
        if self.d is None:
            return False  # scipy's own test is the rule
        if not np.array_equal(self._u, u):
            self(u)
        return np.abs(self._grad_host).max(initial=0.0) <= tol

    def gtol(self, tol):
        """scipy's gradient tolerance: ``tol * min(d)`` on the scaled
        gradient stops only where the true rule holds too."""
        return tol if self.d is None else tol * float(self.d.min(initial=1.0))


def run_lbfgs(
    problem,
    *,
    record,
    max_iter,
    max_fun,
    tol,
    ftol=None,
    verbose=0,
    on_epoch=None,
    run=None,
):
    """Minimise ``problem`` (a :class:`ScaledProblem`) with L-BFGS-B.

    Every iteration is an entry of ``record.loss_curve``; ``problem.theta``
    ends at the solution.

    Parameters
    ----------
    problem : ScaledProblem
    record : Record
    max_iter, max_fun : int
        scipy's ``maxiter`` and ``maxfun``.
    tol : float
        Gradient tolerance.
    ftol : float, default=None
        Relative function-decrease tolerance; None keeps scipy's default.
    verbose : int, default=0
    on_epoch : callable, default=None
        Called as ``on_epoch(theta, record)`` after each iteration; a true
        return stops training.
    run : context manager
        The engine's thread policy for the run.

    Returns
    -------
    loss : float
        The objective at the solution.
    """
    theta = problem.theta
    # the last complete iteration: Ctrl-C goes back to it
    checkpoint = EpochCheckpoint(incremental=False)

    def callback(intermediate_result):
        if not np.isfinite(intermediate_result.fun):
            return
        problem.set_theta(intermediate_result.x)
        record.end_epoch(float(intermediate_result.fun), theta, None)
        record.report(verbose)
        if on_epoch is not None and on_epoch(theta, record):
            raise StopIteration
        checkpoint.commit(theta, record)
        if problem.converged(intermediate_result.x, tol):
            raise StopIteration

    options = {"maxiter": max_iter, "maxfun": max_fun, "gtol": problem.gtol(tol)}
    if ftol is not None:
        options.update(ftol=ftol, maxls=50)
    start = problem.start()
    try:
        with np.errstate(over="ignore", invalid="ignore"), run:
            result = scipy.optimize.minimize(
                problem,
                start,
                method="L-BFGS-B",
                jac=True,
                options=options,
                callback=callback,
            )
    except KeyboardInterrupt:
        checkpoint.rollback(theta, record)  # re-raises before any iteration
        return record.loss_curve[-1]
    return _outcome(problem, result, start)


def _outcome(problem, result, start):
    """Set ``problem.theta`` from scipy's result and warn as needed."""
    if not np.isfinite(result.fun) or not np.isfinite(result.x).all():
        raise _divergence_error(result.fun)
    if result.fun > problem.start_loss:
        # a failed first line search (its trial step has norm 1, far too long
        # for a huge gradient) can end worse than the start: keep the start
        problem.set_theta(start)
        warnings.warn(
            f"lbfgs made no progress ({result.message}); the parameters are left "
            "where they started. Scale the data (e.g. StandardScaler) or use "
            "solver='gd'.",
            ConvergenceWarning,
            stacklevel=4,
        )
        return float(problem.start_loss)
    problem.set_theta(result.x)
    if result.status == 1:
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iterations "
            f"(status={result.status}): {result.message}. Increase max_iter "
            "(or max_fun), or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return float(result.fun)
