"""All weights of a network in one flat vector, with per-layer views.

L-BFGS, gradient checking and the stochastic solvers all work on the same flat
vector ``theta``; the forward and backward passes read and write the per-layer
views ``W`` (``(fan_in, fan_out)``, as ``MLPClassifier.coefs_``) and ``b``
(``(fan_out,)``) without copying. The weights of all layers come first and the
biases after them, as ``MLPClassifier`` packs its parameters for L-BFGS.
"""

import numpy as np


class Layout:
    """Shapes of the layers of a network and their place in a flat vector.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, inputs first and outputs last: ``[n_features, *hidden,
        n_outputs]``.
    fit_intercept : bool, default=True
        Whether every layer has a bias vector.
    """

    def __init__(self, layer_units, fit_intercept=True):
        self.layer_units = [int(u) for u in layer_units]
        self.fit_intercept = bool(fit_intercept)
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:], strict=True))
        # every layer's weights first, then every bias (MLPClassifier's packing
        # too): the penalty reads and updates all the weights as one vector
        start = 0
        w_slices = []
        for fan_in, fan_out in shapes:
            w_slices.append(slice(start, start + fan_in * fan_out))
            start += fan_in * fan_out
        self.n_weights = start
        b_slices = [None] * len(shapes)
        if self.fit_intercept:
            for i, (_, fan_out) in enumerate(shapes):
                b_slices[i] = slice(start, start + fan_out)
                start += fan_out
        self._slices = list(zip(shapes, w_slices, b_slices, strict=True))
        self.size = start

    def views(self, theta, reshape=None):
        """Per-layer ``(W, b)`` views into ``theta``; ``b`` is None without intercept.

        Writing into a view writes into ``theta`` (and back). ``reshape(x,
        shape)`` is the namespace's function, for arrays without the method.
        """
        layers = []
        for shape, w_slice, b_slice in self._slices:
            W = (
                theta[w_slice].reshape(shape)
                if reshape is None
                else reshape(theta[w_slice], shape)
            )
            b = None if b_slice is None else theta[b_slice]
            layers.append((W, b))
        return layers

    def weights(self, theta):
        """All the weights of ``theta`` as one flat view (the biases excluded)."""
        return theta[: self.n_weights]

    def named_slices(self, weight_name, bias_name):
        """Parameter array name -> its slice of ``theta``.

        ``weight_name`` and ``bias_name`` are formatted with the layer index,
        e.g. ``'coefs_[{}]'``.
        """
        names = {}
        for i, (_, w_slice, b_slice) in enumerate(self._slices):
            names[weight_name.format(i)] = w_slice
            if b_slice is not None:
                names[bias_name.format(i)] = b_slice
        return names

    def pack(self, coefs, intercepts, dtype):
        """A new flat vector from per-layer weights and biases.

        Parameters
        ----------
        coefs : list of ndarray of shape (fan_in, fan_out)
        intercepts : list of ndarray of shape (fan_out,) or None
            Ignored when the layout has no intercept.
        dtype : numpy dtype
        """
        theta = np.empty(self.size, dtype=dtype)
        for (W, b), coef, intercept in zip(
            self.views(theta), coefs, intercepts, strict=True
        ):
            if np.shape(coef) != W.shape:
                raise ValueError(
                    f"Stored weights of shape {np.shape(coef)} do not match the "
                    f"expected {W.shape}; refit with warm_start=False."
                )
            W[...] = coef
            if b is not None:
                b[...] = intercept
        return theta

    def unpack(self, theta):
        """Per-layer copies ``(coefs, intercepts)``; zero biases without intercept."""
        coefs, intercepts = [], []
        for W, b in self.views(theta):
            coefs.append(W.copy())
            intercepts.append(
                np.zeros(W.shape[1], dtype=theta.dtype) if b is None else b.copy()
            )
        return coefs, intercepts
