r"""The network: activations, forward pass, backward pass, penalty, and the
training objective they make.

A linear model is the network with no hidden layer. Layers are ``(W, b)``
pairs with ``W`` of shape ``(fan_in, fan_out)``; ``b`` may be None (no
intercept). Every function takes an *engine* ``e`` (:mod:`skbackprop._engine`)
for its products and scratch arrays.

.. math::

    Z_l = A_{l-1} W_l + b_l, \quad A_l = f(Z_l), \quad A_0 = X, \quad S = Z_L

    \frac{\partial L}{\partial W_l} = A_{l-1}^\top \frac{\partial L}{\partial Z_l},
    \quad
    \frac{\partial L}{\partial b_l} =
        \sum_i \Big(\frac{\partial L}{\partial Z_l}\Big)_i,
    \quad
    \frac{\partial L}{\partial Z_{l-1}} =
        \Big(\frac{\partial L}{\partial Z_l} W_l^\top\Big) \odot f'(Z_{l-1})

starting from :math:`\partial L/\partial S = w \odot (P - Y)`, the output
unit's gradient (:mod:`skbackprop._outputs`).
"""

# Activations beside their derivatives. The derivative is written in terms of
# the activation's output A = f(Z), which is what the forward pass keeps; it
# multiplies dA = dL/dA into dL/dZ = dA * f'(Z).


def identity(Z, e):
    return Z


def identity_derivative(A, dA, e):
    return dA


def logistic(Z, e):
    return e.sigmoid(Z)


def logistic_derivative(A, dA, e):
    # f'(z) = f(z) (1 - f(z))
    dA *= A
    dA *= 1 - A
    return dA


def tanh(Z, e):
    return e.tanh(Z)


def tanh_derivative(A, dA, e):
    # f'(z) = 1 - f(z)^2
    dA *= 1 - A**2
    return dA


def relu(Z, e):
    return e.relu(Z)


def relu_derivative(A, dA, e):
    # f'(z) = [z > 0] = [a > 0]
    dA *= e.positive(A)
    return dA


