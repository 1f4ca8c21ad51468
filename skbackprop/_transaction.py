"""A call to ``fit`` or ``partial_fit`` completes, or changes nothing.

The rule, stated once (the reliability guide states it for users):

* A call either completes, or leaves the estimator exactly as it was before
  the call (every attribute, the optimizer state and the generator included)
  and raises. A ``numpy.random.RandomState`` passed as ``random_state`` is
  restored too: a failed fit does not consume it.
* The one exception is Ctrl-C inside the training loop of ``fit`` once at
  least one epoch of *this call* is complete: the fit warns
  ``UserWarning("Training interrupted by user.")`` and keeps the model of the
  last complete epoch, equal to a fit with ``max_iter=k``. An epoch (an L-BFGS
  iteration) is complete once the driver has recorded it and its ``on_epoch``
  hook (the callbacks' end of the epoch's task) has returned. Ctrl-C before
  that, outside the loop (validation, storing the fitted attributes, the end
  of the fit's callback task, ``teardown``), or anywhere in ``partial_fit``,
  restores and re-raises.
* A ``KeyboardInterrupt`` raised by a callback is a Ctrl-C. Any other
  exception of a callback, in any hook, ``teardown`` included, restores and
  re-raises.
* A second ``fit`` or ``partial_fit`` on an object whose fit is running (from
  another thread, or from a callback of that fit) raises ``RuntimeError`` in
  the second caller and leaves the first undisturbed.

How the base uses it
--------------------
:func:`fit_transaction` must be the *outermost* layer of ``fit`` and
``partial_fit``, outside scikit-learn's ``_fit_context`` (whose callback
context calls ``teardown`` on exit), so that a failing ``teardown`` is undone
too and a refused second caller never reaches ``_fit_context`` (which would
tear down the first caller's callbacks). ``fit`` and every ``partial_fit``
(a subclass's too) call one method that opens it::

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        continuing = (incremental or self.warm_start) and hasattr(self, "classes_")
        with fit_transaction(
            self, self.random_state, copy_state=TRAINING_STATE if continuing else ()
        ):
            return self._fit_in_context(X, y, sample_weight, ...)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_in_context(self, X, y, sample_weight, ...): ...

Inside, the base trains on the stored state itself (``self._optimizer``,
``self._record``, ``self._rng``): no copies of its own.

``copy_state`` names the private attributes the call may change *in place*
(default :data:`TRAINING_STATE`); they are deep-copied before the call. A
fit that replaces them (not ``warm_start``, not ``partial_fit``) may pass
``copy_state=()`` and save that copy.

What the snapshot holds, and why it is enough:

* the attribute dictionary, shallowly: a failed call's new or replaced
  attributes are dropped, removed ones come back. Fitted arrays are
  referenced, not copied: the base *replaces* them (``coefs_``, ``coef_``,
  ...) and never writes into them, so the references still hold the old
  values. Lists and dicts among the attributes are copied shallowly (a new
  container, the same items), so an in-place ``append`` is undone as well;
* the attributes named in ``copy_state``, deep-copied (the optimizer's
  moments, the training record): the cost is one copy of that state per call;
* the state of every ``RandomState`` / ``Generator`` found among the
  attributes, ``random_state`` included: restored *in place* with
  ``set_state``, so that a generator shared with the caller (the user's
  ``random_state``, or ``_rng`` when it is that same object) keeps its
  identity and returns to where it was.

How a driver uses :class:`EpochCheckpoint`
------------------------------------------
::

    checkpoint = EpochCheckpoint(incremental)
    try:
        for ...:                       # epochs, or L-BFGS iterations
            ...                        # the epoch, record.end_epoch(...)
            if on_epoch is not None and on_epoch(theta, record):
                return ...             # stopped: the epoch is complete anyway
            checkpoint.commit(theta, record, optimizer, rng)
    except KeyboardInterrupt:
        checkpoint.rollback(theta, record, optimizer, rng)  # re-raises or warns
        return ...                     # fit goes on with the restored state

``rollback`` re-raises in ``partial_fit`` and before the first ``commit``
(the transaction then restores the estimator); otherwise it puts the objects
back, in place, to the last commit and warns. Arrays are restored into the
same arrays, other objects attribute by attribute (the attributes saved by the
commit), generators with ``set_state``. L-BFGS has no optimizer or generator
of its own: ``commit(theta, record)`` in its callback, after ``on_epoch``.

The memory a commit holds, reused from epoch to epoch: one copy of ``theta``
and of each array of the objects passed (momentum's velocity; Adam's two
moments), except the attributes a class lists in ``checkpoint_scratch``
(workspaces overwritten before use, such as Adam's work array).
``partial_fit`` holds none. A searched full-batch step that can put ``theta``
back itself (``BarzilaiBorwein.undo_step``, whose state a call restarts
anyway) needs no copy of ``theta``; it ends its step inside the commit, so
that ``theta`` and the saved record always describe the same epoch::

    checkpoint.commit(record, rng, on_saved=optimizer.end_step)
    ...
    except KeyboardInterrupt:
        if checkpoint.rollback(record, rng):   # re-raises before any commit
            optimizer.undo_step(theta)         # back to the committed point
"""

