"""Update rules built on the gradient: plain GD, SGD with momentum, Adam.

An optimizer is explicit state (its buffers, its current learning rate) plus an
in-place ``step(theta, grad)``; nothing is allocated per step. The learning-rate
schedules mean what they mean in scikit-learn's ``MLPClassifier``. L-BFGS lives
in :mod:`skbackprop._training`, since scipy drives its own loop.
"""

import math

import numpy as np
from scipy import sparse

from ._blas import axpy, scale

# Learning-rate schedules: (optimizer, samples seen so far) -> new learning rate,
# applied at the end of each epoch.


def _constant(opt, time_step):
    return opt.learning_rate


def _invscaling(opt, time_step):
    return opt.learning_rate_init / (time_step + 1) ** opt.power_t


SCHEDULES = {"constant": _constant, "invscaling": _invscaling, "adaptive": _constant}


class GradientDescent:
    """Plain gradient descent: ``theta := theta - lr * grad``.

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
    power_t : float, default=0.5
    """

    def __init__(
        self, n_params, dtype, learning_rate_init, learning_rate="constant", power_t=0.5
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = self.learning_rate_init
        self.schedule = learning_rate
        self.power_t = power_t

    def step(self, theta, grad):
        """Update ``theta`` in place."""
        axpy(-self.learning_rate, grad, theta)

    def iteration_ends(self, time_step):
        """Apply the learning-rate schedule at the end of an epoch."""
        self.learning_rate = SCHEDULES[self.schedule](self, time_step)

    def trigger_stopping(self, msg, verbose):
        """Called when the loss stalls: divide an adaptive rate by 5, else stop.

        Returns
        -------
        stop : bool
        """
        if self.schedule != "adaptive" or self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class MomentumSGD(GradientDescent):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``.

    ``v := momentum * v - lr * grad``; then ``theta += v``, or with Nesterov's
    look-ahead ``theta += momentum * v - lr * grad``.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
    ):
        super().__init__(n_params, dtype, learning_rate_init, learning_rate, power_t)
        self.momentum = momentum
        self.nesterov = nesterovs_momentum
        self._velocity = np.zeros(n_params, dtype=dtype)

    def step(self, theta, grad):
        velocity = self._velocity
        scale(self.momentum, velocity)
        axpy(-self.learning_rate, grad, velocity)
        if self.nesterov:
            # theta += momentum * v - lr * grad
            axpy(self.momentum, velocity, theta)
            axpy(-self.learning_rate, grad, theta)
        else:
            theta += velocity


