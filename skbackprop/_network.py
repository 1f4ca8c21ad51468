r"""Forward pass, loss and backward pass of a stack of affine layers.

The three estimators share this module: a linear model is the network with no
hidden layer. Layers are ``(W, b)`` pairs with ``W`` of shape
``(fan_in, fan_out)``; ``b`` may be None (no intercept).

Forward: :math:`Z_l = A_{l-1} W_l + b_l`, :math:`A_l = f(Z_l)` for hidden
layers, and the last :math:`Z` are the class scores :math:`S`.

Backward, starting from :math:`\partial L / \partial S` (which is
:math:`w \odot (P - Y)` for both output units, see
:mod:`skbackprop.gradients`):

.. math::

    \frac{\partial L}{\partial W_l} = A_{l-1}^\top \frac{\partial L}{\partial Z_l},
    \quad
    \frac{\partial L}{\partial b_l} =
        \sum_i \Big(\frac{\partial L}{\partial Z_l}\Big)_i,
    \quad
    \frac{\partial L}{\partial Z_{l-1}} =
        \Big(\frac{\partial L}{\partial Z_l} W_l^\top\Big) \odot f'(Z_{l-1}).
"""

import numpy as np
from scipy.special import expit

from ._blas import (
    SINGLE_THREAD_BELOW,
    CSRRows,
    add_sparse_product,
    axpy,
    csr_rows_apply,
    product,
    sparse_adds_in_place,
)
from .gradients import _softmax_cross_entropy, binary_cross_entropy, softmax

# Activations with their derivatives side by side. Both work in place; the
# derivative is written in terms of the activation's output A = f(Z), which is
# what the forward pass keeps. ``buffers`` (a dict, or None) holds constant
# arrays an activation may reuse between calls.


def _identity(Z, buffers=None):
    pass


def _identity_derivative(A, dA):
    pass


def _logistic(Z, buffers=None):
    expit(Z, out=Z)


def _logistic_derivative(A, dA):
    # f'(z) = f(z) (1 - f(z))
    dA *= A
    dA *= 1 - A


def _tanh(Z, buffers=None):
    np.tanh(Z, out=Z)


def _tanh_derivative(A, dA):
    # f'(z) = 1 - f(z)^2
    dA *= 1 - A**2


def _relu(Z, buffers=None):
    # against an array of zeros: NumPy vectorises the maximum of two arrays,
    # not of an array and a scalar (200 x 100: 1.3 us against 6.4 us)
    np.maximum(Z, _buffer(buffers, "zeros", Z.shape, Z.dtype, fill=0), out=Z)


def _relu_derivative(A, dA):
    # f'(z) = 1 where z > 0, i.e. where A > 0; a product is ~2x faster than
    # the masked assignment dA[A <= 0] = 0
    np.multiply(dA, A > 0, out=dA)


ACTIVATIONS = {
    "identity": (_identity, _identity_derivative),
    "logistic": (_logistic, _logistic_derivative),
    "tanh": (_tanh, _tanh_derivative),
    "relu": (_relu, _relu_derivative),
}

# Output unit -> its loss (returning the gradient w.r.t. the scores). Both are
# canonical pairs, so dL/dS = w * (P - Y) in each case. Training writes dS over
# the scores, which backward does not read: no array allocated per batch.


def _softmax_loss(S, T, sample_weight=None):
    # T: the encoded class of each sample, or one-hot rows
    return _softmax_cross_entropy(S, T, sample_weight, out=S)


def _logistic_loss(S, T, sample_weight=None):
    return binary_cross_entropy(S, T, sample_weight, out=S)


OUTPUT_LOSSES = {"softmax": _softmax_loss, "logistic": _logistic_loss}


# A full-batch evaluation (gd, L-BFGS) on many samples runs over blocks of rows,
# so that its arrays (scores, activations and their gradients) take about
# BLOCK_BYTES instead of growing with the data; blocks of fewer rows would
# spend more on NumPy's per-call overhead than they save. A quarter MB: the
# softmax scores of 1638 rows of 20 classes; a sparse 40k x 20k L-BFGS fit
# took as long as with blocks of 1 MB, and 0.8 MB less (1.5 % of its X).
BLOCK_BYTES = 2**18
MIN_BLOCK_ROWS = 1024


