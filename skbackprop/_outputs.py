r"""Output units, each paired with its canonical loss, and the targets they train on.

For every pair here the gradient of the loss with respect to the unit's
input is *prediction - target*: :math:`P - Y` for softmax with cross-entropy,
:math:`\sigma(z) - y` for sigmoid units with binary cross-entropy,
:math:`\hat Y - Y` for identity units with half squared error and
:math:`e^{Z} - Y` for exp units with half Poisson deviance. An output unit
says how many units a problem needs, how labels (or regression targets)
become targets, which loss trains it (from :mod:`skbackprop.gradients`) and
how scores become probabilities, labels or predictions.
"""

import numpy as np
from scipy.special import expit
from sklearn.utils._array_api import get_namespace

from .gradients import logistic_loss, poisson_loss, softmax, softmax_loss, squared_loss


def _floored(P):
    """Probabilities floored at the smallest normal float, so that
    ``log(predict_proba)`` is finite and agrees with ``predict_log_proba``."""
    return np.maximum(P, np.finfo(P.dtype).tiny, out=P)


class Softmax:
    """One unit per class, :math:`P = \\mathrm{softmax}(S)`; the targets are
    class indices (a one-hot matrix of the data is never made)."""

    name = "softmax"
    #: bound of the loss's second derivative in the scores (step sizes)
    curvature = 0.5

    def __init__(self, n_classes):
        self.n_outputs = n_classes

    def targets(self, y_enc, dtype):
        return y_enc

    def loss(self, S, T, sample_weight, engine, out=None):
        return softmax_loss(S, engine.one_hot(T, S), sample_weight, engine, out)

    def probabilities(self, S):
        return _floored(softmax(S))

    def sample_curvature(self, S):
        """Per sample, a bound on the largest eigenvalue of the loss's Hessian
        in the scores, :math:`\\mathrm{diag}(p) - pp^\\top`, at scores ``S``:
        :math:`\\min(2\\max_k p_k(1 - p_k), 1/2)` (Gershgorin: row
        :math:`k` holds :math:`p_k(1 - p_k)` on the diagonal and as much off
        it). Near 0 where a sample is classified with confidence."""
        P = self.curvature_weights(S)
        P *= 1.0 - P
        return np.minimum(2.0 * P.max(axis=1), self.curvature)

    def curvature_weights(self, S):
        """:math:`P = \\mathrm{softmax}(S)`, what :meth:`curvature_product`
        needs of the scores (any namespace)."""
        xp, _ = get_namespace(S)
        P = xp.exp(S - xp.max(S, axis=1, keepdims=True))
        return P / (P @ xp.ones_like(P[:1, :]).T)

    def curvature_product(self, P, dS):
        """The Hessian of the loss in a sample's scores, :math:`\\mathrm{diag}(p)
        - pp^\\top`, applied to each row of ``dS``: :math:`p \\odot (ds -
        p^\\top ds)`, the change of :math:`P - Y` along ``dS``; ``P`` from
        :meth:`curvature_weights`."""
        xp, _ = get_namespace(P, dS)
        R = P * dS
        # the row sums as a product: faster than a reduction over few columns
        return R - P * (R @ xp.ones_like(R[:1, :]).T)

    def labels(self, S):
        return S.argmax(axis=1)

    def predict(self, S, classes):
        return classes[self.labels(S)]

    def decision(self, S):
        """Confidence scores: ``s_pos - s_neg`` for two classes, else ``S``."""
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S


