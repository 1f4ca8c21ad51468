"""MLPBackprop and MLPBackpropRegressor: drop-ins for scikit-learn's
MLPClassifier and MLPRegressor on the shared core."""

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import _not_lbfgs
from ._classifier import ClassifierBackprop
from ._engine import NumPyEngine
from ._network import ACTIVATIONS
from ._outputs import Exp, Identity, Logistic, Softmax
from ._regressor import RegressorBackprop
from ._signature import derived_init
from ._targets import class_indices


class _MLP:
    """The network of scikit-learn's MLPs, for a classifier or regressor
    base: hidden layers checked as MLPClassifier checks them, its initial
    weights, its penalty convention and its fitted attributes."""

    _mlp_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        # np.inf: stop only at max_iter, as MLPClassifier allows
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    }
    _alpha_per_weight_sum = True

    @property
    def _max_fun(self):
        return self.max_fun

    def _hidden_layer_sizes(self):
        """The hidden layer sizes as a list of ints, checked as MLPClassifier does.

        A non-positive size is a ValueError with MLPClassifier's message; an
        entry that is not an integer (``5.9``, ``"5"``, ``True``, ``None``) is a
        TypeError, where MLPClassifier fails with one too.
        """
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        # MLPClassifier compares all entries with 0 first, so a numeric list
        # with a non-positive entry is a ValueError even if others are floats
        if all(isinstance(s, Real) for s in sizes) and any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        wrong = [s for s in sizes if not isinstance(s, Integral) or isinstance(s, bool)]
        if wrong:
            raise TypeError(
                "hidden_layer_sizes must hold integers (units per hidden layer), "
                f"got {self.hidden_layer_sizes!r}: {wrong[0]!r} is not an integer."
            )
        return [int(s) for s in sizes]

    def _activation(self):
        return self.activation

    def _init_theta(self, layout, rng, dtype):
        # Glorot-uniform, drawn in MLPClassifier's order (each layer's weights,
        # then its biases), so a seed gives the same start in both.
        factor = 2.0 if self.activation == "logistic" else 6.0
        theta = np.empty(layout.size, dtype=dtype)
        for W, b in layout.views(theta):
            fan_in, fan_out = W.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            W[...] = rng.uniform(-bound, bound, (fan_in, fan_out))
            b[...] = rng.uniform(-bound, bound, fan_out)
        return theta

    def _get_layers(self):
        return self.coefs_, self.intercepts_

    def _set_layers(self, coefs, intercepts):
        self.coefs_ = coefs
        self.intercepts_ = intercepts
        self.n_layers_ = len(coefs) + 1
        self.n_outputs_ = coefs[-1].shape[1]
        self.out_activation_ = self._output_unit().name

    _partial_fit_refuses_early_stopping = True


