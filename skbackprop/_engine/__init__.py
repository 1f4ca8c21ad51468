"""Engines: what runs the math.

An engine is one object handed to the math (:mod:`skbackprop.gradients`,
:mod:`skbackprop._network`), which asks it for scratch arrays, products and
a few row-wise and element-wise operations, and for nothing else. Everything
that exists only for speed or memory lives in an engine:

* :class:`~skbackprop._engine.numpy.NumPyEngine`, the one training uses:
  reused workspaces, BLAS in place and by pieces, sparse kernels, gathered
  mini-batches, blocks of rows, BLAS thread policy;
* :class:`~skbackprop._engine.reference.ReferenceEngine`: the same interface
  in plain NumPy calls, allocating freely; tests check the math gives the
  same gradients on both;
* :class:`~skbackprop._engine.array_api.ArrayAPIEngine`: the same interface
  in plain Array API calls, for any namespace and device (chosen by
  :func:`skbackprop._array_api.engine_for` under ``array_api_dispatch``).

The interface (method: what the math gets) is small on purpose, so that an
engine of plain Array API calls, for any namespace and device, fits it:

* arrays: ``workspace(name, shape, dtype)``, ``workspaces(name, n_rows,
  widths, dtype)``, ``views(layout)`` (a function giving a vector's per-layer views),
  ``empty_like(x)``, ``copy(x)``, ``take(A, index)`` (rows, a new array),
  ``fresh()`` (a new engine of the kind);
* the host (NumPy on the CPU): ``to_host(a)``, ``from_host(a)``,
  ``set_from_host(dst, a)``, ``host_dtype(dtype)``, ``float_dtypes``;
* products: ``affine(A, W, b, out)`` (``A @ W + b``), ``matmul(A, B, out)``,
  ``weight_gradient(A, dZ, dW, add)`` (``dW (+)= A.T @ dZ``),
  ``column_sum(dZ, db, add)``;
* rows of scores: ``row_max``, ``row_sum``, ``one_hot(y, S)`` (targets
  ``Y`` in the engine's form), ``pick(S, Y)`` (``sum_c Y S``),
  ``subtract_one_hot(P, Y)`` (``P - Y``);
* element-wise, into ``out`` where given (else they may overwrite the
  argument; the math uses the result only):
  ``subtract(A, B, out)``, ``multiply``, ``divide``, ``exp``, ``log``,
  ``sqrt``, ``sigmoid``, ``tanh``, ``relu``, ``softplus``, ``xlogx``,
  ``positive``;
* reductions: ``sum``; to floats: ``weight_sum``, ``mean``,
  ``weighted_sum``; ``row_sum64``;
* parameter vectors: ``axpy``, ``scale``, ``dot``, ``all_finite``;
* data: ``rows(A, batch, name)``, ``shuffle_order(X)``, ``block_rows``,
  ``sum_blocks``;
* threads: ``stochastic_threads``, ``lbfgs_threads``.
"""

from .numpy import NumPyEngine
from .reference import ReferenceEngine

__all__ = ["NumPyEngine", "ReferenceEngine"]