class Logistic:
    """Sigmoid units with binary cross-entropy, one per output.

    Binary problems have one unit, the probability of ``classes_[1]``; with
    ``n_classes`` units (one-vs-rest) each is its class against the rest, and
    the probabilities are the sigmoids normalised to sum to one.
    """

    name = "logistic"
    curvature = 0.25  # sigma'(z) <= 1/4
    #: each unit's objective is its own: the Hessian is a block a unit
    separate_units = True

    def __init__(self, n_classes):
        # one unit for a binary problem, and for a single class (the unit then
        # learns that the other class never occurs, as MLPClassifier's does)
        self.n_classes = n_classes
        self.n_outputs = 1 if n_classes <= 2 else n_classes

    def targets(self, y_enc, dtype):
        if self.n_outputs == 1:
            return (y_enc == 1).astype(dtype).reshape(-1, 1)
        T = np.zeros((y_enc.size, self.n_outputs), dtype=dtype)
        T[np.arange(y_enc.size), y_enc] = 1
        return T

    def loss(self, S, T, sample_weight, engine, out=None):
        return logistic_loss(S, T, sample_weight, engine, out)

    def sample_curvature(self, S):
        """Per sample, the largest second derivative
        :math:`\\sigma(s)(1 - \\sigma(s))` over its units at scores ``S``
        (each unit's Hessian is its own block)."""
        P = expit(S)
        P *= 1.0 - P
        return P.max(axis=1)

    def curvature_weights(self, S):
        """:math:`\\sigma(s)(1 - \\sigma(s))` of each unit, written with
        :math:`e^{-|s|}`, which never overflows (any namespace)."""
        xp, _ = get_namespace(S)
        E = xp.exp(-xp.abs(S))
        return E / ((1.0 + E) * (1.0 + E))

    def curvature_product(self, C, dS):
        """:math:`\\sigma'(s)\\, ds`, each unit on its own: the change of
        :math:`\\sigma(S) - Y` along ``dS``; ``C`` from :meth:`curvature_weights`."""
        return C * dS

    def probabilities(self, S):
        if S.shape[1] == 1:
            # expit(-S) rather than 1 - expit(S): no cancellation to exactly 0
            return _floored(np.hstack([expit(-S), expit(S)]))
        # normalised in log space, softmax(log sigmoid(S)): finite when all are tiny
        return _floored(softmax(-np.logaddexp(0, -S)))

    def labels(self, S):
        if self.n_classes == 1:
            return np.zeros(S.shape[0], dtype=np.intp)
        if S.shape[1] == 1:
            return (S[:, 0] > 0).astype(np.intp)
        return S.argmax(axis=1)

    def predict(self, S, classes):
        return classes[self.labels(S)]

    def decision(self, S):
        """Confidence scores: the one unit's score, else one per class."""
        return S[:, 0] if S.shape[1] == 1 else S


class Multilabel(Logistic):
    """One sigmoid unit per label of a 0/1 indicator matrix, each its own
    binary model: probabilities are the sigmoids (not normalised), labels
    those above one half."""

    def __init__(self, n_labels):
        self.n_classes = self.n_outputs = n_labels

    def targets(self, Y, dtype):
        return Y.astype(dtype)

    def probabilities(self, S):
        # strictly inside (0, 1), as scikit-learn expects of a label's
        # probability, where sigma(s) rounds to 0 or 1
        P = _floored(expit(S))
        return np.minimum(P, np.nextafter(P.dtype.type(1), 0), out=P)

    def labels(self, S):
        return (S > 0).astype(np.intp)  # sigma(s) > 1/2

    def predict(self, S, classes):
        return self.labels(S)

    def decision(self, S):
        return S


class Identity:
    """Identity units with half squared error, one per regression target:
    the prediction is the score."""

    name = "identity"
    curvature = 1.0  # the loss's second derivative in the score is 1

    def __init__(self, n_targets):
        self.n_outputs = n_targets

    def targets(self, y, dtype):
        """Float targets of shape (n_samples, n_targets)."""
        return y.astype(dtype, copy=False).reshape(y.shape[0], -1)

    def loss(self, S, T, sample_weight, engine, out=None):
        return squared_loss(S, T, sample_weight, engine, out)

    def curvature_weights(self, S):
        """Nothing: the loss's second derivative in the score is 1."""
        return None

    def curvature_product(self, C, dS):
        """``dS`` itself (the second derivative is 1)."""
        return dS

    def predict(self, S):
        return S


class Exp(Identity):
    """Exp units with half Poisson deviance (``loss='poisson'``): the
    prediction :math:`e^{z}` is the mean of a Poisson target."""

    name = "exp"
    #: the second derivative e^z has no bound: no step size follows from the
    #: data alone, so ``learning_rate_init='auto'`` is not offered with it
    curvature = None

    def targets(self, y, dtype):
        if (y < 0).any():
            raise ValueError(
                "loss='poisson' needs non-negative targets (counts or rates); "
                f"y has values down to {y.min()}."
            )
        return super().targets(y, dtype)

    def loss(self, S, T, sample_weight, engine, out=None):
        return poisson_loss(S, T, sample_weight, engine, out)

    def curvature_weights(self, S):
        """The prediction :math:`e^{s}`, the loss's second derivative."""
        xp, _ = get_namespace(S)
        return xp.exp(S)

    def curvature_product(self, C, dS):
        """:math:`e^{s}\\, ds`, the change of :math:`e^{S} - Y` along ``dS``;
        ``C`` from :meth:`curvature_weights`."""
        return C * dS

    def predict(self, S):
        with np.errstate(over="ignore"):  # beyond the float range: inf
            return np.exp(S)


OUTPUTS = {
    "softmax": Softmax,
    "logistic": Logistic,
    "multilabel": Multilabel,
    "identity": Identity,
    "exp": Exp,
}
