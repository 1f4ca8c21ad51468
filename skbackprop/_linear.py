"""SoftmaxClassifier, LogisticRegressionGD and LinearRegressionGD: the networks
with no hidden layer."""

from numbers import Real

import numpy as np
from sklearn.utils._array_api import device, get_namespace
from sklearn.utils._param_validation import Interval, StrOptions

from ._classifier import ClassifierBackprop
from ._outputs import Identity, Logistic, Softmax
from ._regressor import RegressorBackprop
from ._signature import derived_init

_SHARED_PARAMETERS = """
    alpha : float, default=1e-4
        Strength of the L2 penalty :math:`\\frac{\\alpha}{2}\\lVert W\\rVert_F^2`
        added to the @LOSS@ (the intercept is not penalised).
        @ALPHA@
    fit_intercept : bool, default=True
        Whether to learn an intercept per output unit.
    solver : {'gd', 'sgd', 'adam', 'lbfgs'}, default=@SOLVER@
        ``'gd'``: full-batch gradient descent :math:`W := W - \\alpha_t \\nabla W`;
        ``'sgd'``: mini-batch SGD with momentum; ``'adam'``: Adam;
        ``'lbfgs'``: scipy's L-BFGS-B on the same loss and gradient.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of ``'gd'`` and ``'sgd'``, as in ``MLPClassifier``.
    learning_rate_init : float or 'auto', default='auto'
        Initial step size. ``'auto'`` (with a constant ``learning_rate``) runs
        ``'gd'``, ``'sgd'`` and ``'adam'`` on the weights of standardised
        features (``X`` itself is not changed) with a step from the
        smoothness of the problem there: ``'gd'`` searches a
        Barzilai-Borwein step from ``1 / L``, ``'sgd'`` takes ``1 / L`` of a
        mini-batch (in a ``fit`` of at most nine batches an epoch, of a
        classifier, ``L`` at the model after each epoch), ``'adam'`` 0.1,
        grown while the loss falls along one direction; the stochastic
        solvers end at the mean iterate of their last epoch and divide the
        step by 5 where only noise is left; all three stop once half the
        Newton decrement of the model (its gap to the optimum, estimated) is
        at most ``tol`` (see :ref:`auto-step`). With
        ``'invscaling'`` or ``'adaptive'``, ``'auto'`` is the fixed ``1 / L``
        of the raw features (``'adam'``: 0.01). A float is a fixed step.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    batch_size : int or 'auto', default='auto'
        Mini-batch size of ``'sgd'`` and ``'adam'``; ``'auto'`` is
        ``min(200, n_samples)``.
    max_iter : int, default=1000
        Epochs (stochastic solvers) or iterations (``'lbfgs'``) at most.
    tol : float, default=1e-4
        Improvement of the loss (or validation score) below which an epoch
        counts as no improvement; gradient tolerance for ``'lbfgs'``. With
        ``learning_rate_init='auto'``, ``fit`` of ``'gd'``, ``'sgd'`` and
        ``'adam'`` also stops once the objective is estimated to be within
        ``tol`` of its optimum.
    n_iter_no_change : int, default=10
        Epochs without improvement after which training stops.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data@SPLIT@ and stop when
        the validation @SCORE@ stops improving; the best parameters are
        restored. Not used by ``'lbfgs'`` or ``partial_fit``.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    momentum : float, default=0.9
        Momentum of ``'sgd'``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``'sgd'``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    shuffle : bool, default=True
        Shuffle the samples every epoch (stochastic solvers).
@CLASS_WEIGHT@    warm_start : bool, default=False
        Continue from the current parameters on the next ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling and the validation split.
    verbose : int, default=0
        Print one line per epoch/iteration with its loss.
"""

_SHARED_ATTRIBUTES = """
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, for DataFrame input with string
        column names.
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last call.
    loss_ : float
        Final training objective.
    loss_curve_ : list of float
        Objective after every epoch / L-BFGS iteration.
    best_loss_ : float or None
        Lowest training loss seen (None with early stopping).
    validation_scores_ : list of float or None
        Validation @SCORE@ per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation @SCORE@ with early stopping, else None.
    t_ : int
        Training samples seen by a stochastic solver.
"""


class _Linear:
    """A network with no hidden layer, for a classifier or regressor base:
    a convex objective started from zero, ``coef_`` and ``intercept_``."""

    _linear_constraints = {
        "fit_intercept": ["boolean"],
        "learning_rate_init": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
    }
    _parameter_names = ("coef_", "intercept_")
    # LogisticRegression's tight function tolerance: reach the optimum.
    _lbfgs_ftol = 64 * np.finfo(float).eps
    _scale_lbfgs = True

    def _fit_intercept(self):
        return self.fit_intercept

    def _init_theta(self, layout, rng, dtype):
        # the objective is convex: start from zero (no random draw)
        return np.zeros(layout.size, dtype=dtype)


