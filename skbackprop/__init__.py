"""skbackprop: scikit-learn classifiers trained by plain, visible backpropagation.

The three estimators share one core: a stack of affine layers (none for the
linear models) with a softmax or logistic output, trained on the gradient
``P - Y`` of the cross-entropy with respect to the scores.
"""

from . import gradients
from ._gradcheck import GradientCheckReport, check_gradients
from ._linear import LogisticRegressionGD, SoftmaxClassifier
from ._mlp import MLPBackprop
from ._plotting import LossCurveDisplay

__version__ = "0.1.0"

__all__ = [
    "SoftmaxClassifier",
    "LogisticRegressionGD",
    "MLPBackprop",
    "check_gradients",
    "GradientCheckReport",
    "LossCurveDisplay",
    "gradients",
    "__version__",
]
