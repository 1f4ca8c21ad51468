r"""Curvature-whitened coordinates: the few-batch ``'sgd'`` and ``'adam'`` of
models whose output units are separate (LogisticRegressionGD).

In the standardised coordinates ``u`` of
:class:`~skbackprop._step_size.Standardised` the features have unit scale,
but on small, nearly separable data the Hessian there is still far from the
identity: confidently classified samples contribute almost no curvature, and
the flat directions left behind (curvature of order ``alpha``) are crossed by
a first-order step at a rate of order ``alpha`` times the step — tens of
thousands of epochs. Each sigmoid unit ``j`` is its own problem (the
objective is the sum of the units' objectives), so its Hessian is a block of
its own,

.. math::

    H_j = Z^\top \operatorname{diag}(w \odot \sigma'(s_j))\, Z
          + \alpha \operatorname{diag}(d^2, 0),

:math:`Z = [(X - m) \operatorname{diag}(d),\ 1]` the standardised samples
and :math:`d` the standardisation's scales. With the Cholesky factor
:math:`H_j = L_j L_j^\top`, the coordinates :math:`u'_j = L_j^\top u_j`
(:math:`u_j = T_j u'_j`, :math:`T_j = L_j^{-\top}`) have the identity as
their Hessian at the model where :math:`H_j` was measured: every direction,
flat or steep, is crossed at the same rate. Momentum SGD and Adam run
unchanged on :math:`u'` (the gradient is :math:`T_j^\top g_j`, the chain
rule), and after each epoch :math:`H_j` is measured again at the model and
the iterate moved into the new coordinates (:meth:`Whitened.refresh`).

The step. With unit curvature, a step of :math:`\eta` along a gradient moves
:math:`\eta` of the way to the optimum of the local quadratic model, and
momentum :math:`\mu` multiplies a steady step by :math:`1/(1 - \mu)`. The
step :math:`(1 - \mu)/m`, :math:`m` the batches an epoch, moves the model
about one Newton step an epoch (Adam: :math:`(1 - \beta_1)/m`, its
moving-average weight in the same place). A Newton step is exact only near
the optimum; further away the curvature changes along the way, and the step
is halved after an epoch whose loss exceeds all of the last
:data:`~skbackprop._converging.MEMORY` (doubled back after as many epochs
without such a rise), the evidence the few-batch ``'sgd'`` step uses
(:class:`~skbackprop._converging.LocalCurvature`). It is halved at a stall
too (``n_iter_no_change`` epochs without an improvement of ``tol``): where
an epoch moves about a Newton step, a stall is the batches' noise, which is
proportional to the step. The decrement test ends the fit.

Cost: an epoch's refresh forms :math:`k` matrices of order ``q`` (features
plus intercept) on at most 4096 rows (:math:`k q^2` per row) and factors
them; the coordinates apply only up to :data:`LARGEST` of order ``q``, where a
refresh costs at most a few epochs of a few batches. Everything is measured
on the host, in float64; the factors are then moved to the engine.
"""

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import get_namespace

from ._converging import FEW_BATCHES, Halving
from ._decrement import NewtonDecrement
from ._step_size import _blocks, _standardised_top_eigenvalue

#: the coordinates apply to units of at most this many weights (features
#: plus intercept): a refresh costs ``q^2`` per row and unit
LARGEST = 128
#: curvature added to every direction, relative to the problem's largest
#: (its Lipschitz constant in the standardised coordinates), or the dtype's
#: resolution if coarser: the coordinates stretch by at most 1/sqrt(FLOOR)
FLOOR = 1e-10


