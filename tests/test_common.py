"""scikit-learn's estimator checks, for every estimator and every solver.

No check is marked as an expected failure.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

SOLVERS = ["lbfgs", "gd", "sgd", "adam"]


def _instances():
    for cls in (SoftmaxClassifier, LogisticRegressionGD):
        for solver in SOLVERS:
            yield cls(solver=solver)
    # the default constructor as it is (adam, learning_rate_init=0.001) ...
    yield MLPBackprop()
    for solver in ("lbfgs", "sgd"):
        yield MLPBackprop(solver=solver)
    # ... and full-batch descent with a step a user would pick for it
    yield MLPBackprop(solver="gd", learning_rate_init=0.1)


@parametrize_with_checks(list(_instances()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
