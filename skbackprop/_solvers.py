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


OPTIMIZERS = {"gd": GradientDescent, "sgd": MomentumSGD, "adam": Adam}


def make_optimizer(solver, n_params, dtype, learning_rate_init, params):
    """The optimizer of ``solver`` with the estimator's hyper-parameters.

    Parameters
    ----------
    solver : {'gd', 'sgd', 'adam'}
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    params : dict
        The estimator's ``get_params()``; the optimizer picks what it uses.
    """
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


def _max_row_norm2(X, fit_intercept):
    """``max_i ||x~_i||^2``: the curvature bound of a single-sample batch."""
    with np.errstate(over="ignore"):  # a norm beyond the float range is inf
        if sparse.issparse(X):
            norms = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        else:
            norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    return float(norms.max()) + fit_intercept


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
        # X[w > 0] copies X: only when some weights are zero
        X_used = X if sample_weight.all() else X[sample_weight > 0]
        L_max = curvature * _max_row_norm2(X_used, fit_intercept) + alpha
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