def _row_block(X, rows):
    """Rows ``rows`` (a slice) of a dense or CSR ``X``, its values not copied."""
    if isinstance(X, np.ndarray):
        return X[rows]
    return CSRRows.block(X, rows.start, rows.stop)


def _buffer(buffers, key, shape, dtype, fill=None):
    """A reusable array from ``buffers`` (a dict), or a new one if None.

    With ``fill``, the array holds that constant: it is filled when created,
    and callers only read it.
    """
    if buffers is None:
        out = np.empty(shape, dtype=dtype)
    else:
        out = buffers.get((key, shape))
        if out is not None and out.dtype == dtype:
            return out
        out = buffers[(key, shape)] = _first_rows(
            buffers, key, shape[0], [shape[1:]], dtype
        )[0]
    if fill is not None:
        out.fill(fill)
    return out


def _layer_buffers(buffers, key, n_samples, widths, dtype):
    """One reusable ``(n_samples, width)`` array per entry of ``widths``.

    A single look-up for all the layers of a batch: training calls this twice
    per batch, and a look-up per layer cost ~0.5 us each.
    """
    if buffers is None:
        return [np.empty((n_samples, width), dtype=dtype) for width in widths]
    out = buffers.get((key, n_samples))
    if out is not None and (not out or out[0].dtype == dtype):
        return out
    out = buffers[(key, n_samples)] = _first_rows(
        buffers, key, n_samples, [(width,) for width in widths], dtype
    )
    return out


def _first_rows(buffers, key, n_samples, trailing_shapes, dtype):
    """Arrays of shapes ``(n_samples, *shape)`` for ``trailing_shapes``: the
    first rows (C-contiguous views) of ``key``'s arrays in ``buffers`` if they
    have more rows, else new ones.

    The last batch of an epoch, or the last block of a full batch, is shorter
    than the others; taking rows of their arrays saves a second set.
    """
    for (k, _), longer in buffers.items():
        arrays = longer if isinstance(longer, list) else [longer]
        if (
            k == key
            and arrays
            and arrays[0].shape[0] > n_samples
            and [a.shape[1:] for a in arrays] == trailing_shapes
            and all(a.dtype == dtype for a in arrays)
        ):
            return [a[:n_samples] for a in arrays]
    return [np.empty((n_samples, *shape), dtype=dtype) for shape in trailing_shapes]


def _product(A, B, out):
    """``out[...] = A @ B`` for dense or sparse ``A``.

    Dense: ``np.dot`` rather than ``np.matmul`` for 2-D arrays, the same BLAS
    call with ~0.5 us less overhead, by pieces where the BLAS has faster
    kernels for small products (:func:`~skbackprop._blas.product`). Sparse
    ``A``: SciPy's kernel adds the product into ``out`` itself, no new array
    (:func:`add_sparse_product`).
    """
    if isinstance(A, np.ndarray):
        product(A, B, out)
    elif sparse_adds_in_place(A, B, out):
        out.fill(0)
        add_sparse_product(A, B, out)
    else:
        out[...] = A @ B


def _adds_in_place(A, W, Z):
    """Whether :func:`_add_product` can compute ``Z += A @ W``.

    Dense: for C-contiguous ``A`` and products small enough for one BLAS
    thread (larger products stay on NumPy's BLAS, the one training lets use
    threads). Sparse: when SciPy's kernel applies.
    """
    if isinstance(A, np.ndarray):
        return A.flags.c_contiguous and A.shape[0] * W.size < SINGLE_THREAD_BELOW
    return sparse_adds_in_place(A, W, Z)


def _add_product(A, B, out):
    """``out += A @ B`` in place (without a temporary where
    :func:`_adds_in_place` allows)."""
    if isinstance(A, np.ndarray):
        product(A, B, out, add=True)
    elif sparse_adds_in_place(A, B, out):
        add_sparse_product(A, B, out)
    else:
        out += A @ B


