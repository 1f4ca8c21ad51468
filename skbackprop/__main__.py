"""Demo: ``python -m skbackprop``.

Trains the skbackprop estimators beside their scikit-learn peers on the digits
data (classifiers) and the diabetes data (regressors) that ship with
scikit-learn, prints test accuracy and log-loss (resp. R² and RMSE) and the
median fit time of each, shows how closely the paired models agree, and ends
with the gradient check's verdict.
"""

import time
import warnings
from statistics import median

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
    check_gradients,
)

C = 1.0
REPEATS = 5

INTRO = """\
skbackprop beside scikit-learn on the digits data. The rows that are paired agree
by construction, not by luck:
  * SoftmaxClassifier(alpha=1/(C*n)) minimises exactly the objective of
    LogisticRegression(C=C) (multinomial, >= 3 classes), so both reach the same
    optimum. On binary data scikit-learn keeps one weight vector w while softmax
    keeps two rows that settle at +w/2 and -w/2, so the match is C -> 2*C.
  * LogisticRegressionGD is one-vs-rest (one sigmoid per class): a different
    model, shown for its accuracy, not expected to match.
  * MLPBackprop builds MLPClassifier's network (same initial weights from the
    same random_state, same loss, same Adam), so the two train the same network.
Then the regressors on the diabetes data (targets standardised):
  * LinearRegressionGD(alpha=a) minimises Ridge(alpha=a*n)'s objective (up to
    the factor 2n), so both reach the same optimum.
  * MLPBackpropRegressor trains MLPRegressor's network, as MLPBackprop does.
Fit time: median of {repeats} fits, each a StandardScaler + model pipeline.
"""


def _models(n_train):
    mlp = {"hidden_layer_sizes": (64,), "max_iter": 100, "random_state": 0}
    alpha = 1 / (C * n_train)
    return [
        ("SoftmaxClassifier (lbfgs)", SoftmaxClassifier(alpha=alpha)),
        ("SoftmaxClassifier (gd)", SoftmaxClassifier(alpha=alpha, solver="gd")),
        ("LogisticRegressionGD (gd, OvR)", LogisticRegressionGD(alpha=alpha)),
        ("sklearn LogisticRegression", LogisticRegression(C=C, max_iter=1000)),
        ("MLPBackprop (adam)", MLPBackprop(**mlp)),
        ("sklearn MLPClassifier (adam)", MLPClassifier(**mlp)),
    ]


def _timed_fit(model, X, y, repeats):
    """Fit ``repeats`` fresh pipelines; return the last one and the median time."""
    times = []
    for _ in range(repeats):
        pipe = make_pipeline(StandardScaler(), clone(model))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X, y)
        times.append(time.perf_counter() - start)
    return pipe, median(times)


def _regressors(n_train):
    # diabetes is small and noisy: a strong penalty keeps the network from
    # fitting the noise
    mlp = {
        "hidden_layer_sizes": (32,),
        "alpha": 10.0,
        "learning_rate_init": 0.003,
        "max_iter": 100,
        "random_state": 0,
    }
    lbfgs = {"solver": "lbfgs", "tol": 1e-10}
    return [
        (
            "LinearRegressionGD (lbfgs)",
            LinearRegressionGD(alpha=1.0 / n_train, **lbfgs),
        ),
        ("LinearRegressionGD (gd)", LinearRegressionGD(alpha=1.0 / n_train)),
        ("sklearn Ridge", Ridge(alpha=1.0)),
        ("MLPBackpropRegressor (adam)", MLPBackpropRegressor(**mlp)),
        ("sklearn MLPRegressor (adam)", MLPRegressor(**mlp)),
    ]