class Adam(GradientDescent):
    """Adam, as scikit-learn's ``AdamOptimizer``.

    ``m := b1 m + (1 - b1) g``, ``v := b2 v + (1 - b2) g**2``,
    ``theta -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``.
    The learning-rate schedule does not apply (as in scikit-learn).
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    ):
        super().__init__(n_params, dtype, learning_rate_init)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self._m = np.zeros(n_params, dtype=dtype)
        self._v = np.zeros(n_params, dtype=dtype)
        self._work = np.zeros(n_params, dtype=dtype)

    def step(self, theta, grad):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        m, v, work = self._m, self._v, self._work
        scale(b1, m)
        axpy(1 - b1, grad, m)
        scale(b2, v)
        axpy(1 - b2, np.multiply(grad, grad, out=work), v)
        # a Python float: a NumPy float64 scalar would make float32 updates
        # compute in float64 and cast back (NEP 50), ~2x slower
        self.learning_rate = (
            self.learning_rate_init * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        np.sqrt(v, out=work)
        work += self.epsilon
        axpy(-self.learning_rate, np.divide(m, work, out=work), theta)

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


class BarzilaiBorwein(GradientDescent):
    r"""Full-batch gradient descent with a step chosen from the data at every iteration.

    Every update is still :math:`\theta := \theta - \alpha_k \nabla J(\theta)`;
    only the step :math:`\alpha_k` changes. With :math:`s` the last change of
    :math:`\theta` and :math:`y` the change of the gradient it caused, the
    Barzilai-Borwein steps :math:`s^\top s / s^\top y` and
    :math:`s^\top y / y^\top y` (used in turn) are the inverse curvatures of
    the objective along the last step: long steps where the objective is flat,
    short ones where it is curved, which plain descent with the global bound
    :math:`1/L` cannot do. Such a step may raise the loss now and then, so it is
    kept only if the loss it reaches is at most the largest of the last
    ``memory`` losses minus :math:`\gamma \alpha \lVert g \rVert^2` (the
    non-monotone test of Grippo, Lampariello and Lucidi, 1986, which Raydan,
    1997, pairs with these steps). Otherwise it is shortened, by a quadratic
    fit of the loss along the gradient, and never below ``learning_rate_init``
    (:math:`1/L`), a step that always decreases the loss.

    The optimizer evaluates the objective at its trial points itself, in the
    driver's ``theta`` and ``grad``; the driver takes the accepted point's loss
    from :meth:`take_evaluated_loss` instead of computing it again. Two
    parameter-sized vectors are kept (the last point and gradient).

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
        The safe step :math:`1/L`, taken first and as the fallback.
    learning_rate : 'constant'
    power_t : float, default=0.5
        Unused (no schedule applies).
    """

    memory = 10  # losses the non-monotone test looks back on
    gamma = 1e-4  # sufficient decrease
    longest = 1e10  # steps at most this many times learning_rate_init

    def __init__(
        self, n_params, dtype, learning_rate_init, learning_rate="constant", power_t=0.5
    ):
        super().__init__(n_params, dtype, learning_rate_init, learning_rate, power_t)
        self.restart()

    def restart(self):
        """Forget the previous iterates: a run on (possibly) new data begins."""
        self.learning_rate = self.learning_rate_init
        self.n_steps = 0
        self.recent_losses = []
        self.evaluated_loss = None
        self.release()

    def release(self):
        """Free the two parameter-sized vectors (a run has ended; the next one
        restarts)."""
        # the point and gradient the last step started from (the changes s and
        # y since then are computed in their place), made by the first step
        self._theta_prev = self._grad_prev = None
        self._stepping = False

    def undo_step(self, theta):
        """Put ``theta`` back where the step in progress started (training was
        interrupted); the driver keeps no copy of its own for this optimizer."""
        if self._stepping:
            np.copyto(theta, self._theta_prev)
            self._stepping = False

    def end_step(self):
        """The driver has recorded the step's epoch: nothing left to undo."""
        self._stepping = False

    def take_evaluated_loss(self):
        """The loss at the current point if the last step evaluated it (its
        gradient is then in the driver's ``grad``), else None."""
        loss, self.evaluated_loss = self.evaluated_loss, None
        return loss

    def _bb_step(self, theta, grad):
        """The next Barzilai-Borwein step; the last step when it is undefined."""
        s = np.subtract(theta, self._theta_prev, out=self._theta_prev)
        y = np.subtract(grad, self._grad_prev, out=self._grad_prev)
        ss, sy, yy = float(s @ s), float(s @ y), float(y @ y)
        # no positive curvature seen, or products beyond the float range
        if not (sy > 0 and yy > 0 and ss < math.inf and yy < math.inf):
            return self.learning_rate
        step = ss / sy if self.n_steps % 2 else sy / yy
        return min(
            max(step, self.learning_rate_init), self.longest * self.learning_rate_init
        )

    def search_step(self, theta, grad, loss, evaluate):
        """Update ``theta`` in place by a step that passes the non-monotone test.

        Parameters
        ----------
        theta, grad : ndarray of shape (n_params,)
            The current point and its gradient. When the step is tested,
            ``grad`` ends as the gradient at the new ``theta``, and
            :meth:`take_evaluated_loss` returns its loss.
        loss : float
            The loss at ``theta``.
        evaluate : callable
            ``evaluate(theta, grad) -> loss``, writing the gradient into ``grad``.
        """
        self.recent_losses = [*self.recent_losses[1 - self.memory :], loss]
        if self.n_steps:
            step = self._bb_step(theta, grad)
        else:
            step = self.learning_rate_init
            self._theta_prev = np.empty_like(theta)
            self._grad_prev = np.empty_like(grad)
        self.n_steps += 1
        start, direction = self._theta_prev, self._grad_prev
        np.copyto(start, theta)
        np.copyto(direction, grad)
        self._stepping = True  # theta may move from here on: undo_step restores it
        self.learning_rate = step
        if step <= self.learning_rate_init:
            # the safe step needs no test: the next iteration evaluates it
            axpy(-step, direction, theta)
            return
        bound = max(self.recent_losses)
        grad_sq = float(direction @ direction)
        while True:
            np.copyto(theta, start)
            axpy(-step, direction, theta)
            trial_loss = evaluate(theta, grad)
            if trial_loss <= bound - self.gamma * step * grad_sq:
                break
            if step <= self.learning_rate_init:
                break
            step = max(
                self._shorter(step, loss, trial_loss, grad_sq), self.learning_rate_init
            )
        self.learning_rate = step
        self.evaluated_loss = trial_loss

    @staticmethod
    def _shorter(step, loss, trial_loss, grad_sq):
        """Minimiser of the quadratic through the loss, its slope ``-||g||^2``
        at 0 and ``trial_loss`` at ``step``, kept in [step/10, step/2]."""
        # the quadratic's minimiser is step * decrease / (2 * (decrease + rise))
        # with decrease = step ||g||^2 (its linear part) and rise = trial - loss
        decrease = step * grad_sq
        denominator = decrease + (trial_loss - loss)
        best = 0.5 * step * decrease / denominator if denominator > 0 else 0.0
        if not math.isfinite(best):
            best = 0.5 * step
        return min(max(best, 0.1 * step), 0.5 * step)


