"""skbackprop: scikit-learn classifiers and regressors trained by plain,
visible backpropagation.

The five estimators share one core: a stack of affine layers (none for the
linear models) with an output unit paired with its canonical loss (softmax or
logistic with cross-entropy, identity with half squared error, exp with half
Poisson deviance), trained on the gradient *prediction - target* with
respect to the output unit's input.
"""

from . import gradients
from ._gradcheck import GradientCheckReport, check_gradients
from ._linear import LinearRegressionGD, LogisticRegressionGD, SoftmaxClassifier
from ._mlp import MLPBackprop, MLPBackpropRegressor
from ._plotting import LossCurveDisplay

__version__ = "0.1.0"

__all__ = [
    "SoftmaxClassifier",
    "LogisticRegressionGD",
    "MLPBackprop",
    "LinearRegressionGD",
    "MLPBackpropRegressor",
    "check_gradients",
    "GradientCheckReport",
    "LossCurveDisplay",
    "gradients",
    "__version__",
]