class MLPBackprop(_MLP, ClassifierBackprop):
    r"""Multi-layer perceptron classifier trained by plain backpropagation.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: the same
    constructor (names, order, defaults), parameters and fitted attributes,
    plus ``class_weight`` and the full-batch solver ``'gd'``. Forward pass
    :math:`A_l = f(A_{l-1}W_l + b_l)`, output softmax (:math:`\ge 3` classes)
    or one logistic unit (binary), output gradient :math:`P - Y`, backprop
    :math:`\partial L/\partial Z_{l-1} = (\partial L/\partial Z_l\, W_l^\top)
    \odot f'(Z_{l-1})` and the update :math:`W := W - \eta\, \partial L/\partial W`
    (or the chosen solver's update on the same gradient).

    The objective is the weighted mean cross-entropy plus
    :math:`\frac{\alpha}{2 \sum_i w_i}\sum_l \lVert W_l\rVert_F^2`, as in
    MLPClassifier.

    Parameters
    ----------
    {parameters}
    class_weight : dict, 'balanced' or None, default=None
        Weights per class, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {attributes}

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.
    SoftmaxClassifier : The network without hidden layers.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skbackprop import MLPBackprop
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPBackprop(hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                   random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> [c.shape for c in clf.coefs_]
    [(64, 32), (32, 10)]
    >>> float(clf.score(X / 16, y)) > 0.95
    True
    """

    _parameter_constraints = {
        **ClassifierBackprop._parameter_constraints,
        **_MLP._mlp_constraints,
    }
    _multilabel = True
    _single_class = True

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.class_weight = class_weight

    def _output(self, n_classes):
        return Softmax(n_classes) if n_classes > 2 else Logistic(n_classes)

    @available_if(_not_lbfgs)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Not available for ``solver='lbfgs'``; raises ValueError with
        ``early_stopping=True``, as MLPClassifier does.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels, or a 0/1 indicator matrix (multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _validation_split(self, indices, data, output, rng):
        # MLPClassifier's split: stratified by the binarized targets only with
        # a single output unit, so the same seed holds out the same samples
        stratify = data.T.astype(bool) if output.n_outputs == 1 else None
        return train_test_split(
            indices,
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )

    def _loss_grad_lbfgs(self, packed_coef_inter, X, y, sample_weight, *workspace):
        """MLPClassifier's private L-BFGS objective, for scikit-learn's test
        suite: loss and gradient at packed parameters (every layer's weights,
        then every bias) for binarized targets ``y``."""
        objective = self._objective(X, NumPyEngine())
        y = np.asarray(y).reshape(X.shape[0], -1)
        if objective.output.name == "softmax":
            T = class_indices(np.arange(y.shape[1]), y.argmax(axis=1))
        else:
            T = y.astype(X.dtype)
        theta = np.asarray(packed_coef_inter, dtype=X.dtype)
        grad = np.empty_like(theta)
        loss = objective(theta, X, T, sample_weight, grad)
        return loss, grad


class MLPBackpropRegressor(_MLP, RegressorBackprop):
    r"""Multi-layer perceptron regressor trained by plain backpropagation.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: the same
    constructor (names, order, defaults), parameters and fitted attributes,
    plus the full-batch solver ``'gd'``; trained on the same core as
    :class:`MLPBackprop`. Forward pass :math:`A_l = f(A_{l-1}W_l + b_l)`, an
    identity output unit per target (``loss='squared_error'``) or an exp unit
    (``loss='poisson'``, predictions :math:`e^{Z}`), output gradient
    :math:`\hat Y - Y` (resp. :math:`e^{Z} - Y`), then the same backward pass
    and updates as the classifier.

    The objective is the weighted mean of each sample's loss, summed over the
    targets (half squared error :math:`\frac12\lVert \hat y - y\rVert^2`,
    or half Poisson deviance), plus
    :math:`\frac{\alpha}{2 \sum_i w_i}\sum_l \lVert W_l\rVert_F^2`, as in
    MLPRegressor. With several targets, MLPRegressor trains on this same
    gradient but reports, for the squared error, the loss averaged over the
    targets in ``loss_`` and ``loss_curve_``; ours reports the objective it
    trains (the sum).

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        ``'squared_error'``: identity output units with half squared error;
        ``'poisson'``: exp output units with half Poisson deviance (``y``
        must be non-negative).
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.
    LinearRegressionGD : Ridge regression, the network without hidden layers
        and with ``alpha`` not divided by the weight sum.
    sklearn.linear_model.PoissonRegressor : The optimum of
        ``loss='poisson'`` with ``hidden_layer_sizes=()`` and ``alpha=0``.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skbackprop import MLPBackpropRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0,
    ...                        random_state=0)
    >>> reg = MLPBackpropRegressor(hidden_layer_sizes=(16,), solver="lbfgs",
    ...                            max_iter=500, random_state=0).fit(X, y)
    >>> [c.shape for c in reg.coefs_]
    [(5, 16), (16, 1)]
    >>> float(reg.score(X, y)) > 0.99
    True
    """

    _parameter_constraints = {
        **RegressorBackprop._parameter_constraints,
        **_MLP._mlp_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _ravel_column_y = True

    __init__ = derived_init(
        MLPBackprop.__init__,
        drop=("class_weight",),
        first=(("loss", "squared_error"),),
    )

    def _output(self, n_targets):
        return Exp(n_targets) if self.loss == "poisson" else Identity(n_targets)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags


_PARAMETERS = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Units of each hidden layer; ``()`` gives a linear model.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Hidden-layer activation.
    solver : {'lbfgs', 'sgd', 'adam', 'gd'}, default='adam'
        ``'gd'`` is full-batch gradient descent: pick a larger
        ``learning_rate_init`` than Adam's 0.001,
        @GD_STEP@.
    alpha : float, default=1e-4
        L2 penalty strength.
    batch_size : int or 'auto', default='auto'
        Mini-batch size of ``'sgd'`` and ``'adam'``: ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of ``'sgd'`` and ``'gd'``.
    learning_rate_init : float, default=0.001
        Initial step size (not used by ``'lbfgs'``).
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (``'lbfgs'``) at most.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (drawn as @PEER@ draws them),
        shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) per epoch.
    verbose : bool, default=False
        Print the loss of every epoch/iteration.
    warm_start : bool, default=False
        Continue from the current weights on the next ``fit``.
    momentum : float, default=0.9
        Momentum of ``'sgd'``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``'sgd'``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation @SCORE@ stops improving; the best weights are restored.
        The split is @PEER@'s (@SPLIT@), so a seed holds out the
        same samples. Used by ``fit`` with ``'sgd'``, ``'adam'`` and ``'gd'``;
        ``partial_fit`` raises ValueError with it.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement after which training stops; ``np.inf``
        never stops early.
    max_fun : int, default=15000
        Loss evaluations at most (``'lbfgs'``)."""

_ATTRIBUTES = """
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape (fan_in, fan_out), as in @PEER@.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` has shape (fan_out,).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for DataFrame input with string column names.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        @OUTPUTS@
    out_activation_ : str
        @OUT_ACTIVATION@
    loss_ : float
        Final training loss.
    best_loss_ : float or None
        Lowest training loss (None with early stopping).
    loss_curve_ : list of float
        Loss after every epoch / L-BFGS iteration.
    validation_scores_ : list of float or None
        The @SCORE@ on the held-out validation set after each epoch, when
        ``early_stopping=True``; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_`` (the model kept), or None.
    t_ : int
        Training samples seen by a stochastic solver.
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last call."""


def _fill_docstring(cls, words):
    """Write the shared parameters and attributes into ``cls``'s docstring,
    with the words of ``words`` for its peer."""
    parameters, attributes = _PARAMETERS.strip(), _ATTRIBUTES.strip()
    for key, value in words.items():
        parameters = parameters.replace(key, value)
        attributes = attributes.replace(key, value)
    cls.__doc__ = cls.__doc__.replace("{parameters}", parameters).replace(
        "{attributes}", attributes
    )


_fill_docstring(
    MLPBackprop,
    {
        "@PEER@": "MLPClassifier",
        "@SCORE@": "accuracy",
        "@SPLIT@": "stratified only for binary targets",
        "@GD_STEP@": "e.g. 0.1 on standardised data",
        "@OUTPUTS@": "Output units: 1 for binary problems, else the number of classes.",
        "@OUT_ACTIVATION@": "``'logistic'`` or ``'softmax'``.",
    },
)
_fill_docstring(
    MLPBackpropRegressor,
    {
        "@PEER@": "MLPRegressor",
        "@SCORE@": "R²",
        "@SPLIT@": "at random",
        "@GD_STEP@": "e.g. 0.003 where the targets are not standardised",
        "@OUTPUTS@": "Number of targets.",
        "@OUT_ACTIVATION@": "``'identity'`` or ``'exp'`` (``loss='poisson'``).",
    },
)
