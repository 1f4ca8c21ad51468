"""LossCurveDisplay: a look at training, following scikit-learn's Display API."""

from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching
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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import LossCurveDisplay, SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(solver="gd").fit(X, y)
    >>> disp = LossCurveDisplay.from_estimator(clf)
    >>> len(disp.line_.get_ydata()) == len(clf.loss_curve_)
    True
    """

    def __init__(self, *, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, loss_kw=None, validation_kw=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.
        loss_kw : dict, default=None
            Keyword arguments for the loss line's ``plot`` call.
        validation_kw : dict, default=None
            Keyword arguments for the validation line's ``plot`` call.

        Returns
        -------
        display : LossCurveDisplay
            ``self``, with ``ax_``, ``figure_`` and ``line_`` set.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        epochs = range(1, len(self.loss_curve) + 1)
        label = "training loss"
        if self.estimator_name:
            label = f"{self.estimator_name} {label}"
        (self.line_,) = ax.plot(epochs, self.loss_curve, **{"label": label, **(loss_kw or {})})
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
        self.validation_ax_ = self.validation_line_ = None
        handles = [self.line_]
        if self.validation_scores is not None:
            self.validation_ax_ = ax.twinx()
            style = {"label": "validation score", "color": "tab:orange",
                     **(validation_kw or {})}
            (self.validation_line_,) = self.validation_ax_.plot(
                range(1, len(self.validation_scores) + 1), self.validation_scores, **style
            )
            self.validation_ax_.set_ylabel("validation score")
            handles.append(self.validation_line_)
        ax.legend(handles=handles, loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, ax=None, **kwargs):
        """Plot the loss curve of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator with ``loss_curve_``
            Any skbackprop estimator (or ``MLPClassifier`` with a stochastic
            solver).
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            loss_curve=list(estimator.loss_curve_),
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, **kwargs)