import contextlib
import copy
import threading
import warnings

import numpy as np

#: Private attributes a call may change in place: deep-copied before the call.
TRAINING_STATE = ("_optimizer", "_record", "_rng")

#: ``id`` of every estimator whose fit or partial_fit is running. Keyed by id,
#: not by the object: estimators need not be hashable, and a running fit holds
#: a reference to its estimator, so the id cannot be reused meanwhile.
_RUNNING = set()
_RUNNING_LOCK = threading.Lock()


def _is_generator(value):
    return isinstance(value, (np.random.RandomState, np.random.Generator))


def _generator_state(rng):
    if isinstance(rng, np.random.RandomState):
        return rng.get_state(legacy=False)
    return copy.deepcopy(rng.bit_generator.state)


def _set_generator_state(rng, state):
    if isinstance(rng, np.random.RandomState):
        rng.set_state(state)
    else:
        rng.bit_generator.state = state


class _Snapshot:
    """The estimator's state before a call, and how to put it back."""

    def __init__(self, estimator, random_state, copy_state):
        attributes = vars(estimator)
        self._estimator = estimator
        self._generators = {
            id(value): (value, _generator_state(value))
            for value in (random_state, *attributes.values())
            if _is_generator(value)
        }
        # the generators are memoised as themselves: restored in place, never copied
        memo = {key: value for key, (value, _) in self._generators.items()}
        self._attributes = {}
        for name, value in attributes.items():
            if name in copy_state:
                value = copy.deepcopy(value, memo)
            elif isinstance(value, (list, dict)):
                value = copy.copy(value)
            self._attributes[name] = value

    def restore(self):
        attributes = vars(self._estimator)
        attributes.clear()
        attributes.update(self._attributes)
        for rng, state in self._generators.values():
            _set_generator_state(rng, state)


def _concurrent_fit_error(estimator):
    return RuntimeError(
        f"This {type(estimator).__name__} object is already being fitted by another "
        "call to fit or partial_fit (another thread, or a callback of that fit). "
        "Fitting one estimator object from two calls at once would mix their "
        "models: fit a copy instead (sklearn.base.clone(estimator)), one per thread."
    )


@contextlib.contextmanager
def fit_transaction(estimator, random_state, *, copy_state=TRAINING_STATE):
    """Run one ``fit`` / ``partial_fit`` call as a transaction.

    Refuses a second concurrent call on the same object, snapshots the
    estimator before the call, and on any exception (``KeyboardInterrupt``
    included) restores the snapshot exactly and re-raises.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the call fits.
    random_state : None, int, RandomState or Generator
        The estimator's ``random_state`` parameter; a generator's state is
        restored if the call fails.
    copy_state : tuple of str, default=TRAINING_STATE
        Private attributes the call may change in place, deep-copied.

    Yields
    ------
    None

    Raises
    ------
    RuntimeError
        If a fit or partial_fit of ``estimator`` is already running.
    """
    key = id(estimator)
    with _RUNNING_LOCK:
        if key in _RUNNING:
            raise _concurrent_fit_error(estimator)
        _RUNNING.add(key)
    try:
        snapshot = _Snapshot(estimator, random_state, copy_state)
        try:
            yield
        except BaseException:
            snapshot.restore()
            raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(key)