OPTIMIZERS = {"gd": GradientDescent, "sgd": MomentumSGD, "adam": Adam}
#: every optimizer class: a pickled optimizer is rebuilt from its class name
OPTIMIZER_CLASSES = (GradientDescent, MomentumSGD, Adam, BarzilaiBorwein)


def make_optimizer(solver, n_params, dtype, learning_rate_init, params):
    """The optimizer of ``solver`` with the estimator's hyper-parameters.

    ``'gd'`` with ``learning_rate_init='auto'`` and a constant schedule
    searches its step at every iteration (:class:`BarzilaiBorwein`), starting
    from the safe ``learning_rate_init``; a float step gives plain descent.

    Parameters
    ----------
    solver : {'gd', 'sgd', 'adam'}
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    params : dict
        The estimator's ``get_params()``; the optimizer picks what it uses.
    """
    if (
        solver == "gd"
        and params.get("learning_rate_init") == "auto"
        and params["learning_rate"] == "constant"
    ):
        return BarzilaiBorwein(n_params, dtype, learning_rate_init)
    if solver == "adam":
        options = {k: params[k] for k in ("beta_1", "beta_2", "epsilon")}
    else:
        options = {k: params[k] for k in ("learning_rate", "power_t")}
        if solver == "sgd":
            options["momentum"] = params["momentum"]
            options["nesterovs_momentum"] = params["nesterovs_momentum"]
    return OPTIMIZERS[solver](n_params, dtype, learning_rate_init, **options)


def largest_abs(X):
    """``max |x_ij|`` of a dense or sparse ``X`` (0 when empty), without a copy."""
    return max(float(X.max()), -float(X.min())) if X.shape[0] else 0.0


def _top_eigenvalue(X, w, fit_intercept, n_iter=30):
    """Largest eigenvalue of the weighted Gram matrix ``X~^T diag(w) X~``.

    ``X~`` is ``X`` with a column of ones when ``fit_intercept``. Power
    iteration from a fixed start (no random draw), so the result only depends
    on the data. The iteration runs on ``X~ / scale`` with ``scale =
    max(1, max|x|)``, whose entries (the column of ones included) lie in
    [-1, 1], so that features of any finite magnitude cannot overflow; the
    eigenvalue is scaled back at the end (``inf`` beyond the float range).
    """
    n_features = X.shape[1]
    scale = max(largest_abs(X), 1.0)
    size = n_features + fit_intercept
    v = np.full(size, 1.0 / np.sqrt(size), dtype=X.dtype)
    u = np.empty_like(v)
    eigenvalue = 0.0
    for _ in range(n_iter):
        r = X @ (v[:n_features] / scale)
        if fit_intercept:
            r += v[n_features] / scale
        r *= w
        r /= scale
        u[:n_features] = X.T @ r
        if fit_intercept:
            u[n_features] = r.sum()
        norm = float(np.linalg.norm(u))
        if norm == 0.0:
            return 0.0
        eigenvalue = norm * scale * scale
        np.divide(u, norm, out=v)
    return eigenvalue


