"""Demo: ``python -m skbackprop``.

Trains the skbackprop estimators beside their scikit-learn peers on the digits
data that ships with scikit-learn and prints test accuracy, log-loss and fit
time for each.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier


def _models(n_train):
    C = 1.0
    mlp = {"hidden_layer_sizes": (64,), "max_iter": 100, "random_state": 0}
    return [
        ("SoftmaxClassifier (lbfgs)", SoftmaxClassifier(alpha=1 / (C * n_train))),
        (
            "SoftmaxClassifier (gd)",
            SoftmaxClassifier(alpha=1 / (C * n_train), solver="gd"),
        ),
        (
            "LogisticRegressionGD (gd, OvR)",
            LogisticRegressionGD(alpha=1 / (C * n_train)),
        ),
        ("sklearn LogisticRegression", LogisticRegression(C=C, max_iter=1000)),
        ("MLPBackprop (adam)", MLPBackprop(**mlp)),
        ("sklearn MLPClassifier (adam)", MLPClassifier(**mlp)),
    ]


def main():
    """Fit every model and print the comparison table."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    print(
        f"digits: {X_train.shape[0]} training / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, 10 classes (features standardised)\n"
    )
    header = f"{'model':<32} {'accuracy':>9} {'log-loss':>9} {'fit time':>9}"
    print(header)
    print("-" * len(header))
    for name, model in _models(X_train.shape[0]):
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        accuracy = pipe.score(X_test, y_test)
        loss = log_loss(y_test, pipe.predict_proba(X_test))
        print(f"{name:<32} {accuracy:>9.4f} {loss:>9.4f} {elapsed:>8.3f}s")


if __name__ == "__main__":
    main()
