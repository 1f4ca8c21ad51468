"""Constructors derived from another's signature.

scikit-learn reads an estimator's parameters and their defaults from the
signature of its ``__init__`` (``__signature__`` where set), and wants
``__init__`` to store exactly those. Estimators whose constructors differ
from another's by a default, a parameter more or a parameter less get their
``__init__`` from here instead of a copy of its assignments.
"""

import functools
import inspect


def derived_init(init, *, drop=(), first=(), **defaults):
    """An ``__init__`` with ``init``'s signature, changed.

    Parameters
    ----------
    init : function
        The constructor whose signature is the starting point.
    drop : tuple of str, default=()
        Parameters to leave out.
    first : tuple of (name, default), default=()
        Positional-or-keyword parameters put before all others.
    **defaults
        New defaults of ``init``'s parameters.

    Returns
    -------
    __init__ : function
        Stores each parameter of the new signature under its name.
    """
    signature = inspect.signature(init)
    self_parameter, *parameters = signature.parameters.values()
    added = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value)
        for name, value in first
    ]
    kept = [
        p.replace(default=defaults.get(p.name, p.default))
        for p in parameters
        if p.name not in drop
    ]
    signature = signature.replace(parameters=[self_parameter, *added, *kept])

    @functools.wraps(init)
    def __init__(self, *args, **params):
        bound = signature.bind(self, *args, **params)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__
