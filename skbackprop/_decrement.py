r"""How far a linear model is from its optimum: the Newton decrement, by
conjugate gradients on Hessian-vector products.

Near the optimum the objective is close to its quadratic model, and the gap
:math:`J(\theta) - J^*` is close to half the Newton decrement

.. math::

    \frac{\lambda^2}{2} = \frac12\, g^\top H^{-1} g,

:math:`g` the gradient and :math:`H` the Hessian at :math:`\theta` (exactly
the gap for squared error). The gradient test ``max |g_j| <= tol`` alone can
pass far from the optimum when the Hessian has flat directions (a small
``alpha`` and raw, correlated features: the estimators guide has a case).

The Hessian-vector products are taken on an evenly spread sample of the rows
(all of them on small data), the gradient on all.

:math:`H` is never formed. Its product with a direction :math:`v` is one
forward and one backward pass: the scores move by :math:`\delta S = X\delta W
+ \delta b`, the output gradient :math:`w \odot (P - Y)` by :math:`w \odot
H_S[\delta S]` (the output's ``curvature_product``), and that is
backpropagated like the gradient, plus the penalty's :math:`\alpha\,\delta W`.
Conjugate gradients from 0 on :math:`Hx = g` give after :math:`k` steps
:math:`g^\top x_k = \sum_{j<k} a_j r_j^\top r_j`, which increases to
:math:`g^\top H^{-1} g` (a lower bound at every step). They run in the
standardised coordinates ``u``, where :math:`H` is better conditioned (the
decrement itself does not depend on the coordinates).
"""

import numpy as np

from ._network import backward, forward, predict_scores


class NewtonDecrement:
    """The test "half the Newton decrement is at most ``tol``" for a
    single-layer model, on the training data.

    Parameters
    ----------
    objective : Objective
        The objective in ``theta`` (not the one in ``u``).
    standardised : Standardised
        The coordinates the conjugate gradients run in.
    X, T, sample_weight
        The training data, as the objective takes them.
    """

    #: conjugate-gradient steps (Hessian-vector products) a test takes at most
    STEPS = 20
    #: ... and fewer once the residual is this fraction of the gradient (what
    #: is left of g'H^-1 g is then at most its square times H's condition number)
    RESIDUAL = 1e-3
    #: the Hessian-vector products are taken on at most this many rows (the
    #: gradient on all of them): a test costs a few passes over the data
    SAMPLE = 4096
    #: ... in this many runs of consecutive rows
    CHUNKS = 16

    def __init__(self, objective, standardised, X, T, sample_weight):
        self.objective, self.standardised = objective, standardised
        self.X, self.T, self.sample_weight = X, T, sample_weight
        e = objective.engine
        n = X.shape[0]
        rows = objective.block_rows(X, X.dtype)
        self.slices = self._sample(n, rows)
        if sample_weight is None:
            self.w = None
            self.w_scale = 1.0 / sum(part.stop - part.start for part in self.slices)
        else:
            total = sum(float(e.sum(sample_weight[part])) for part in self.slices)
            if not total > 0:  # the sample holds no weight: take every row
                self.slices = self._sample(n, rows, every_row=True)
                total = float(e.sum(sample_weight))
            self.w, self.w_scale = sample_weight / total, 1.0
        self.lam = objective.penalty_strength(n, sample_weight)
        self.views = e.views(objective.layout)
        #: epochs to go before the next test: each failed test adds one to
        #: the spacing, so that the tests' products stay few beside the epochs
        #: of a fit that ends far from ``tol`` (noise, a flat valley)
        self.wait = 0
        self.failures = 0
        self.estimate = None

    @staticmethod
    def applies(objective, incremental):
        """Whether ``fit`` of a linear model whose output has a
        ``curvature_product``."""
        return (
            not incremental
            and len(objective.layout.layer_units) == 2
            and hasattr(objective.output, "curvature_product")
        )

    def due(self):
        """Whether a test may run after this epoch (counts the epochs down)."""
        if self.wait > 0:
            self.wait -= 1
            return False
        return True

    def within(self, theta, tol):
        """Whether ``g' H^-1 g / 2 <= tol`` at ``theta``: False as soon as the
        conjugate gradients' lower bound passes ``tol``, True when they end
        below it (converged, or :attr:`STEPS` taken)."""
        # huge features can overflow the products: the estimate is then not
        # finite, and the test fails
        with np.errstate(over="ignore", invalid="ignore"):
            return self._within(theta, tol)

    def _within(self, theta, tol):
        e, A = self.objective.engine, self.standardised
        g = e.empty_like(theta)
        self.objective(theta, self.X, self.T, self.sample_weight, g)
        A.gradient_to_u(g)
        curvature = self.curvature_at(theta)
        r, p = e.copy(g), e.copy(g)
        direction, product = e.empty_like(theta), e.empty_like(theta)
        rr = first = e.dot(r, r)
        half = 0.0
        steps = 0
        while steps < self.STEPS and rr > self.RESIDUAL**2 * first:
            A.to_theta(p, direction)
            self.hessian_product(curvature, direction, product)
            A.gradient_to_u(product)
            steps += 1
            along = e.dot(p, product)  # p' H p
            if not along > 0:
                break
            a = rr / along
            half += 0.5 * a * rr  # g' x_k / 2 grows by a_k r_k' r_k / 2
            if half > tol:
                break
            e.axpy(-a, product, r)
            rr_next = e.dot(r, r)
            e.scale(rr_next / rr, p)
            e.axpy(1.0, r, p)
            rr = rr_next
        self.estimate = half
        if half > tol:
            self.failures += 1
        self.wait = steps + self.failures - 1
        return half <= tol

    @classmethod
    def _sample(cls, n, rows, every_row=False):
        """The slices of rows the products run on: all rows a block at a
        time, or :attr:`CHUNKS` runs spread evenly over a large set (slices,
        so that no part of ``X`` is copied; spread, so that rows sorted by
        class are all seen)."""
        if n <= cls.SAMPLE or every_row:
            return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]
        size = cls.SAMPLE // cls.CHUNKS
        starts = [k * (n - size) // (cls.CHUNKS - 1) for k in range(cls.CHUNKS)]
        return [slice(start, start + size) for start in starts]

    def _blocks(self):
        for part in self.slices:
            yield part, self.X[part, :]

    def curvature_at(self, theta):
        """The output's curvature weights at the scores of ``theta`` (a
        forward pass), a block of rows at a time (the products of one test
        are all taken at the same point)."""
        layers, e = self.views(theta), self.objective.engine
        output, activation = self.objective.output, self.objective.activation
        return [
            output.curvature_weights(predict_scores(layers, block, activation, e))
            for _, block in self._blocks()
        ]

    def hessian_product(self, curvature, direction, out):
        """``out := H direction``, in ``theta``'s coordinates, at the point of
        ``curvature`` (:meth:`curvature_at`): a forward pass of the direction
        gives the change of the scores, the output's curvature the change of
        ``w (P - Y)``, and a backward pass of that its gradient, added to the
        penalty's ``lam * direction``."""
        e, output = self.objective.engine, self.objective.output
        activation = self.objective.activation
        step = self.views(direction)
        grads = self.views(out)
        ((dW, _),), ((HW, Hb),) = step, grads
        HW[...] = self.lam * dW
        if Hb is not None:
            Hb[...] = 0.0
        for (rows, block), C in zip(self._blocks(), curvature, strict=True):
            dS = forward(step, block, activation, e)[-1]
            R = output.curvature_product(C, dS)
            R = R * (self.w_scale if self.w is None else self.w[rows][:, None])
            backward(step, grads, [block], R, activation, e, add=True)
