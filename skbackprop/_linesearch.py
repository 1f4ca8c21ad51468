r"""Full-batch gradient descent whose step the data choose: Barzilai-Borwein
steps with a non-monotone line search (the driver of ``solver='gd'`` with
``learning_rate_init='auto'``).

Every update is still :math:`\theta := \theta - \alpha_k \nabla J(\theta)`;
only the step :math:`\alpha_k` changes. With :math:`s` the last change of
:math:`\theta` and :math:`y` the change of the gradient it caused, the
Barzilai-Borwein steps :math:`s^\top s / s^\top y` and
:math:`s^\top y / y^\top y` (used in turn) are inverse curvatures of the
objective along the last step: long steps where it is flat, short ones where
it is curved, which plain descent with the global bound :math:`1/L` cannot
do. A step is kept if the loss it reaches is at most the largest of the last
``memory`` losses minus :math:`\gamma \alpha \lVert g \rVert^2` (the
non-monotone test of Grippo, Lampariello and Lucidi, 1986, which Raydan,
1997, pairs with these steps); otherwise it is shortened by a quadratic fit
of the loss along the gradient, never below ``learning_rate_init``
(:math:`1/L`), a step that always decreases the loss.
"""

import math


class BarzilaiBorwein:
    """The line-searched full-batch driver, and its state between calls.

    Between runs it holds only its step sizes (it is kept with the model for
    ``partial_fit``); during a run (:meth:`bind` to :meth:`finish`) also the
    data and two parameter-sized vectors, the last point and gradient.

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
        The safe step :math:`1/L`, taken first and as the fallback.
    """

    memory = 10  # losses the non-monotone test looks back on
    gamma = 1e-4  # sufficient decrease
    longest = 1e10  # steps at most this many times learning_rate_init

    def __init__(self, n_params, dtype, learning_rate_init, **unused):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = self.learning_rate_init
        self._unbind()

    def _unbind(self):
        self._objective = self.X = self.T = self.sample_weight = None
        self._theta_prev = self._grad_prev = self._grad = None
        self._stepping = False

    def bind(self, objective, X, T, sample_weight):
        """Begin a run on this data: the previous iterates are forgotten."""
        self.learning_rate = self.learning_rate_init
        self.n_steps = 0
        self.recent_losses = []
        self._evaluated_loss = None
        self._objective, self.X, self.T = objective, X, T
        self.sample_weight = sample_weight
        return self

    def _evaluate(self, theta, grad):
        # a float: the search compares losses
        return float(self._objective(theta, self.X, self.T, self.sample_weight, grad))

    def epoch(self, theta, guard):
        """One step whose size is searched; returns the loss before it."""
        if self._grad is None:
            self._grad = self._objective.engine.empty_like(theta)
        loss, self._evaluated_loss = self._evaluated_loss, None
        if loss is None:  # else the last step's test evaluated it, grad included
            loss = self._evaluate(theta, self._grad)
        guard.loss(loss)
        self._search_step(theta, self._grad, loss)
        guard.parameters(theta, self._objective.engine)
        if self._evaluated_loss is not None:
            guard.loss(self._evaluated_loss)
        return loss

    def commit(self, theta, record, checkpoint):
        """The epoch is complete: the step ends inside the commit, so that
        ``theta`` and the saved record describe the same epoch (the step's
        start is the restore point: no copy of ``theta``)."""
        checkpoint.commit(record, on_saved=self._end_step)

    def _end_step(self):
        self._stepping = False

    def rollback(self, theta, record, checkpoint):
        # re-raises before any commit
        if checkpoint.rollback(record) and self._stepping:
            theta[...] = self._theta_prev  # back where the step started
            self._stepping = False

    def finish(self):
        """The run ended: free the data and the vectors."""
        self._unbind()

    def end_epoch(self, samples_seen):
        pass

    def reduce_learning_rate(self):
        return False

    def _bb_step(self, theta, grad, e):
        """The next Barzilai-Borwein step; the last step when it is undefined."""
        s = e.subtract(theta, self._theta_prev, out=self._theta_prev)
        y = e.subtract(grad, self._grad_prev, out=self._grad_prev)
        ss, sy, yy = e.dot(s, s), e.dot(s, y), e.dot(y, y)
        # no positive curvature seen, or products beyond the float range
        if not (sy > 0 and yy > 0 and ss < math.inf and yy < math.inf):
            return self.learning_rate
        step = ss / sy if self.n_steps % 2 else sy / yy
        return min(
            max(step, self.learning_rate_init), self.longest * self.learning_rate_init
        )

    def _search_step(self, theta, grad, loss):
        """Update ``theta`` by a step that passes the non-monotone test; when
        the step is tested, ``grad`` ends as the gradient at the new point."""
        e = self._objective.engine
        self.recent_losses = [*self.recent_losses[1 - self.memory :], loss]
        if self.n_steps:
            step = self._bb_step(theta, grad, e)
        else:
            step = self.learning_rate_init
            self._theta_prev = e.empty_like(theta)
            self._grad_prev = e.empty_like(grad)
        self.n_steps += 1
        start, direction = self._theta_prev, self._grad_prev
        start[...] = theta
        direction[...] = grad
        self._stepping = True  # theta may move from here on: rollback undoes it
        self.learning_rate = step
        if step <= self.learning_rate_init:
            # the safe step needs no test: the next epoch evaluates it
            e.axpy(-step, direction, theta)
            return
        bound = max(self.recent_losses)
        grad_sq = e.dot(direction, direction)
        while True:
            theta[...] = start
            e.axpy(-step, direction, theta)
            trial_loss = self._evaluate(theta, grad)
            if trial_loss <= bound - self.gamma * step * grad_sq:
                break
            if step <= self.learning_rate_init:
                break
            step = max(
                _shorter(step, loss, trial_loss, grad_sq), self.learning_rate_init
            )
        self.learning_rate = step
        self._evaluated_loss = trial_loss


def _shorter(step, loss, trial_loss, grad_sq):
    """Minimiser of the quadratic through the loss, its slope ``-||g||^2``
    at 0 and ``trial_loss`` at ``step``, kept in [step/10, step/2]."""
    # the minimiser is step * decrease / (2 (decrease + rise)), with
    # decrease = step ||g||^2 (the linear part) and rise = trial - loss
    decrease = step * grad_sq
    denominator = decrease + (trial_loss - loss)
    best = 0.5 * step * decrease / denominator if denominator > 0 else 0.0
    if not math.isfinite(best):
        best = 0.5 * step
    return min(max(best, 0.1 * step), 0.5 * step)