def forward(layers, X, activation, buffers=None):
    """Forward pass.

    Parameters
    ----------
    layers : list of (W, b)
        ``W`` of shape (fan_in, fan_out); ``b`` of shape (fan_out,) or None.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    buffers : dict, default=None
        Arrays to reuse between calls (training); None allocates.

    Returns
    -------
    activations : list of ndarray
        ``[X, A_1, ..., A_{L-1}, S]``; the last entry holds the class scores
        of shape (n_samples, n_outputs).
    """
    f = ACTIVATIONS[activation][0]
    dtype = layers[0][0].dtype
    Zs = _layer_buffers(
        buffers, "Z", X.shape[0], [W.shape[1] for W, _ in layers], dtype
    )
    last = len(layers) - 1
    A = X
    for i, ((W, b), Z) in enumerate(zip(layers, Zs, strict=True)):
        if b is not None and _adds_in_place(A, W, Z):
            # Z = b, then Z += A @ W in the product itself: no pass to add b
            np.copyto(Z, b)
            _add_product(A, W, Z)
        else:
            _product(A, W, Z)
            if b is not None:
                Z += b
        if i < last:
            f(Z, buffers)
        A = Z
    return [X, *Zs]


def backward(layers, grads, activations, dS, activation, buffers=None, add=False):
    """Backward pass: fill ``grads`` with the gradient of the data term.

    Parameters
    ----------
    layers : list of (W, b)
    grads : list of (dW, db)
        Arrays of the shapes of ``layers``, written in place.
    activations : list of ndarray
        As returned by :func:`forward`.
    dS : ndarray of shape (n_samples, n_outputs)
        Gradient of the loss with respect to the scores.
    activation : str
    buffers : dict, default=None
    add : bool, default=False
        Add the gradient to what ``grads`` hold (the objective sums it over
        blocks of rows) instead of overwriting them.
    """
    derivative = ACTIVATIONS[activation][1]
    n_samples = dS.shape[0]
    dAs = _layer_buffers(
        buffers, "dA", n_samples, [A.shape[1] for A in activations[1:-1]], dS.dtype
    )
    if grads[0][1] is not None:
        # a product with ones (BLAS) sums the columns ~3x faster than np.sum
        ones = _buffer(buffers, "ones", (n_samples,), dS.dtype, fill=1)
    dZ = dS
    for i in range(len(layers) - 1, -1, -1):
        dW, db = grads[i]
        A_prev = activations[i]
        if add:
            _add_product(A_prev.T, dZ, dW)
            if db is not None:
                db += np.dot(ones, dZ)
        else:
            _product(A_prev.T, dZ, dW)
            if db is not None:
                np.dot(ones, dZ, out=db)
        if i:
            dA = dAs[i - 1]
            np.dot(dZ, layers[i][0].T, out=dA)
            derivative(A_prev, dA)
            dZ = dA


def predict_scores(layers, X, activation):
    """Class scores ``S`` of shape (n_samples, n_outputs) (a fresh array)."""
    return forward(layers, X, activation)[-1]


def probabilities(S, output):
    """Class probabilities (n_samples, n_classes) from scores ``S``.

    ``softmax``: row-wise softmax. ``logistic`` with one unit: the two columns
    ``(1 - p, p)`` with ``p = sigmoid(S)``. ``logistic`` with several
    (one-vs-rest) units: the sigmoids normalised to sum to one, computed in
    log space as ``softmax(log sigmoid(S))`` so that it stays finite when all
    are tiny. Probabilities are floored at the smallest normal float, so that
    ``log(predict_proba)`` is finite and agrees with ``predict_log_proba``.
    """
    if output == "softmax":
        P = softmax(S)
    elif S.shape[1] == 1:
        # expit(-S) rather than 1 - expit(S): no cancellation to exactly 0
        P = np.hstack([expit(-S), expit(S)])
    else:
        P = softmax(-np.logaddexp(0, -S))
    return np.maximum(P, np.finfo(P.dtype).tiny, out=P)


