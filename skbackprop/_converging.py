r"""The driver of ``learning_rate_init='auto'`` for the linear models' ``'gd'``,
``'sgd'`` and ``'adam'``: training in standardised coordinates, epoch
averages, and stopping rules that tell noise from progress.

:class:`Converging` wraps a driver (:class:`~skbackprop._training.MiniBatches`
or the searched full-batch step) that runs on the coordinates ``u`` of
:class:`~skbackprop._step_size.Standardised`, through :class:`ObjectiveOfU`;
``theta``, which :func:`~skbackprop._training.run_epochs`, the hooks and the
checkpoints see, is the model so far: ``A u`` for ``'gd'``, the mean iterate
of the last epoch, mapped back, for the stochastic solvers. After each epoch
(:meth:`Converging.stopping_rule`):

* **converged** when half the Newton decrement of the model,
  :math:`g^\top H^{-1} g / 2`, the gap to the optimum of its quadratic model,
  is at most ``tol`` (:class:`~skbackprop._decrement.NewtonDecrement`), tested
  after an epoch that did not improve the loss by ``tol`` (near the optimum,
  or in a flat valley), the tests spaced so that their cost stays small. In
  ``partial_fit`` (whose call sees a chunk of the data) the test is the
  gradient's, :math:`\max_j |\bar g_j| \le` ``tol``, :math:`\bar g` the
  epoch's mean batch gradient in ``u``;
* **the step is divided by** :data:`SHRINK` at a plateau (the epoch loss no
  lower than the last one's) where the mean gradient is noise and
  successive mean gradients do not point the same way (cosine at most
  :data:`DRIFT_COSINE`); Adam, whose steps have a fixed length, also at a
  plateau after a stall; with a few batches an epoch (at most
  :data:`FEW_BATCHES`), where a loss above the last epoch's is a ripple of
  momentum and batches, only at a loss above all of the last :data:`MEMORY`
  epochs', the evidence the few-batch ``'sgd'`` step halves on. Noise:
  :math:`m\lVert\bar g\rVert^2 \le V(1 - 2\sqrt{2/(m-1)})`, :math:`V` the
  mean of :math:`\lVert g_B - \bar g\rVert^2` over the :math:`m` batches,
  taken at its lower confidence bound
  (the estimate from :math:`m` batches is uncertain by
  :math:`\sqrt{2/(m-1)}` of itself): with fewer than ten batches an epoch
  nothing passes for noise. Training stops once the step is
  :data:`SMALLEST_STEP` of its start;
* **Adam's step is multiplied by** :data:`GROW` after an epoch whose loss
  fell while the mean gradient kept its direction (drifting), up to
  :data:`LONGEST_STEP` times its start. An Adam update moves each coordinate
  by about the step, whatever the gradient's size, so along a long, gently
  sloped valley the step length alone sets the pace; an overshoot shows as a
  plateau, where the shrink above undoes several growths at once. Momentum
  SGD's step is not grown: it starts at the largest stable step
  (:func:`~skbackprop._step_size.standardised_step`), and past it the
  iterates diverge;
* **with a few batches an epoch** (``fit``, at most :data:`FEW_BATCHES`),
  ``'sgd'``'s step follows the curvature at the model
  (:class:`LocalCurvature`): nothing passes for noise there, and the iterate
  stays near where the curvature was measured. Separate sigmoid units
  (LogisticRegressionGD) run ``'sgd'`` and ``'adam'`` instead in coordinates
  whitened by each unit's Hessian at the model
  (:mod:`skbackprop._whitening`), with the step rule there; of the rules
  here only the decrement test applies to them;
* **stalled** (``n_iter_no_change`` epochs without an improvement of
  ``tol``): stop, as scikit-learn does, when the epoch is noise. Otherwise
  the loss still falls, if by less than ``tol`` an epoch (a flat valley,
  which small problems have at a small ``alpha``): training goes on, to the
  decrement test or ``max_iter``.
"""

import math