class _LinearBackprop(_Linear, ClassifierBackprop):
    """The linear classifiers: one row of ``coef_`` per output unit."""

    _parameter_constraints = {
        **ClassifierBackprop._parameter_constraints,
        **_Linear._linear_constraints,
    }

    def __init__(
        self,
        *,
        alpha=1e-4,
        fit_intercept=True,
        solver="lbfgs",
        learning_rate="constant",
        learning_rate_init="auto",
        power_t=0.5,
        batch_size="auto",
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _get_layers(self):
        return [self.coef_.T], [self.intercept_]

    def _set_layers(self, coefs, intercepts):
        self.coef_ = np.ascontiguousarray(coefs[0].T)
        self.intercept_ = intercepts[0]

    def decision_function(self, X):
        """Confidence scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary problems: one score per sample, positive for ``classes_[1]``.
            Otherwise one score per class.
        """
        S = self._scores(X, "decision_function")
        return self._output_unit().decision(S)


class SoftmaxClassifier(_LinearBackprop):
    r"""Multinomial logistic (softmax) regression trained by backpropagation.

    Scores :math:`S = XW^\top + b`, probabilities :math:`P = \mathrm{softmax}(S)`,
    objective the weighted mean cross-entropy plus
    :math:`\frac{\alpha}{2}\lVert W\rVert_F^2`, gradient
    :math:`\partial L/\partial W = (w \odot (P - Y))^\top X`. One row of
    ``coef_`` per class, also for binary problems (the two rows settle at
    :math:`\pm w/2`).

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        Weights, one row per class.
    {attributes}

    See Also
    --------
    LogisticRegressionGD : Sigmoid units (binary, or one-vs-rest).
    MLPBackprop : Hidden layers on the same core.
    sklearn.linear_model.LogisticRegression : Same optimum with
        ``alpha = 1 / (C * n_samples)`` (multiclass; ``C=2*C`` for binary).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(alpha=1e-3).fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> float(clf.score(X, y)) > 0.95
    True
    """

    def _output(self, n_classes):
        return Softmax(n_classes)


class LogisticRegressionGD(_LinearBackprop):
    r"""Logistic regression trained by gradient descent on :math:`p - y`.

    Binary problems: one sigmoid unit, :math:`p = \sigma(Xw + b)`, the
    two-class softmax with the negative-class score fixed at 0. Multiclass
    problems: one-vs-rest, :math:`k` sigmoid units trained together in one
    vectorised pass; the objective is the sum of the units' binary objectives.
    A 0/1 indicator ``y`` (multilabel) gets one unit per label, each the
    binary model of its label; ``predict`` then returns the indicator matrix.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights: one row for binary problems, one per class otherwise.
    {attributes}

    See Also
    --------
    SoftmaxClassifier : The multinomial model; with twice this ``alpha`` it
        reaches the same probabilities on binary data.
    sklearn.linear_model.LogisticRegression : Same optimum on binary data with
        ``C = 1 / (alpha * n_samples)``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbackprop import LogisticRegressionGD
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), LogisticRegressionGD()).fit(X, y)
    >>> float(clf.score(X, y)) > 0.95
    True
    """

    __init__ = derived_init(_LinearBackprop.__init__, solver="gd")

    _multilabel = True

    def _output(self, n_classes):
        return Logistic(n_classes)


_CLASSIFIER_DOC = {
    "@LOSS@": "weighted mean cross-entropy",
    "@ALPHA@": "``alpha = 1 / (C * n_samples)`` gives the objective of\n"
    "        ``LogisticRegression(C=C)``.",
    "@SPLIT@": " (stratified)",
    "@SCORE@": "accuracy",
    "@CLASS_WEIGHT@": "    class_weight : dict, 'balanced' or None, default=None\n"
    "        Weights per class, multiplied into ``sample_weight``.\n",
}
_CLASSIFIER_ATTRIBUTES = """
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    intercept_ : ndarray of shape (@ROWS@,)
        Intercepts (zeros when ``fit_intercept=False``).
"""


def fill_docstring(cls, solver, rows, words):
    """Write the shared parameters and attributes into ``cls``'s docstring,
    with the words of ``words`` for its kind of model."""
    parameters = _SHARED_PARAMETERS.strip().replace("@SOLVER@", solver)
    attributes = _SHARED_ATTRIBUTES.strip()
    if "@CLASS_WEIGHT@" in words:
        attributes = _CLASSIFIER_ATTRIBUTES.strip() + "\n    " + attributes
    for key, value in words.items():
        parameters = parameters.replace(key, value)
        attributes = attributes.replace(key, value)
    cls.__doc__ = cls.__doc__.replace("{parameters}", parameters).replace(
        "{attributes}", attributes.replace("@ROWS@", rows)
    )


fill_docstring(SoftmaxClassifier, "'lbfgs'", "n_classes", _CLASSIFIER_DOC)
fill_docstring(LogisticRegressionGD, "'gd'", "1,) or (n_classes", _CLASSIFIER_DOC)


class LinearRegressionGD(_Linear, RegressorBackprop):
    r"""Ridge regression trained by gradient descent on :math:`\hat Y - Y`.

    Identity output units, one per target: predictions :math:`\hat Y = XW^\top + b`,
    objective the weighted half mean squared error plus
    :math:`\frac{\alpha}{2}\lVert W\rVert_F^2` (the intercept is not
    penalised), gradient :math:`\partial L/\partial W = (w \odot (\hat Y -
    Y))^\top X` with weights :math:`w` normalised to sum to one:

    .. math::

        J(W, b) = \frac{1}{2 \sum_i s_i} \sum_i s_i \lVert \hat y_i - y_i
        \rVert^2 + \frac{\alpha}{2}\lVert W\rVert_F^2 .

    Multiplied by :math:`2 \sum_i s_i`, this is the objective of
    ``Ridge(alpha=alpha * sum(sample_weight))`` fitted with the same sample
    weights: with unit weights, ``Ridge(alpha=alpha * n_samples)``. Both reach
    the same optimum; ``coef_``, ``intercept_`` and ``predict`` have Ridge's
    shapes for 1-D ``y``, 2-D ``y`` and ``y`` of shape (n_samples, 1). With
    several targets the objective sums the targets' losses.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights; 1-D for a single target (1-D ``y`` or ``y`` of shape
        (n_samples, 1)), as Ridge's.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercepts: a float for 1-D ``y``, and 0.0 when
        ``fit_intercept=False``, as Ridge's.
    {attributes}

    See Also
    --------
    sklearn.linear_model.Ridge : Same optimum with
        ``alpha_ridge = alpha * n_samples`` (``alpha * sum(sample_weight)``).
    MLPBackpropRegressor : Hidden layers on the same core.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skbackprop import LinearRegressionGD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=100)
    >>> reg = LinearRegressionGD(alpha=1e-3, solver="lbfgs", tol=1e-10).fit(X, y)
    >>> ridge = Ridge(alpha=1e-3 * len(y)).fit(X, y)  # alpha * n_samples
    >>> bool(np.allclose(reg.coef_, ridge.coef_, rtol=1e-6))
    True
    """

    _parameter_constraints = {
        **RegressorBackprop._parameter_constraints,
        **_Linear._linear_constraints,
    }

    __init__ = derived_init(
        _LinearBackprop.__init__, drop=("class_weight",), solver="gd"
    )
    # only the gradient tolerance stops L-BFGS: with correlated features a
    # function tolerance stops before the coefficients settle to 1e-6
    _lbfgs_ftol = 0.0

    def _output(self, n_targets):
        return Identity(n_targets)

    def _get_layers(self):
        # coef_ and intercept_ in Ridge's shapes, in the fit's namespace
        xp, _ = get_namespace(self.coef_)
        W = xp.reshape(self.coef_, (-1, self.n_features_in_)).T
        b = self.intercept_
        if getattr(b, "ndim", 0) == 0:  # a float: one target, or no intercept
            b = xp.full(W.shape[1:], float(b), dtype=W.dtype, device=device(W))
        return [W], [b]

    def _set_layers(self, coefs, intercepts):
        coef = np.ascontiguousarray(coefs[0].T)
        single = self._target_shape in ((), (1,))
        self.coef_ = coef[0] if single else coef
        if not self.fit_intercept:
            self.intercept_ = 0.0
        elif self._target_shape == ():
            self.intercept_ = intercepts[0][0]
        else:
            self.intercept_ = intercepts[0]


_REGRESSOR_DOC = {
    "@LOSS@": "weighted half mean squared error",
    "@ALPHA@": "``alpha = alpha_ridge / n_samples`` gives the objective of\n"
    "        ``Ridge(alpha=alpha_ridge)``.",
    "@SPLIT@": "",
    "@SCORE@": "R²",
    "@CLASS_WEIGHT@": "",
}
fill_docstring(LinearRegressionGD, "'gd'", "", _REGRESSOR_DOC)