def _under_errstate(errors, function, *args):
    """``function(*args)`` under NumPy's floating-point error handling
    ``errors`` (a dict of :func:`numpy.geterr`): the handling is per thread,
    and a pool's thread starts with NumPy's defaults, not the caller's."""
    with np.errstate(**errors):
        return function(*args)


class Objective:
    r"""The full training objective of a network, on a flat parameter vector.

    .. math::

        J(\theta) = \sum_i w_i\, \ell(y_i, S_i) + \frac{\lambda}{2}
                    \sum_l \lVert W_l \rVert_F^2

    with weights :math:`w` normalised to sum to one. The penalty strength is
    :math:`\lambda = \alpha` (linear models) or :math:`\lambda = \alpha /
    \sum_i w_i` over the raw weights of the batch (``MLPClassifier``'s
    convention), chosen by ``alpha_per_weight_sum``. Biases are not penalised.

    A large full batch is evaluated over blocks of rows (:meth:`block_rows`):
    the sum over samples splits into sums over blocks, so the arrays of a
    pass need only a block's rows.

    Parameters
    ----------
    layout : Layout
    activation : str
    output : {'softmax', 'logistic'}
    alpha : float
    alpha_per_weight_sum : bool
    """

    def __init__(self, layout, activation, output, alpha, alpha_per_weight_sum):
        self.layout = layout
        self.activation = activation
        self.output = output
        self.alpha = float(alpha)
        self.alpha_per_weight_sum = alpha_per_weight_sum
        self._loss = OUTPUT_LOSSES[output]
        self.buffers = {}
        # a thread pool that full-batch evaluations over blocks of rows may
        # share their blocks with (set by the L-BFGS driver), and its arrays
        self.pool = None
        self._pool_buffers = {}
        self._views = {}
        # entries of a sample's arrays in a pass: Z of every layer, dA of the
        # hidden ones
        units = layout.layer_units
        self._entries_per_row = sum(units[1:]) + sum(units[1:-1])

    def views(self, flat):
        """``layout.views(flat)``, kept for the arrays passed again and again.

        Training passes the same ``theta`` and ``grad`` buffers on every
        batch; making their per-layer views once saves ~1.5 us a call each.
        """
        entry = self._views.get(id(flat))
        if entry is None or entry[0] is not flat:
            if len(self._views) >= 2:
                self._views.clear()
            entry = self._views[id(flat)] = (flat, self.layout.views(flat))
        return entry[1]

    def block_rows(self, X, dtype):
        """Rows of ``X`` per block of a full-batch evaluation.

        Blocks hold enough rows for the arrays of a pass (the ``Z`` of every
        layer and the ``dA`` of the hidden ones) to fill about
        ``BLOCK_BYTES``, at least ``MIN_BLOCK_ROWS``. A dense ``X`` is taken
        whole where those arrays are small next to it (a linear model: its
        larger products may then use BLAS threads); a CSR ``X`` is cut into
        blocks where SciPy's kernels read it in place (:class:`CSRRows`, for
        parameters of ``X``'s dtype), other sparse ``X`` are taken whole.
        """
        n_samples = X.shape[0]
        bytes_per_row = X.dtype.itemsize * self._entries_per_row
        if n_samples * bytes_per_row <= BLOCK_BYTES:  # every mini-batch
            return n_samples
        if isinstance(X, np.ndarray):
            whole = n_samples * bytes_per_row <= X.nbytes / 8
        else:
            whole = not csr_rows_apply(X, dtype)
        if whole:
            return n_samples
        return max(MIN_BLOCK_ROWS, BLOCK_BYTES // bytes_per_row)

    def _data_term(
        self, layers, grads, X, T, sample_weight, share=1.0, add=False, buffers=None
    ):
        """Loss of the data term on ``X``, its gradient written into (``add``:
        added to) ``grads``; both scaled by ``share``. ``buffers``: the arrays
        of the pass (default: the objective's own)."""
        buffers = self.buffers if buffers is None else buffers
        # forward
        activations = forward(layers, X, self.activation, buffers)
        # loss, and its gradient w.r.t. the scores: w * (P - Y)
        loss, dS = self._loss(activations[-1], T, sample_weight)
        if share != 1.0:
            dS *= share
        # backward
        backward(layers, grads, activations, dS, self.activation, buffers, add)
        return share * loss

    def _data_term_by_blocks(self, layers, grads, grad, X, T, sample_weight, rows):
        """:meth:`_data_term` over blocks of ``rows`` rows, summed.

        The data term is a weighted mean over samples, so the mean over a
        block counts with the block's share of the total weight. The arrays
        of a pass are then block-sized: for full-batch L-BFGS on an MLP they
        were 2-3 times the size of ``X``.

        With a :attr:`pool`, a thread of it sums the second half of the blocks
        into a gradient of its own, added to ``grad`` (the flat vector behind
        ``grads``) at the end: the halves, and so the result, do not depend
        on which thread finishes first. (If this thread is interrupted, the
        other may go on with its half until the pool is shut down, which
        waits for it.)
        """
        n_samples = X.shape[0]
        if sample_weight is None:
            total = n_samples
        else:
            total = float(sample_weight.sum(dtype=np.float64))
            if total <= 0:  # no share to give; the whole batch says why
                return self._data_term(layers, grads, X, T, sample_weight)
        blocks = []
        for start in range(0, n_samples, rows):
            block = slice(start, min(start + rows, n_samples))
            w = None if sample_weight is None else sample_weight[block]
            weight = block.stop - block.start if w is None else float(w.sum())
            if weight:  # else it adds nothing (and its mean would be 0 / 0)
                blocks.append((block, w, weight / total))
        if self.pool is None or len(blocks) < 2:
            return self._sum_blocks(layers, grads, X, T, blocks, self.buffers)
        half = (len(blocks) + 1) // 2
        other_grad = _buffer(self._pool_buffers, "grad", grad.shape, grad.dtype)
        other = self.pool.submit(
            _under_errstate,
            np.geterr(),
            self._sum_blocks,
            layers,
            self.layout.views(other_grad),
            X,
            T,
            blocks[half:],
            self._pool_buffers,
        )
        loss = self._sum_blocks(layers, grads, X, T, blocks[:half], self.buffers)
        loss += other.result()
        axpy(1.0, other_grad, grad)
        return loss

    def _sum_blocks(self, layers, grads, X, T, blocks, buffers):
        """The data terms of ``blocks`` (``(rows, weights, share)`` triples)
        summed, their gradients into ``grads``, with the arrays of
        ``buffers``."""
        loss, add = 0.0, False
        for block, w, share in blocks:
            X_block = _row_block(X, block)
            loss += self._data_term(
                layers, grads, X_block, T[block], w, share, add, buffers
            )
            add = True
        return loss

    def penalty_strength(self, n_samples, sample_weight):
        """The :math:`\\lambda` of a batch."""
        if not self.alpha_per_weight_sum:
            return self.alpha
        weight_sum = n_samples if sample_weight is None else sample_weight.sum()
        return self.alpha / weight_sum

    def __call__(self, theta, X, T, sample_weight, grad):
        """Loss at ``theta``; its gradient is written into ``grad``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        T : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Targets: the class index of each sample (unsigned integers), or
            one-hot rows (softmax); 0/1 per unit (logistic).
        sample_weight : ndarray of shape (n_samples,) or None
        grad : ndarray of shape (n_params,)

        Returns
        -------
        loss : float
        """
        layers, grads = self.views(theta), self.views(grad)
        rows = self.block_rows(X, theta.dtype)
        if rows >= X.shape[0]:
            loss = self._data_term(layers, grads, X, T, sample_weight)
        else:
            loss = self._data_term_by_blocks(
                layers, grads, grad, X, T, sample_weight, rows
            )
        # L2 penalty on the weights (not the biases), all layers in one vector
        lam = self.penalty_strength(X.shape[0], sample_weight)
        if lam:
            weights = self.layout.weights(theta)
            loss += 0.5 * lam * float(weights @ weights)
            axpy(lam, weights, self.layout.weights(grad))
        return loss