import numpy as np
from sklearn.utils._array_api import get_namespace

from ._step_size import (
    Standardised,
    batch_lipschitz,
    largest_standardised_row_norm2,
    standardised_power_iteration,
    standardised_step,
)

#: the step is divided by this at a plateau (``'adaptive'``'s factor)
SHRINK = 5.0
#: training stops once the step has been divided by this much in all
SMALLEST_STEP = 1e-4
#: with at most this many batches an epoch nothing passes for noise (the
#: variance's lower confidence bound is 0): the epoch is treated as exact
FEW_BATCHES = 9
#: successive epochs' mean gradients more aligned than this: still drifting
DRIFT_COSINE = 0.95
#: with a few batches an epoch, a loss above all of the last this many
#: epochs' means the steps went too far
MEMORY = 10
#: Adam's step is multiplied by this after a falling, drifting epoch
GROW = 1.2
#: ... up to this many times its start
LONGEST_STEP = 10.0


def new_high(losses):
    """Whether the last of ``losses`` is above all of the :data:`MEMORY`
    before it: with momentum and a few batches an epoch the loss ripples, and
    only a rise past the whole window says the steps went too far."""
    return losses[-1] > max(losses[-MEMORY - 1 : -1], default=math.inf)


def new_converging_state(estimator, make_rule, X, sample_weight, batch_size, objective):
    """A fresh solver state for ``'auto'`` with a constant schedule: the
    update rule (or searched step) ``make_rule(step)`` of the step in
    standardised coordinates, carrying the standardisation (plain arrays and
    numbers: the state is persisted as a dict)."""
    standardised = Standardised.from_data(
        objective.layout, X, sample_weight, X.dtype, estimator.alpha
    )
    step = standardised_step(
        estimator.solver,
        X,
        sample_weight,
        objective.output.curvature,
        estimator.alpha,
        batch_size,
        standardised,
    )
    state = make_rule(step)
    state.auto_mean, state.auto_scale = standardised.mean, standardised.scale
    state.auto_shrunk = 1.0
    return state


def _largest_abs(v):
    """``max |v_i|`` (without a temporary on the host)."""
    if isinstance(v, np.ndarray):
        return max(float(v.max(initial=0.0)), -float(v.min(initial=0.0)))
    xp, _ = get_namespace(v)
    return float(xp.max(xp.abs(v))) if v.shape[0] else 0.0


class ObjectiveOfU:
    """``J(A u)`` and its gradient ``A^T dJ/dtheta``; everything else is the
    wrapped objective's. ``theta`` is the scratch that holds ``A u``.

    Each evaluation is added to ``statistics`` (:class:`EpochStatistics`).
    """

    def __init__(self, objective, standardised, theta, statistics):
        self._objective, self._standardised = objective, standardised
        self._theta, self._statistics = theta, statistics
        # called at every batch: bound once
        self._to_theta, self._to_u = standardised.to_theta, standardised.gradient_to_u
        self._add, self._engine = statistics.add, objective.engine

    def __getattr__(self, name):
        return getattr(self._objective, name)

    def __call__(self, u, X, T, sample_weight, grad):
        theta = self._theta
        self._to_theta(u, theta)
        loss = self._objective(theta, X, T, sample_weight, grad)
        self._to_u(grad)
        self._add(u, grad, X.shape[0], self._engine)
        return loss