def applies(estimator, objective, n_samples, batch_size, incremental):
    """Whether ``fit`` of ``'sgd'`` or ``'adam'`` runs in the whitened
    coordinates: a linear model of separate units (``output.separate_units``)
    of at most :data:`LARGEST` weights each, with at most
    :data:`~skbackprop._converging.FEW_BATCHES` batches an epoch and a
    momentum (``beta_1``) below one."""
    layout, output = objective.layout, objective.output
    if estimator.solver == "sgd":
        averaging = estimator.momentum
    elif estimator.solver == "adam" and estimator.alpha > 0:
        # an Adam step has a fixed length a coordinate: without the penalty's
        # curvature the coordinates stretch without bound where the samples
        # are told apart, and its steps with them
        averaging = estimator.beta_1
    else:
        return False
    return (
        not incremental
        and getattr(output, "separate_units", False)
        and len(layout.layer_units) == 2
        and layout.layer_units[0] + layout.fit_intercept <= LARGEST
        and -(-n_samples // batch_size) <= FEW_BATCHES
        and averaging < 1.0
    )


def _per_unit(M, v, out, views):
    """``out_j := M_j v_j`` for each unit ``j`` (``out`` may be ``v``), with
    ``v_j`` the unit's weights and intercept: column ``j`` of ``[W; b]``."""
    W, b = views(v)
    xp, _ = get_namespace(W)
    V = W if b is None else xp.concat([W, b[None, :]], axis=0)
    R = xp.matmul(M, V.T[:, :, None])[:, :, 0].T  # (q, k)
    W_out, b_out = views(out)
    n_features = W_out.shape[0]
    W_out[...] = R[:n_features, :]
    if b_out is not None:
        b_out[...] = R[n_features, :]


def _add_sparse(H, X, C, m, d, intercept):
    r"""``H_j += Z^T diag(C_j) Z`` for a sparse block ``X`` without centring
    it (which would fill it): with :math:`A = X^\top C_j X`,
    :math:`s = X^\top c_j` and :math:`t = \sum c_j`, the weights' block is
    :math:`D(A - s m^\top - m s^\top + t\, m m^\top)D`, the intercept's
    column :math:`d \odot (s - t m)` and its corner :math:`t`."""
    n_features = X.shape[1]
    for j in range(C.shape[1]):
        c = C[:, j]
        # a d x d product, written out entry by entry (X itself stays sparse)
        product = (X.T @ X.multiply(c[:, None]).tocsr()).tocoo()
        A = np.zeros((n_features, n_features))
        np.add.at(A, (product.row, product.col), product.data)
        s = np.asarray(X.T @ c).ravel()
        t = float(c.sum())
        block = A - np.outer(s, m) - np.outer(m, s) + t * np.outer(m, m)
        H[j, :n_features, :n_features] += d[:, None] * block * d[None, :]
        if intercept:
            cross = d * (s - t * m)
            H[j, :n_features, n_features] += cross
            H[j, n_features, :n_features] += cross
            H[j, n_features, n_features] += t


class Whitened:
    """The coordinates ``u'`` with ``u_j = T_j u'_j`` on top of the
    standardised ``u`` (see the module docstring); the interface of
    :class:`~skbackprop._step_size.Standardised`.

    Parameters
    ----------
    standardised : Standardised
        The standardisation training runs on (the engine's arrays).
    X : ndarray or sparse matrix
        The training data on the host.
    w : ndarray of shape (n_samples,)
        Sample weights summing to one.
    host_standardised : Standardised
        The same standardisation with host arrays.
    output : output unit
        Has ``curvature_weights(S)``, one column a unit.
    lam : float
        The penalty's strength: ``lam / 2 * ||W||^2``.
    engine : engine
    template : array
        A parameter vector of the engine (the scratch's size and dtype).
    """

    def __init__(
        self, standardised, X, w, host_standardised, output, lam, engine, template
    ):
        self.standardised, self.layout = standardised, standardised.layout
        self.X, self.w, self.host = X, w, host_standardised
        self.output, self.lam, self.e = output, lam, engine
        self._views = standardised._views
        self._scratch = engine.empty_like(template)
        k = self.layout.layer_units[-1]
        q = self.layout.layer_units[0] + self.layout.fit_intercept
        identity = np.broadcast_to(np.eye(q), (k, q, q))
        self._host_dtype = engine.host_dtype(template.dtype)
        #: T, T^T and T^-1 of every unit, on the engine
        self._set(identity, identity)
        self._rows = NewtonDecrement._sample(X.shape[0], 512)
        if not sum(float(w[part].sum()) for part in self._rows) > 0:
            # the sample holds no weight: take every row
            self._rows = NewtonDecrement._sample(X.shape[0], 512, every_row=True)
        d = host_standardised.scale.astype(np.float64)
        largest = output.curvature * _standardised_top_eigenvalue(
            X, w, host_standardised
        ) + lam * float(np.max(d * d, initial=0.0))
        resolution = float(np.finfo(self._host_dtype).eps)
        self.floor = max(FLOOR, resolution) * largest

    def _set(self, T, T_inverse):
        def put(a):
            return self.e.from_host(np.ascontiguousarray(a, dtype=self._host_dtype))

        self.T, self.T_t = put(T), put(T.transpose(0, 2, 1))
        self.T_inv = put(T_inverse)

    def to_theta(self, u, theta):
        """``theta := A T u``."""
        _per_unit(self.T, u, self._scratch, self._views)
        self.standardised.to_theta(self._scratch, theta)

    def to_u(self, theta, u):
        """``u := T^-1 A^-1 theta``."""
        self.standardised.to_u(theta, self._scratch)
        _per_unit(self.T_inv, self._scratch, u, self._views)

    def gradient_to_u(self, grad):
        """``grad := T^T A^T grad`` in place."""
        self.standardised.gradient_to_u(grad)
        _per_unit(self.T_t, grad, grad, self._views)

    def to_standardised(self, v):
        """A displacement (a velocity) in ``u'`` mapped, in place, to ``u``."""
        _per_unit(self.T, v, v, self._views)

    def to_whitened(self, v):
        """A displacement in ``u`` mapped, in place, to ``u'``."""
        _per_unit(self.T_inv, v, v, self._views)

    def hessians(self, theta):
        """Every unit's Hessian in the standardised coordinates at ``theta``
        (host), in float64: shape (k, q, q)."""
        ((W, b),) = self.layout.views(np.asarray(theta, dtype=np.float64))
        m = self.host.mean.astype(np.float64)
        d = self.host.scale.astype(np.float64)
        intercept = b is not None
        q, k = W.shape[0] + intercept, W.shape[1]
        H = np.zeros((k, q, q))
        weight = 0.0
        for part in self._rows:
            for rows, block in _blocks(self.X[part]):
                S = np.asarray(block @ W)
                if intercept:
                    S += b
                w = self.w[part][rows]
                weight += float(w.sum())
                C = np.asarray(self.output.curvature_weights(S)) * w[:, None]
                if sparse.issparse(block):
                    _add_sparse(H, block, C, m, d, intercept)
                    continue
                # the block is a fresh float64 copy: standardised in place
                block -= m
                block *= d
                Z = np.hstack([block, np.ones((len(block), 1))]) if intercept else block
                for j in range(k):
                    H[j] += (Z * C[:, j : j + 1]).T @ Z
        if weight > 0:
            H /= weight  # the sample stands for all rows
        penalty = np.append(self.lam * d * d, [0.0] * intercept)
        H[:, np.arange(q), np.arange(q)] += penalty
        return H

    def refresh(self, theta, u):
        """Measure the Hessians at the model ``theta`` (host) and move the
        iterate ``u`` into the new coordinates; False (nothing changed) when
        a Hessian is not positive definite in float64."""
        H = self.hessians(theta)
        # curvature vanishes where samples are told apart (and the intercept
        # has no penalty): a floor bounds the stretch
        diagonal = np.arange(H.shape[1])
        H[:, diagonal, diagonal] += self.floor
        try:
            L = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return False
        if not np.isfinite(L).all():
            return False
        L_inv = np.linalg.inv(L)
        self.to_standardised(u)  # u' -> u with the old T
        self._set(L_inv.transpose(0, 2, 1), L.transpose(0, 2, 1))
        self.to_whitened(u)
        return True


class WhitenedSteps:
    """The step in the whitened coordinates: ``(1 - averaging) / m`` times
    a factor of :class:`~skbackprop._converging.Halving`.

    Parameters
    ----------
    whitened : Whitened
    state : update rule
        Momentum SGD or Adam; its step is set here, and put back at
        :meth:`finish` (the state persisted for ``partial_fit`` is in the
        standardised coordinates).
    n_batches : int
    """

    def __init__(self, whitened, state, n_batches):
        self.whitened, self.state = whitened, state
        self.adam = hasattr(state, "beta_1")
        averaging = state.beta_1 if self.adam else state.momentum
        self.start = (1.0 - averaging) / n_batches
        self.saved = (state.learning_rate_init, state.learning_rate)
        self.halving = Halving()
        self._put(self.start)

    def _put(self, step):
        if self.adam:
            self.state.learning_rate_init = step
        else:
            self.state.learning_rate = step

    def after_epoch(self, theta, u, loss):
        """The step for the next epoch from the epoch's ``loss``, and new
        coordinates at the model ``theta`` (host)."""
        self._put(self.start * self.halving.factor_after(loss))
        whitened = self.whitened
        if self.adam:
            # Adam's moments stay: its second moment, a square a coordinate,
            # has no image in new coordinates, and its first alone would no
            # longer match it
            whitened.refresh(theta, u)
            return
        # the velocity is a displacement in the old coordinates: it moves
        # into the new ones with the iterate
        whitened.to_standardised(self.state._velocity)
        whitened.refresh(theta, u)
        whitened.to_whitened(self.state._velocity)

    def halve(self):
        """Halve the step (a stall: the iterates wander at the batches'
        noise, which is proportional to the step)."""
        self._put(self.start * self.halving.halve())

    def finish(self):
        """The state back in the standardised coordinates, with its steps:
        the velocity mapped there; Adam's moments, which have no image there,
        started afresh (a ``partial_fit`` that follows begins Adam anew)."""
        state = self.state
        if self.adam:
            state._m[...] = 0.0
            state._v[...] = 0.0
            state.t = 0
        else:
            self.whitened.to_standardised(state._velocity)
        state.learning_rate_init, state.learning_rate = self.saved