def _compare(models, data, columns, method, loss):
    """Print a row per model: its test score, the ``loss`` of its ``method``'s
    output and its median fit time; return the outputs by model name."""
    X_train, X_test, y_train, y_test = data
    header = f"{'model':<32} {columns[0]:>9} {columns[1]:>9} {'fit time':>9}"
    print(header)
    print("-" * len(header))
    outputs = {}
    for name, model in models:
        pipe, elapsed = _timed_fit(model, X_train, y_train, REPEATS)
        outputs[name] = getattr(pipe, method)(X_test)
        score, error = pipe.score(X_test, y_test), loss(y_test, outputs[name])
        print(f"{name:<32} {score:>9.4f} {error:>9.4f} {elapsed:>8.3f}s")
    return outputs


def _regression():
    """The regressors' table, on standardised diabetes targets; their
    test predictions by name."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    mean, std = y_train.mean(), y_train.std()
    y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    print(
        f"\ndiabetes: {X_train.shape[0]} training / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, targets standardised\n"
    )
    data = (X_train, X_test, y_train, y_test)
    models = _regressors(X_train.shape[0])
    return _compare(models, data, ("R2", "RMSE"), "predict", root_mean_squared_error)


def _binary_agreement(X, y):
    """Max probability gap of SoftmaxClassifier vs LogisticRegression(C=2C), 3 vs 8.

    Both are solved to a tight tolerance, so that the gap measures the optima.
    """
    mask = np.isin(y, [3, 8])
    Xb = StandardScaler().fit_transform(X[mask])
    yb = y[mask]
    ours = SoftmaxClassifier(alpha=1 / (C * len(yb)), tol=1e-10).fit(Xb, yb)
    theirs = LogisticRegression(C=2 * C, tol=1e-10, max_iter=1000).fit(Xb, yb)
    return np.abs(ours.predict_proba(Xb) - theirs.predict_proba(Xb)).max()


def main():
    """Fit every model, print the comparison table, the agreement and the check."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    print(INTRO.format(repeats=REPEATS))
    print(
        f"digits: {X_train.shape[0]} training / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, 10 classes\n"
    )
    proba = _compare(
        _models(X_train.shape[0]),
        (X_train, X_test, y_train, y_test),
        ("accuracy", "log-loss"),
        "predict_proba",
        log_loss,
    )

    def gap(a, b):
        return np.abs(proba[a] - proba[b]).max()

    print("\nlargest difference in a test probability between the paired models:")
    softmax_gap = gap("SoftmaxClassifier (lbfgs)", "sklearn LogisticRegression")
    mlp_gap = gap("MLPBackprop (adam)", "sklearn MLPClassifier (adam)")
    print(f"  SoftmaxClassifier (lbfgs) vs LogisticRegression(C=C): {softmax_gap:.1e}")
    print(f"  MLPBackprop vs MLPClassifier (same random_state):     {mlp_gap:.1e}")
    binary_gap = _binary_agreement(X, y)
    pair = "binary 3 vs 8, SoftmaxClassifier vs LogisticRegression(C=2*C)"
    print(f"  {pair}: {binary_gap:.1e}")

    predictions = _regression()
    print("\nlargest difference in a test prediction between the paired models:")
    ridge_gap = np.abs(
        predictions["LinearRegressionGD (lbfgs)"] - predictions["sklearn Ridge"]
    ).max()
    mlp_gap = np.abs(
        predictions["MLPBackpropRegressor (adam)"]
        - predictions["sklearn MLPRegressor (adam)"]
    ).max()
    print(f"  LinearRegressionGD (lbfgs) vs Ridge(alpha=a*n):       {ridge_gap:.1e}")
    print(f"  MLPBackpropRegressor vs MLPRegressor (same seed):     {mlp_gap:.1e}")

    X_small, y_small = X[:60] / 16, y[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPBackprop(
            hidden_layer_sizes=(8,), activation="tanh", max_iter=50, random_state=0
        ).fit(X_small, y_small)
    report = check_gradients(mlp, X_small, y_small)
    verdict = "right" if report.max_rel_error < 1e-6 else "WRONG"
    print(
        "\ngradient check: backprop's gradient of a small tanh MLPBackprop vs central "
        f"finite differences,\nmax relative error {report.max_rel_error:.1e} "
        f"(< 1e-6 means right): the gradient is {verdict}"
    )


if __name__ == "__main__":
    main()