ACTIVATIONS = {
    "identity": (identity, identity_derivative),
    "logistic": (logistic, logistic_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}


def forward(layers, X, activation, e):
    """Forward pass.

    Parameters
    ----------
    layers : list of (W, b)
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    e : engine

    Returns
    -------
    activations : list of ndarray
        ``[X, A_1, ..., A_{L-1}, S]``: each layer's input, then the scores of
        shape (n_samples, n_outputs).
    """
    f = ACTIVATIONS[activation][0]
    widths = [W.shape[1] for W, _ in layers]
    Zs = e.workspaces("Z", X.shape[0], widths, layers[0][0].dtype)
    activations = [X]
    last = len(layers) - 1
    for k, ((W, b), Z) in enumerate(zip(layers, Zs, strict=True)):
        Z = e.affine(activations[-1], W, b, out=Z)  # Z_k = A_{k-1} W_k + b_k
        activations.append(Z if k == last else f(Z, e))  # A_k = f(Z_k)
    return activations


def backward(layers, grads, inputs, dS, activation, e, add=False):
    """Backward pass: the gradient of the data term into ``grads``.

    Parameters
    ----------
    layers : list of (W, b)
    grads : list of (dW, db)
        Arrays of the shapes of ``layers``, written in place.
    inputs : list of ndarray
        Each layer's input ``[X, A_1, ..., A_{L-1}]`` (:func:`forward`'s
        activations without the scores).
    dS : ndarray of shape (n_samples, n_outputs)
        :math:`\\partial L / \\partial S`.
    activation : str
    e : engine
    add : bool, default=False
        Add to what ``grads`` hold (a sum over blocks of rows) instead of
        overwriting them.
    """
    derivative = ACTIVATIONS[activation][1]
    widths = [A.shape[1] for A in inputs[1:]]
    dAs = e.workspaces("dA", dS.shape[0], widths, dS.dtype)
    dZ = dS
    for k in range(len(layers) - 1, -1, -1):
        dW, db = grads[k]
        e.weight_gradient(inputs[k], dZ, dW, add)  # dL/dW_k = A_{k-1}^T dZ_k
        if db is not None:
            e.column_sum(dZ, db, add)  # dL/db_k = sum_i dZ_k
        if k:
            dA = e.matmul(dZ, layers[k][0].T, out=dAs[k - 1])  # dZ_k W_k^T
            dZ = derivative(inputs[k], dA, e)  # dZ_{k-1} = dA_{k-1} * f'(Z_{k-1})


def penalty(theta, grad, lam, layout, e):
    """L2 penalty :math:`\\frac{\\lambda}{2}\\sum_l \\lVert W_l\\rVert_F^2` on the
    weights (not the biases); adds its gradient :math:`\\lambda W` to ``grad``."""
    weights = layout.weights(theta)
    e.axpy(lam, weights, layout.weights(grad))
    return 0.5 * lam * e.squared_norm(weights)


class Objective:
    r"""The full training objective of a network, on a flat parameter vector.

    .. math::

        J(\theta) = \sum_i w_i\, \ell(y_i, S_i) + \frac{\lambda}{2}
                    \sum_l \lVert W_l \rVert_F^2

    with weights :math:`w` normalised to sum to one. The penalty strength is
    :math:`\lambda = \alpha` (linear models) or :math:`\lambda = \alpha /
    \sum_i w_i` over the raw weights of the batch (``MLPClassifier``'s
    convention), chosen by ``alpha_per_weight_sum``. Biases are not penalised.
    The engine may evaluate a large full batch over blocks of rows: the
    weighted mean over samples is a sum of block means, each weighted by its
    block's share.

    Parameters
    ----------
    layout : Layout
    activation : str
    output : output unit (:mod:`skbackprop._outputs`)
    alpha : float
    alpha_per_weight_sum : bool
    engine : engine
    """

    def __init__(self, layout, activation, output, alpha, alpha_per_weight_sum, engine):
        self.layout = layout
        self.activation = activation
        self.output = output
        self.alpha = float(alpha)
        self.alpha_per_weight_sum = alpha_per_weight_sum
        self.engine = engine
        self._views = engine.views(layout)
        units = layout.layer_units
        # entries of a sample's arrays in a pass: Z of every layer, dA of hidden ones
        self.entries_per_row = sum(units[1:]) + sum(units[1:-1])

    def data_term(self, e, layers, grads, X, T, sample_weight, share=1.0, add=False):
        """Loss of the data term on ``X`` times ``share``; its gradient, times
        ``share``, written (``add``: added) into ``grads``."""
        # forward
        activations = forward(layers, X, self.activation, e)
        S = activations.pop()
        # loss, and dL/dS = w * (P - Y), written over the scores S
        loss, dS = self.output.loss(S, T, sample_weight, e, out=S)
        if share != 1.0:
            dS *= share
        # backward
        backward(layers, grads, activations, dS, self.activation, e, add)
        return share * loss

    def penalty_strength(self, n_samples, sample_weight):
        """The :math:`\\lambda` of a batch."""
        if not self.alpha_per_weight_sum:
            return self.alpha
        weight_sum = (
            n_samples
            if sample_weight is None
            else self.engine.weight_sum(sample_weight)
        )
        return self.alpha / weight_sum

    def block_rows(self, X, dtype):
        """Rows of ``X`` per block of a full-batch evaluation (the engine's choice)."""
        return self.engine.block_rows(X, dtype, self.entries_per_row)

    def __call__(self, theta, X, T, sample_weight, grad):
        """Loss at ``theta``; its gradient is written into ``grad``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        T : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as the output unit encodes them.
        sample_weight : ndarray of shape (n_samples,) or None
        grad : ndarray of shape (n_params,)

        Returns
        -------
        loss : float
        """
        e, views = self.engine, self._views
        layers = views(theta)
        rows = self.block_rows(X, theta.dtype)
        if rows >= X.shape[0]:
            loss = self.data_term(e, layers, views(grad), X, T, sample_weight)
        else:

            def term(engine, grads, X_block, T_block, w, share, add):
                return self.data_term(
                    engine, layers, grads, X_block, T_block, w, share, add
                )

            loss = e.sum_blocks(term, X, T, sample_weight, rows, grad, views)
        lam = self.penalty_strength(X.shape[0], sample_weight)
        if lam:
            loss += penalty(theta, grad, lam, self.layout, e)
        return loss


def predict_scores(layers, X, activation, engine):
    """Output scores ``S`` of shape (n_samples, n_outputs) (a fresh array)."""
    return forward(layers, X, activation, engine)[-1]
