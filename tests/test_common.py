"""scikit-learn's estimator checks, for every estimator and every solver.

No check is marked as an expected failure.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]


def _instances():
    for cls in (SoftmaxClassifier, LogisticRegressionGD, LinearRegressionGD):
        for solver in SOLVERS:
            yield cls(solver=solver)
    # the default constructors as they are (adam, learning_rate_init=0.001) ...
    for cls in (MLPBackprop, MLPBackpropRegressor):
        yield cls()
        for solver in ("lbfgs", "sgd"):
            yield cls(solver=solver)
    # ... and full-batch descent with a step a user would pick for it: larger
    # for cross-entropy, whose gradient is bounded, than for squared error,
    # whose gradient grows with the targets (the checks' are unscaled)
    yield MLPBackprop(solver="gd", learning_rate_init=0.1)
    yield MLPBackpropRegressor(solver="gd", learning_rate_init=0.003)


@parametrize_with_checks(list(_instances()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
