"""Which engine runs a call, and moving arrays between the host and the
input's namespace and device (scikit-learn's Array API helpers).

With ``sklearn.set_config(array_api_dispatch=True)``, input of an Array API
library other than NumPy (PyTorch, CuPy, array-api-strict) is computed on by
the :class:`~skbackprop._engine.array_api.ArrayAPIEngine` in that namespace,
on its device; every other input (NumPy, sparse, lists, DataFrames, or any
input without dispatch) by the NumPy engine, unchanged.
"""

import numpy as np
from scipy import sparse
from sklearn import config_context, get_config
from sklearn.externals import array_api_compat
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    get_namespace_and_device,
    move_to,
)

from ._engine import NumPyEngine
from ._engine.array_api import ArrayAPIEngine


def engine_for(X):
    """A new engine for input ``X``: the Array API engine for a non-NumPy
    array under ``array_api_dispatch``, else the NumPy engine."""
    if not get_config()["array_api_dispatch"] or sparse.issparse(X):
        return NumPyEngine()
    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or _is_numpy_namespace(xp):
        return NumPyEngine()
    return ArrayAPIEngine(xp, device)


def to_host(a):
    """``a`` (an array of any namespace, or None) as a NumPy array, or as it is
    when it is not an array (a list, a DataFrame)."""
    if (
        a is None
        or isinstance(a, np.ndarray)
        or sparse.issparse(a)
        or not array_api_compat.is_array_api_obj(a)
    ):
        return a
    # also without dispatch: a model fitted on a device may go on on the host
    with config_context(array_api_dispatch=True):
        return move_to(a, xp=np, device="cpu")


def like(a, reference):
    """The NumPy array ``a`` in the namespace and on the device of
    ``reference``; labels that the namespace cannot hold (strings, objects)
    stay NumPy."""
    xp, is_array_api, device = get_namespace_and_device(reference)
    if not is_array_api or _is_numpy_namespace(xp) or a.dtype.kind not in "biuf":
        return a
    return move_to(np.ascontiguousarray(a), xp=xp, device=device)


def move_fitted(estimator, move):
    """Put the estimator's fitted float arrays (``coef_``, ``coefs_``, ...,
    not ``classes_``) where ``move`` (NumPy array -> array) puts them; a NumPy
    float scalar (a single target's ``intercept_``) becomes a 0-d array there,
    as Ridge's does."""
    for name, value in list(vars(estimator).items()):
        if name.startswith("_") or not name.endswith("_") or name == "classes_":
            continue
        if _is_float_array(value):
            setattr(estimator, name, move(value))
        elif isinstance(value, list) and value and all(map(_is_float_array, value)):
            setattr(estimator, name, [move(v) for v in value])


def _is_float_array(value):
    return isinstance(value, (np.ndarray, np.floating)) and value.dtype.kind == "f"
