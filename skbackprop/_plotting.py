"""LossCurveDisplay: a look at training, following scikit-learn's Display API."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "LossCurveDisplay needs matplotlib, an optional dependency of "
            "skbackprop: pip install 'skbackprop[plot]' (or pip install matplotlib)."
        ) from exc
    return plt


class LossCurveDisplay:
    """Training loss per epoch (and validation score) of a fitted estimator.

    Build it with :meth:`from_estimator`; the constructor only stores data.

    Parameters
    ----------
    loss_curve : list of float
        Loss after every epoch / L-BFGS iteration (``loss_curve_``).
    validation_scores : list of float, default=None
        Validation score per epoch (``validation_scores_``), drawn on a second
        y axis when given.
    estimator_name : str, default=None
        Used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The loss curve.
    validation_line_ : matplotlib Line2D or None
        The validation curve, if any.
    ax_ : matplotlib Axes
        Axes of the loss curve.
    validation_ax_ : matplotlib Axes or None
        Second y axis of the validation curve.
    figure_ : matplotlib Figure
        Figure holding the axes.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import LossCurveDisplay, SoftmaxClassifier
    >>> clf = SoftmaxClassifier().fit(*load_iris(return_X_y=True))
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # no window: draw off screen
    >>> disp = LossCurveDisplay.from_estimator(clf)
    >>> len(disp.line_.get_ydata()) == len(clf.loss_curve_)
    True
    """

    def __init__(self, *, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, loss_kw=None, validation_kw=None):
        """Draw the curves.

        Several displays may share one ``ax`` (e.g. one curve per solver); the
        legend then lists every labelled line on it.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.
        name : str, default=None
            Label of the curves in the legend; overrides ``estimator_name``.
        loss_kw : dict, default=None
            Keyword arguments for the loss line's ``plot`` call.
        validation_kw : dict, default=None
            Keyword arguments for the validation line's ``plot`` call.

        Returns
        -------
        display : LossCurveDisplay
            ``self``, with ``ax_``, ``figure_`` and ``line_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skbackprop import LossCurveDisplay
        >>> disp = LossCurveDisplay(loss_curve=[1.0, 0.5, 0.4]).plot(name="demo")
        >>> disp.line_.get_label()
        'demo training loss'
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = f"{name} " if name else ""
        epochs = np.arange(1, len(self.loss_curve) + 1)
        style = {"label": f"{prefix}training loss", **(loss_kw or {})}
        (self.line_,) = ax.plot(epochs, self.loss_curve, **style)
        ax.set_xlabel("iteration (epoch)")
        ax.set_ylabel("training loss")
        handles, _ = ax.get_legend_handles_labels()
        self.validation_ax_ = self.validation_line_ = None
        if self.validation_scores is not None:
            self.validation_ax_ = ax.twinx()
            style = {
                "label": f"{prefix}validation score",
                "color": "tab:orange",
                "linestyle": "--",
                **(validation_kw or {}),
            }
            (self.validation_line_,) = self.validation_ax_.plot(
                np.arange(1, len(self.validation_scores) + 1),
                self.validation_scores,
                **style,
            )
            self.validation_ax_.set_ylabel("validation score")
            handles.append(self.validation_line_)
            # keep the loss axes (and its legend) above the twin axes
            ax.set_zorder(self.validation_ax_.get_zorder() + 1)
            ax.patch.set_visible(False)
        # "best" would only avoid the loss line; mid-right is usually free
        # between a falling loss and a rising validation score
        loc = "best" if self.validation_ax_ is None else "center right"
        ax.legend(handles=handles, loc=loc)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, ax=None, *, name=None, **kwargs):
        """Plot the loss curve of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator with ``loss_curve_``, or a fitted Pipeline
            Any skbackprop estimator (or ``MLPClassifier`` with a stochastic
            solver). A :class:`~sklearn.pipeline.Pipeline` stands for its
            final step, e.g. ``make_pipeline(StandardScaler(), MLPBackprop())``.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.
        name : str, default=None
            Label in the legend; the class name of the estimator (of a
            Pipeline's final step) when None.
        **kwargs : dict
            ``loss_kw`` and ``validation_kw``, passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the curves drawn.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If ``estimator`` is not fitted.
        AttributeError
            If the fitted estimator, or the Pipeline's final step, keeps no
            ``loss_curve_`` (e.g. ``MLPClassifier(solver='lbfgs')``); the
            message names the step.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_iris
        >>> from skbackprop import LossCurveDisplay, MLPBackprop
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPBackprop((8,), solver="gd", learning_rate_init=0.1,
        ...                   early_stopping=True, max_iter=30, random_state=0)
        >>> disp = LossCurveDisplay.from_estimator(clf.fit(X, y), name="gd")
        >>> list(disp.validation_line_.get_ydata()) == clf.validation_scores_
        True
        """
        _pyplot()
        model, where = _final_estimator(estimator)
        check_is_fitted(model)
        if getattr(model, "loss_curve_", None) is None:
            raise AttributeError(f"{where} is fitted but has no loss_curve_ to plot.")
        validation_scores = getattr(model, "validation_scores_", None)
        display = cls(
            loss_curve=list(model.loss_curve_),
            validation_scores=(
                None if validation_scores is None else list(validation_scores)
            ),
            estimator_name=type(model).__name__,
        )
        return display.plot(ax=ax, name=name, **kwargs)


def _final_estimator(estimator):
    """The model whose curves are drawn, and how an error message names it.

    A Pipeline, nested ones included, stands for its final step.
    """
    steps = []
    while isinstance(estimator, Pipeline):
        step_name, estimator = estimator.steps[-1]
        steps.append(repr(step_name))
    if not steps:
        return estimator, type(estimator).__name__
    return estimator, (
        f"The Pipeline's final step {' -> '.join(steps)} ({type(estimator).__name__})"
    )