class EpochStatistics:
    """The mean iterate and mean batch gradient of an epoch, with the spread
    of the batch gradients.

    Parameters
    ----------
    n_samples : int
        The samples of an epoch: each batch weighs its share of them.
    template : ndarray
        Gives the size and dtype of the sums.
    average : bool
        Keep the mean iterate and gradient (the stochastic solvers), or only
        the largest entry of the last gradient (the searched full batch).
    """

    def __init__(self, n_samples, template, average):
        self.n_samples, self.average = n_samples, average
        xp, _ = get_namespace(template)
        self.theta_sum = xp.zeros_like(template) if average else None
        self.grad_sum = xp.zeros_like(template) if average else None
        self.previous = None  # the last epoch's mean gradient
        self._reset()
        self.gradient_max = math.inf
        self.noise_dominated = self.drifting = self.stochastic = False
        self.few_batches = False

    def _reset(self):
        self.weight = self.square_sum = 0.0
        # the weight of the last batch, whose step's end point comes next
        self.pending = 0.0
        self.n_batches = 0

    def add(self, u, grad, rows, e):
        """A batch of ``rows`` samples evaluated at ``u``, gradient ``grad``."""
        if not self.average:
            self.gradient_max = _largest_abs(grad)
            return
        weight = rows / self.n_samples
        e.axpy(weight, grad, self.grad_sum)
        # the mean iterate is over the points *after* each step: ``u`` ends the
        # previous batch's step (the last one's end comes in end_epoch)
        if self.pending:
            e.axpy(self.pending, u, self.theta_sum)
        self.pending = weight
        self.square_sum += weight * e.dot(grad, grad)
        self.weight += weight
        self.n_batches += 1

    def end_epoch(self, e, u):
        """Set the epoch's statistics, ``u`` the point the epoch ends at;
        ``theta_sum`` ends as the mean iterate (until the next :meth:`add`)."""
        if not self.average or self.weight == 0:
            return
        e.axpy(self.pending, u, self.theta_sum)
        mean = self.grad_sum
        e.scale(1.0 / self.weight, mean)
        e.scale(1.0 / self.weight, self.theta_sum)
        if self.previous is None:
            self.previous = e.copy(mean)
            self.drifting = False
        else:
            norms = math.sqrt(e.dot(mean, mean) * e.dot(self.previous, self.previous))
            self.drifting = e.dot(mean, self.previous) > DRIFT_COSINE * norms
            self.previous[...] = mean
        self.gradient_max = _largest_abs(mean)
        mean_square = e.dot(mean, mean)
        variance = max(self.square_sum / self.weight - mean_square, 0.0)
        self.stochastic = self.n_batches > 1
        self.few_batches = self.n_batches <= FEW_BATCHES
        # the mean of m batch gradients no larger than the noise of such a
        # mean: no descent direction is left that the noise does not hide
        # V estimated from m batches is uncertain by sqrt(2 / (m - 1)) of itself:
        # the test takes V's lower confidence bound (two of those below), so
        # that a few batches an epoch never pass for noise
        m = self.n_batches
        certain = 1.0 - 2.0 * math.sqrt(2.0 / (m - 1)) if m > 1 else 0.0
        self.noise_dominated = self.stochastic and mean_square * m <= variance * max(
            certain, 0.0
        )
        mean[...] = 0.0
        self._reset()

    def start_epoch(self):
        if self.average:
            self.theta_sum[...] = 0.0


class Halving:
    """A step factor from the epoch losses of a few-batch fit: halved when
    the loss exceeds all of the last :data:`MEMORY` (momentum and the batches
    make it ripple; a rise above all of them means the steps went too far),
    doubled back, up to 1, after :data:`MEMORY` epochs without such a rise
    (the same window of evidence the other way: the curvature moves, and a
    halving early in a fit need not hold at its end)."""

    def __init__(self):
        self.factor = 1.0
        self.calm = 0  # epochs since the factor last changed or the loss rose
        self.recent_losses = []

    def factor_after(self, loss):
        """The factor after an epoch whose loss is ``loss``."""
        self.recent_losses = [*self.recent_losses[-MEMORY:], loss]
        if new_high(self.recent_losses):
            self.factor /= 2.0
            self.calm = 0
        else:
            self.calm += 1
            if self.calm >= MEMORY and self.factor < 1.0:
                self.factor, self.calm = min(2.0 * self.factor, 1.0), 0
        return self.factor

    def halve(self):
        """Halve the factor on other evidence (a stall), starting the calm
        window again."""
        self.factor /= 2.0
        self.calm = 0
        return self.factor