def _stored_columns(X, start, stop):
    """Column of each stored value ``start:stop`` of a CSR or CSC matrix."""
    if X.format == "csr":
        return X.indices[start:stop]
    # CSC: column j holds the values indptr[j]:indptr[j + 1]
    first = np.searchsorted(X.indptr, start, side="right") - 1
    last = np.searchsorted(X.indptr, stop, side="left")
    counts = np.diff(np.clip(X.indptr[first : last + 1], start, stop))
    return np.repeat(np.arange(first, last), counts)


def column_squares(X, scale=1.0, chunk_values=2**16):
    """``sum_i (x_ij / scale)^2`` of every column ``j`` of a CSR or CSC ``X``,
    in float64, without a copy of X: the stored values are read
    ``chunk_values`` at a time. The rows of X are the columns of ``X.T``."""
    squares = np.zeros(X.shape[1])
    for start in range(0, X.nnz, chunk_values):
        stop = min(start + chunk_values, X.nnz)
        values = np.divide(X.data[start:stop], scale, dtype=np.float64)
        squares += np.bincount(
            _stored_columns(X, start, stop),
            weights=np.square(values, out=values),
            minlength=X.shape[1],
        )
    return squares


def _row_norms2(X, chunk_values=2**14):
    """``||x_i||^2`` of every row, in float64 (``inf`` beyond its range),
    without a copy of X (squaring a sparse X whole copied it: 48 MB for a
    48 MB CSR X)."""
    with np.errstate(over="ignore"):
        if sparse.issparse(X):
            return column_squares(X.T, chunk_values=chunk_values)
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def auto_learning_rate(
    solver, X, sample_weight, curvature, alpha, fit_intercept, batch_size
):
    """Step size from a Lipschitz bound of the gradient (``learning_rate_init='auto'``).

    The Hessian of the cross-entropy w.r.t. the scores is bounded by
    ``curvature`` (1/2 for softmax, 1/4 for a sigmoid unit), so the objective's
    gradient is Lipschitz with ``L = curvature * lambda_max(X~^T W X~) + alpha``.
    ``'gd'`` takes ``1 / L``; ``'sgd'`` takes ``1 / L_b``, the expected
    smoothness of a batch of ``b`` samples drawn from ``n`` (Gower et al.,
    2019): ``L_b = n(b-1)/(b(n-1)) L + (n-b)/(b(n-1)) L_max`` with
    ``L_max = curvature * max_i ||x~_i||^2 + alpha``. Adam's step is
    scale-free (per coordinate), so it gets a fixed 0.01, ten times
    MLPClassifier's default: a linear model has few parameters to move far.

    Parameters
    ----------
    solver : {'gd', 'sgd', 'adam'}
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
        Weights normalised to sum to one.
    curvature : float
    alpha : float
    fit_intercept : bool
    batch_size : int

    Returns
    -------
    learning_rate : float
    """
    if solver == "adam":
        return 0.01
    L = curvature * _top_eigenvalue(X, sample_weight, fit_intercept) + alpha
    n, b = X.shape[0], batch_size
    if solver == "sgd" and b < n:
        largest = float(_row_norms2(X)[sample_weight > 0].max())
        L_max = curvature * (largest + fit_intercept) + alpha
        L = (n * (b - 1) * L + (n - b) * L_max) / (b * (n - 1))
    if L <= 0:
        return 1.0
    if not X.dtype.type(1.0 / L) > 0:  # L is inf, or 1 / L underflows
        raise ValueError(
            f"The features are too large for gradient descent in {X.dtype}: the "
            f"step size learning_rate_init='auto' derives ({1.0 / L:.3g}) is not "
            "representable. Standardise the features (e.g. with StandardScaler)."
        )
    return 1.0 / L
