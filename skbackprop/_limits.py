"""Limits a fit checks before it allocates anything: the memory a network
needs, and the size of the early-stopping split.

The memory bound is the machine's physical memory, read through the standard
library (``os.sysconf``); where the platform does not report it,
:data:`FALLBACK_MEMORY_BOUND`. A training that needs more than the whole
physical memory can only end in a MemoryError or in swapping, so it is refused
up front with a ValueError that says how much it would need.
"""

import math
import os

import numpy as np

#: Bound in bytes where the physical memory cannot be read (1 TiB).
FALLBACK_MEMORY_BOUND = 2**40


def memory_bound():
    """The memory bound in bytes: physical memory, else the fallback."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY_BOUND
    if pages <= 0 or page_size <= 0:
        return FALLBACK_MEMORY_BOUND
    return pages * page_size


def _gib(n_bytes):
    """Bytes in GiB, to one decimal, with thousands separators."""
    return f"{n_bytes / 2**30:,.1f} GiB"


def _n_params(units):
    """Weights and biases of a stack of affine layers of these units."""
    pairs = zip(units[:-1], units[1:], strict=True)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairs)


def training_memory(layer_units, batch_rows, dtype, parameter_vectors=2):
    """A lower bound of the bytes training needs beside X, and its parts.

    Parameters
    ----------
    layer_units : sequence of int
        Units of every layer, input and output included.
    batch_rows : int
        Rows of a batch (all rows for full-batch solvers).
    dtype : numpy dtype
        The working dtype.
    parameter_vectors : int, default=2
        Parameter-sized vectors held at once: the parameters and their
        gradient, plus the optimizer's state (momentum: one, Adam: two,
        L-BFGS: two per remembered pair).

    Returns
    -------
    total, parameters, activations : int
        Bytes in all, for the parameter-sized vectors, and for the
        activations of a batch and their gradients (two arrays of
        ``batch_rows`` by the units of each layer after the input).
    """
    units = [int(u) for u in layer_units]
    itemsize = np.dtype(dtype).itemsize
    n_params = _n_params(units)
    parameters = parameter_vectors * n_params * itemsize
    activations = 2 * int(batch_rows) * sum(units[1:]) * itemsize
    return parameters + activations, parameters, activations


def check_network_size(layer_units, batch_rows, dtype, parameter_vectors=2):
    """Refuse a network whose training cannot fit in memory, before allocating.

    Parameters
    ----------
    layer_units, batch_rows, dtype, parameter_vectors
        As in :func:`training_memory`.

    Raises
    ------
    ValueError
        If :func:`training_memory` exceeds :func:`memory_bound`; the message
        says how much it would need and what to reduce.
    """
    total, parameters, activations = training_memory(
        layer_units, batch_rows, dtype, parameter_vectors
    )
    bound = memory_bound()
    if total <= bound:
        return
    units = [int(u) for u in layer_units]
    n_params = _n_params(units)
    raise ValueError(
        f"A network of layer sizes {tuple(units)} needs at least {_gib(total)} to "
        f"train in {np.dtype(dtype).name}: {_gib(parameters)} for "
        f"{parameter_vectors} vectors of its {n_params:,} parameters and "
        f"{_gib(activations)} for the activations of a batch of {batch_rows} rows "
        f"and their gradients. That is more than this machine's memory "
        f"({_gib(bound)}). Reduce hidden_layer_sizes (or batch_size)."
    )


def check_validation_split(validation_fraction, n_samples):
    """Refuse an early-stopping split that leaves no validation or training data.

    Parameters
    ----------
    validation_fraction : float
        The ``validation_fraction`` parameter, in [0, 1).
    n_samples : int
        Rows of the training data.

    Raises
    ------
    ValueError
        If ``validation_fraction`` is 0, or the split (``ceil(fraction *
        n_samples)`` validation rows, as ``train_test_split`` makes it) leaves
        no training row.
    """
    if validation_fraction == 0:
        raise ValueError(
            "early_stopping=True holds out validation_fraction of the training data "
            "to decide when to stop, but validation_fraction=0 holds out nothing: "
            "set validation_fraction in (0, 1) (the default is 0.1), or "
            "early_stopping=False."
        )
    # a validation set of fewer than 2 rows is refused after the split, as
    # MLPClassifier does (a stratified split's own error comes first)
    n_validation = math.ceil(validation_fraction * n_samples)
    if n_validation >= n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction!r} holds out all "
            f"{n_samples} samples for early stopping and leaves none to train on: "
            "lower validation_fraction."
        )