class LocalCurvature:
    r"""The step of ``'sgd'`` on a few batches an epoch, from the curvature
    at the model.

    :func:`~skbackprop._step_size.standardised_step` bounds the curvature of
    the loss in the scores by its worst case (1/2 for the softmax, 1/4 for a
    sigmoid unit) at every sample. Near the optimum of a problem whose classes
    are mostly told apart, most samples are classified with confidence and
    their curvature :math:`c_i` (the output's ``sample_curvature``) is near 0:
    the Lipschitz constant *there*,

    .. math::

        L(\theta) = \lambda_{\max}(Z^\top \mathrm{diag}(w \odot c(\theta))\, Z)
                   + \alpha \max_j d_j^2,

    can be far smaller, and the flat directions, crossed at a rate
    proportional to the step, that much faster. With :math:`b < n` the step
    is :math:`1/L_b(\theta)`, the expected smoothness of a batch with
    :math:`L_{\max}(\theta) = \max_i c_i \lVert z_i\rVert^2 + \max_i c_i +
    \alpha\max_j d_j^2`. With at most :data:`FEW_BATCHES` batches an epoch
    nothing passes for noise: the iterate stays near where the curvature was
    measured, and the step follows :math:`1/L_b(\theta)` of the model after
    each epoch:

    * never below the global step ``floor`` (stable everywhere);
    * at most twice the last step (no jump past what was measured);
    * times the factor of :class:`Halving` (halved at a loss above all of
      the last :data:`MEMORY` epochs', doubled back after as many without),
      so never past ``1/L_b``.

    The power iteration starts from the last top eigenvector, so after the
    first estimate a few products suffice. Everything here is on the host:
    ``X`` has at most ``FEW_BATCHES * batch_size`` rows.

    Parameters
    ----------
    X : ndarray or sparse matrix
        The training data, on the host.
    w : ndarray of shape (n_samples,)
        Sample weights summing to one.
    standardised : Standardised
        The coordinates the step is for (host arrays).
    output : output unit
        Has ``sample_curvature(S)``.
    alpha : float
    batch_size : int
    floor : float
        The global ``'auto'`` step.
    """

    #: power iterations of the first estimate, and of each later one
    FIRST, LATER = 30, 5

    def __init__(self, X, w, standardised, output, alpha, batch_size, floor):
        self.X, self.w, self.standardised, self.output = X, w, standardised, output
        self.batch_size = min(batch_size, X.shape[0])
        d = standardised.scale.astype(np.float64)
        self.penalty = alpha * float(np.max(d * d, initial=0.0))
        self.floor = self.step = floor
        self.halving = Halving()
        self.vector = None

    @staticmethod
    def applies(estimator, output, n_samples, batch_size, incremental):
        """Whether ``fit`` of ``'sgd'`` on a classifier with at most
        :data:`FEW_BATCHES` batches an epoch."""
        return (
            estimator.solver == "sgd"
            and not incremental
            and -(-n_samples // batch_size) <= FEW_BATCHES
            and hasattr(output, "sample_curvature")
        )

    def next_step(self, theta, loss):
        """The step for the next epoch; ``theta`` (host) is the model, ``loss``
        the epoch's loss."""
        factor = self.halving.factor_after(loss)
        L = self.lipschitz(theta)
        local = factor / L if L > 0 else math.inf
        self.step = max(min(local, 2.0 * self.step), self.floor)
        return self.step

    def lipschitz(self, theta):
        """:math:`L_b(\theta)` of the model ``theta`` (host), the power
        iteration going on from the last call's vector."""
        ((W, b),) = self.standardised.layout.views(theta)
        S = np.asarray(self.X @ W)
        if b is not None:
            S += b
        c = self.output.sample_curvature(S)
        if self.vector is None:
            size = W.shape[0] + (b is not None)
            start, n_iter = np.random.default_rng(0).standard_normal(size), self.FIRST
        else:
            start, n_iter = self.vector, self.LATER
        top, self.vector = standardised_power_iteration(
            self.X, self.w * c, self.standardised, start, n_iter
        )
        L = top + self.penalty
        n, size = self.X.shape[0], self.batch_size
        if size == n:
            return L
        largest = largest_standardised_row_norm2(self.X, self.w, self.standardised, c)
        if b is not None:
            largest += float(c[self.w > 0].max(initial=0.0))
        return batch_lipschitz(L, largest + self.penalty, n, size)


class Converging:
    """The driver of ``'auto'``: an inner driver runs on ``u``; ``theta`` is
    the model so far (see the module docstring).

    Parameters
    ----------
    state : update rule or BarzilaiBorwein
        The solver state, with its standardisation (:func:`new_converging_state`).
    objective : Objective
    theta : ndarray of shape (n_params,)
        The parameters the run starts from; the array is kept as the model.
    n_samples : int
    local : LocalCurvature or None
        Sets ``'sgd'``'s step after each epoch (a few batches an epoch).
    decrement : NewtonDecrement or None
        The convergence test of ``fit`` (see the module docstring); None: the
        gradient test.
    whitening : callable or None
        ``whitening(standardised)`` gives the
        :class:`~skbackprop._whitening.WhitenedSteps` of a few-batch fit of
        separate units: training then runs in its coordinates, with its step.

    Attributes
    ----------
    objective : ObjectiveOfU
        The objective the inner driver is bound to (:meth:`drive`).
    """

    def __init__(
        self,
        state,
        objective,
        theta,
        n_samples,
        local=None,
        decrement=None,
        whitening=None,
    ):
        self.state = state
        self.local, self.decrement = local, decrement
        self.model = theta
        self.standardised = Standardised(
            objective.layout, state.auto_mean, state.auto_scale
        )
        # the whitened coordinates sit on the standardised ones
        self.whitening = None if whitening is None else whitening(self.standardised)
        if self.whitening is not None:
            self.standardised = self.whitening.whitened
        self.u = objective.engine.empty_like(theta)
        self.standardised.to_u(theta, self.u)
        # the searched full-batch step (it has bind) keeps no averages
        self.statistics = EpochStatistics(n_samples, theta, not hasattr(state, "bind"))
        self.objective = ObjectiveOfU(
            objective, self.standardised, theta, self.statistics
        )
        self.e = objective.engine
        self.inner = None

    @staticmethod
    def applies(state):
        """Whether ``state`` is the state of ``'auto'``
        (:func:`new_converging_state`)."""
        return hasattr(state, "auto_scale")

    def drive(self, inner):
        """Run ``inner``, a driver bound to :attr:`objective`; returns self."""
        self.inner, self.X = inner, inner.X
        self.learning_rate_init = inner.learning_rate_init
        return self

    def epoch(self, theta, guard):
        """An epoch of ``inner`` on ``u``; ``theta`` ends as the model."""
        statistics = self.statistics
        statistics.start_epoch()
        loss = self.inner.epoch(self.u, guard)
        statistics.end_epoch(self.e, self.u)
        model = statistics.theta_sum if statistics.average else self.u
        self.standardised.to_theta(model, theta)
        if self.local is not None:
            step = self.local.next_step(self.e.to_host(theta), float(loss))
            self.state.learning_rate = step * self.state.auto_shrunk
        if self.whitening is not None:
            # a large stretch of the whitened coordinates can overflow the
            # model where the iterate is finite
            guard.parameters(theta, self.e)
            self.whitening.after_epoch(self.e.to_host(theta), self.u, float(loss))
        return loss

    def _restore_point(self, theta):
        # the stochastic driver saves the model; the searched step its own
        # point, from which the model follows
        return theta if self.statistics.average else self.u

    def commit(self, theta, record, checkpoint):
        self.inner.commit(self._restore_point(theta), record, checkpoint)

    def rollback(self, theta, record, checkpoint):
        self.inner.rollback(self._restore_point(theta), record, checkpoint)
        if not self.statistics.average:
            self.standardised.to_theta(self.u, theta)

    def finish(self):
        self.inner.finish()
        if self.whitening is not None:
            self.whitening.finish()
        if self.local is not None:
            # the step measured on this fit's data is not kept for partial_fit,
            # which may see other data: it goes on from the global step
            self.state.learning_rate = self.local.floor * self.state.auto_shrunk

    def end_epoch(self, samples_seen):
        self.inner.end_epoch(samples_seen)

    def reduce_learning_rate(self):
        return False

    @property
    def learning_rate(self):
        return self.inner.learning_rate

    def stopping_rule(self, record, n_iter_no_change, verbose):
        """The rules of the module docstring after an epoch; True to stop."""
        stop, message = self._decide(record, n_iter_no_change)
        if verbose and message:
            print(message)
        return stop

    def _decide(self, record, n_iter_no_change):
        statistics, tol = self.statistics, record.tol
        # an epoch that did not improve the loss by tol: near the optimum, or
        # in a flat valley; the decrement tells which
        slowed = record.no_improvement_count > 0
        stalled = record.no_improvement_count > n_iter_no_change
        if stalled and record.early_stopping:
            return True, "Validation score did not improve. Stopping."
        if stalled:
            record.no_improvement_count = 0
        decrement = self.decrement
        gradient_small = statistics.gradient_max <= tol
        if decrement is None:
            if gradient_small:
                return True, f"The gradient is at most tol={tol:g}. Stopping."
        # 'gd''s gradient is exact: its test must pass too; the stochastic
        # solvers' is an estimate, and an epoch that did not improve by tol
        # is where their optimum may be near
        elif (
            decrement.due()
            and (gradient_small if not statistics.average else slowed)
            and decrement.within(self.model, tol)
        ):
            return True, (
                f"Half the Newton decrement is at most tol={tol:g}: the "
                "objective is within about tol of its optimum. Stopping."
            )
        if self.whitening is not None:
            # a stall where each epoch moves about a Newton step is the noise
            # of the batches: a smaller step lowers it
            if stalled:
                self.whitening.halve()
            return False, None
        if not statistics.average:
            return False, None
        losses = record.loss_curve
        plateau = len(losses) > 1 and losses[-1] >= losses[-2]
        adam = hasattr(self.state, "beta_1")
        if adam and len(losses) > 1 and not plateau and statistics.drifting:
            self._lengthen_step()
        # with a few batches an epoch, a loss above the last epoch's is the
        # ripple of momentum and batches (the few-batch 'sgd' step's evidence)
        overshoot = stalled and (not statistics.few_batches or new_high(losses))
        if (
            plateau
            and not statistics.drifting
            and (statistics.noise_dominated or (adam and overshoot))
        ):
            if self._shrink_step(adam):
                return False, None
            return True, "The step reached its smallest size. Stopping."
        if stalled and statistics.stochastic and statistics.noise_dominated:
            return True, (
                f"Training loss did not improve more than tol={tol:f} for "
                f"{n_iter_no_change} consecutive epochs. Stopping."
            )
        return False, None

    def _lengthen_step(self):
        """Multiply Adam's step by :data:`GROW`, unless that passes
        :data:`LONGEST_STEP` times its start."""
        state = self.state
        if state.auto_shrunk * GROW <= LONGEST_STEP:
            state.auto_shrunk *= GROW
            state.learning_rate_init *= GROW

    def _shrink_step(self, adam):
        """Divide the step by :data:`SHRINK`; False once it would pass
        :data:`SMALLEST_STEP` of its start."""
        state = self.state
        if state.auto_shrunk / SHRINK < SMALLEST_STEP:
            return False
        state.auto_shrunk /= SHRINK
        # Adam recomputes its step from learning_rate_init at every step
        if adam:
            state.learning_rate_init /= SHRINK
        else:
            state.learning_rate /= SHRINK
        return True
