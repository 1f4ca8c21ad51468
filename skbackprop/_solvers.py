"""Update rules: plain gradient descent, SGD with momentum, Adam.

An update rule is explicit state (its vectors and current learning rate) plus
an in-place ``step(theta, grad, e)`` on an engine ``e``; nothing is allocated
per step, nothing is printed and nothing decides when to stop (the drivers in
:mod:`skbackprop._training` do). Learning-rate schedules mean what they mean in
scikit-learn's ``MLPClassifier``.
"""

import math

import numpy as np


def _constant(rule, samples_seen):
    return rule.learning_rate


def _invscaling(rule, samples_seen):
    return rule.learning_rate_init / (samples_seen + 1) ** rule.power_t


#: schedule name -> (update rule, samples seen so far) -> new learning rate
SCHEDULES = {"constant": _constant, "invscaling": _invscaling, "adaptive": _constant}


class GradientDescent:
    """Plain gradient descent: :math:`\\theta := \\theta - \\eta\\, g`.

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

    def step(self, theta, grad, e):
        """Update ``theta`` in place."""
        e.axpy(-self.learning_rate, grad, theta)

    def end_epoch(self, samples_seen):
        """Apply the learning-rate schedule."""
        self.learning_rate = SCHEDULES[self.schedule](self, samples_seen)

    def reduce_learning_rate(self):
        """Divide an adaptive learning rate by 5 when the loss stalls.

        Returns
        -------
        reduced : bool
            False when the schedule is not adaptive or the rate is already
            at most 1e-6: training should stop.
        """
        if self.schedule != "adaptive" or self.learning_rate <= 1e-6:
            return False
        self.learning_rate /= 5.0
        return True


class MomentumSGD(GradientDescent):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``.

    :math:`v := \\mu v - \\eta g`; then :math:`\\theta := \\theta + v`, or with
    Nesterov's look-ahead :math:`\\theta := \\theta + \\mu v - \\eta g`.
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

    def step(self, theta, grad, e):
        velocity = self._velocity
        e.scale(self.momentum, velocity)
        e.axpy(-self.learning_rate, grad, velocity)
        if self.nesterov:
            e.axpy(self.momentum, velocity, theta)
            e.axpy(-self.learning_rate, grad, theta)
        else:
            theta += velocity


class Adam(GradientDescent):
    """Adam, as scikit-learn's ``AdamOptimizer``.

    :math:`m := \\beta_1 m + (1 - \\beta_1) g`,
    :math:`v := \\beta_2 v + (1 - \\beta_2) g^2`,
    :math:`\\theta := \\theta - \\eta \\frac{\\sqrt{1 - \\beta_2^t}}{1 - \\beta_1^t}
    \\frac{m}{\\sqrt{v} + \\epsilon}`. No learning-rate schedule applies.
    """

    #: overwritten before every use: an epoch checkpoint need not copy it
    checkpoint_scratch = ("_work",)

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

    def step(self, theta, grad, e):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        m, v, work = self._m, self._v, self._work
        e.scale(b1, m)
        e.axpy(1 - b1, grad, m)
        e.scale(b2, v)
        e.axpy(1 - b2, e.multiply(grad, grad, out=work), v)
        # a Python float: a NumPy float64 would compute float32 updates in float64
        self.learning_rate = (
            self.learning_rate_init * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        denominator = e.sqrt(v, out=work)
        denominator += self.epsilon
        e.axpy(-self.learning_rate, e.divide(m, denominator, out=work), theta)

    def end_epoch(self, samples_seen):
        pass

    def reduce_learning_rate(self):
        return False


#: solver name -> update rule
UPDATE_RULES = {"gd": GradientDescent, "sgd": MomentumSGD, "adam": Adam}


def make_update_rule(solver, n_params, dtype, learning_rate_init, params):
    """The update rule of ``solver`` with the estimator's hyper-parameters.

    Parameters
    ----------
    solver : {'gd', 'sgd', 'adam'}
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    params : dict
        The estimator's ``get_params()``; the rule picks what it uses.
    """
    if solver == "adam":
        options = {k: params[k] for k in ("beta_1", "beta_2", "epsilon")}
    else:
        options = {k: params[k] for k in ("learning_rate", "power_t")}
        if solver == "sgd":
            options["momentum"] = params["momentum"]
            options["nesterovs_momentum"] = params["nesterovs_momentum"]
    return UPDATE_RULES[solver](n_params, dtype, learning_rate_init, **options)
