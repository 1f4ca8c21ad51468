"""scikit-learn's callback API (``sklearn.callback``), for every estimator and solver.

All the callback plumbing of skbackprop is here. With scikit-learn >= 1.9 the
estimators mix in ``CallbackSupportMixin`` (so ``set_callbacks`` exists and
meta-estimators propagate their callbacks to them); older versions give them
no mixin and no callback code runs.

A ``fit`` (or ``partial_fit``) call is one task, named ``'fit'``, whose
subtasks are its epochs (``'gd'``, ``'sgd'``, ``'adam'``: task name
``'epoch'``) or its L-BFGS iterations (``'iteration'``). Their number is known
in advance: at most ``max_iter`` (one for ``partial_fit``). The training loop
knows nothing of callbacks: it calls ``on_epoch(theta, record)`` after every
epoch, and :class:`FitTask` turns that call into the end of the epoch's task
(a true return of any callback stops training) and the beginning of the next.
As in scikit-learn's LogisticRegression, the task begun for an epoch that
never runs (training converged or stopped early) is ended empty, so every
begun task is ended.
"""

import copy

from ._array_api import like, move_fitted, to_host


def callback_bases():
    """``(CallbackSupportMixin,)`` with scikit-learn >= 1.9, else ``()``."""
    try:
        from sklearn.callback import CallbackSupportMixin
    except ImportError:
        return ()
    return (CallbackSupportMixin,)


def fit_task(estimator, X, y, sample_weight, *, max_epochs):
    """Begin the callback task of a fit; a :class:`FitTask`.

    Without callbacks set on the estimator, a task that does nothing.
    ``X``, ``y`` and ``sample_weight`` are the data as the caller gave them:
    callbacks (e.g. ``ScoringMonitor``) score the model at each epoch on them.
    """
    if not getattr(estimator, "_skl_callbacks", None):
        return _NO_CALLBACKS
    return FitTask(estimator, X, y, sample_weight, max_epochs)


class FitTask:
    """The callback context of one fit: the fit task and one subtask per epoch."""

    def __init__(self, estimator, X, y, sample_weight, max_epochs):
        self._estimator = estimator
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._data = {"X": X, "y": y, "metadata": metadata}
        self._max_epochs = max_epochs
        self._epoch_name = "iteration" if estimator.solver == "lbfgs" else "epoch"
        self._context = estimator._init_callback_context(max_subtasks=max_epochs)
        self._context.call_on_fit_task_begin(estimator=estimator, **self._data)
        self._layout = self._epoch = None
        self._n_epochs = 0

    def epoch_hook(self, layout, theta):
        """Begin the first epoch at ``theta``; the ``on_epoch`` hook of the loop."""
        self._layout = layout
        self._begin_epoch(theta)
        return self._on_epoch

    def _begin_epoch(self, theta):
        self._epoch = self._context.subcontext(task_name=self._epoch_name)
        self._n_epochs += 1
        self._epoch.call_on_fit_task_begin(
            estimator=self._estimator,
            **self._data,
            reconstruction_attributes=lambda: self._fitted_attributes(theta),
        )

    def _on_epoch(self, theta, record):
        """End the epoch that just ran; begin the next unless training stops."""
        epoch, self._epoch = self._epoch, None  # ended once, even if a hook raises
        stop = epoch.call_on_fit_task_end(
            estimator=self._estimator,
            **self._data,
            reconstruction_attributes=lambda: self._fitted_attributes(theta),
        )
        if not stop and self._n_epochs < self._max_epochs:
            self._begin_epoch(theta)
        return stop

    def _fitted_attributes(self, theta):
        """The fitted attributes the model would have with parameters ``theta``.

        Evaluated only when a callback asks for a ``fitted_estimator``.
        """
        fitted = copy.copy(self._estimator)
        # built on the host, then put in theta's namespace and device
        fitted._set_layers(*self._layout.unpack(to_host(theta)))
        move_fitted(fitted, lambda a: like(a, theta))
        return {
            name: value
            for name, value in vars(fitted).items()
            if name.endswith("_") and not name.startswith("_")
        }

    def end(self):
        """End the fit task; the estimator holds its fitted attributes."""
        if self._epoch is not None:
            # begun for an epoch that did not run: an empty task
            self._epoch.call_on_fit_task_end(estimator=self._estimator)
        self._context.call_on_fit_task_end(
            estimator=self._estimator, **self._data, reconstruction_attributes={}
        )


class _NoCallbacks:
    """The fit task of an estimator without callbacks: no hook, nothing to end."""

    def epoch_hook(self, layout, theta):
        return None

    def end(self):
        pass


_NO_CALLBACKS = _NoCallbacks()