def _scratch(value):
    """Attributes of ``value`` that are workspace, not state: never copied.

    A class lists them in ``checkpoint_scratch`` (e.g. an optimizer's work
    array, overwritten before every use).
    """
    return getattr(type(value), "checkpoint_scratch", ())


def _is_array(value):
    """A NumPy array, or an array of another Array API library (a device's)."""
    return isinstance(value, np.ndarray) or hasattr(value, "__array_namespace__")


def _copy_into(saved, value):
    """``value`` copied, reusing the arrays of ``saved`` (an earlier copy)."""
    if _is_array(value) and not isinstance(value, np.ndarray):
        if _is_array(saved) and saved.shape == value.shape:
            saved[...] = value
            return saved
        return value.__array_namespace__().asarray(value, copy=True)
    if isinstance(value, np.ndarray):
        if (
            isinstance(saved, np.ndarray)
            and saved.shape == value.shape
            and saved.dtype == value.dtype
        ):
            np.copyto(saved, value)
            return saved
        return value.copy()
    if _is_generator(value):
        return _generator_state(value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        old = saved if isinstance(saved, dict) else {}
        skip = _scratch(value)
        return {
            name: _copy_into(old.get(name), item)
            for name, item in vars(value).items()
            if name not in skip
        }
    return copy.deepcopy(value)


def _put_back(target, saved):
    """Restore ``target`` in place from ``_copy_into``'s copy."""
    if _is_array(target) and _is_array(saved) and saved.shape == target.shape:
        target[...] = saved
        return target
    if _is_generator(target):
        _set_generator_state(target, saved)
        return target
    if isinstance(saved, dict) and hasattr(target, "__dict__"):
        attributes = vars(target)
        for name, item in saved.items():
            attributes[name] = _put_back(attributes.get(name), item)
        return target
    if isinstance(saved, np.ndarray):
        return saved.copy()
    return copy.deepcopy(saved)


class EpochCheckpoint:
    """The training state at the end of the last complete epoch of a fit.

    Implements the Ctrl-C rule of the module docstring for a driver.

    Parameters
    ----------
    incremental : bool
        True in ``partial_fit``, where an interrupt always re-raises (and
        nothing is ever saved).
    """

    def __init__(self, incremental):
        self.incremental = incremental
        self._saved = None
        # True while a commit copies: an interrupt then finds the saved copy
        # half-written, and the live state is the complete epoch being saved
        self._committing = False

    def commit(self, *state, on_saved=None):
        """Save ``state`` (parameters, record, optimizer, generator...) as the
        last complete epoch's; arrays are copied into the previous commit's.

        ``on_saved``, if given, is called once the copies are made, as part of
        the commit: an interrupt before it returns keeps the live state.
        """
        if self.incremental:
            return
        self._committing = True
        previous = self._saved or (None,) * len(state)
        self._saved = tuple(
            _copy_into(old, value) for old, value in zip(previous, state, strict=True)
        )
        if on_saved is not None:
            on_saved()
        self._committing = False

    def rollback(self, *state):
        """Handle a ``KeyboardInterrupt`` caught by the driver.

        Call it inside ``except KeyboardInterrupt:`` with the same objects as
        :meth:`commit`. Re-raises the interrupt in ``partial_fit`` or before
        any commit; otherwise restores ``state`` in place to the last commit
        (or keeps it, for an interrupt during a commit, which comes after a
        complete epoch) and warns ``UserWarning("Training interrupted by
        user.")``.

        Returns
        -------
        restored : bool
            True if ``state`` was put back to the last commit, False if the
            live state was kept.
        """
        if self.incremental or (self._saved is None and not self._committing):
            raise
        restored = not self._committing
        if restored:
            for target, saved in zip(state, self._saved, strict=True):
                _put_back(target, saved)
        warnings.warn("Training interrupted by user.", UserWarning, stacklevel=3)
        return restored
