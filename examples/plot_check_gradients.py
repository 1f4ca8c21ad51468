"""
=========================================
Verifying gradients with check_gradients
=========================================

Backpropagation is only as good as the gradient it computes: a wrong sign or
a missing factor still trains *something*, just not the model you meant.
:func:`~skbackprop.check_gradients` compares an estimator's analytic gradient
of its full objective (loss plus penalty) with central finite differences

.. math::

    \\frac{J(\\theta + \\epsilon e_j) - J(\\theta - \\epsilon e_j)}{2\\epsilon},

one parameter at a time. We run it on all three estimators, then build the
same check by hand around :func:`skbackprop.gradients.softmax_cross_entropy`
to see what a *wrong* gradient looks like, both in the check and in training.
"""

# %%
# The three estimators pass
# -------------------------
# An unfitted estimator is checked at the parameters ``fit`` would start from,
# a fitted one at its fitted parameters. A few dozen samples and a small
# network keep the check fast: it costs two objective evaluations per
# parameter.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from skbackprop import (
    LogisticRegressionGD,
    MLPBackprop,
    SoftmaxClassifier,
    check_gradients,
    gradients,
)

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)[::4]
y = y[::4]

estimators = {
    "SoftmaxClassifier": SoftmaxClassifier(alpha=0.1),
    "LogisticRegressionGD (OvR)": LogisticRegressionGD(alpha=0.1),
    "SoftmaxClassifier, fitted": SoftmaxClassifier(alpha=0.1).fit(X, y),
    "MLPBackprop tanh (5, 4)": MLPBackprop((5, 4), activation="tanh", alpha=0.1),
    "MLPBackprop relu (6,)": MLPBackprop((6,), activation="relu", alpha=0.1),
    "MLPBackprop logistic, binary": MLPBackprop((4,), activation="logistic"),
}
rows = {}
for name, est in estimators.items():
    yy = (y == 2) if "binary" in name else y
    report = check_gradients(est, X, yy, random_state=0)
    rows[name] = {
        "max_abs_error": report.max_abs_error,
        "max_rel_error": report.max_rel_error,
    }
pd.DataFrame(rows).T

# %%
# ``details`` breaks the errors down by parameter array:
report = check_gradients(MLPBackprop((5, 4), activation="tanh"), X, y, random_state=0)
pd.DataFrame(report.details, index=["max_abs_error", "max_rel_error"]).T

# %%
# The same check by hand
# ----------------------
# A softmax classifier's objective on the scores :math:`S = XW^\top + b` is
# what :func:`~skbackprop.gradients.softmax_cross_entropy` computes, and the
# weight gradient is :math:`(\partial L/\partial S)^\top X` with
# :math:`\partial L/\partial S = (P - Y)/n`. Below are the correct gradient and
# three plausible mistakes.
rng = np.random.default_rng(0)
n_classes = 3
Y = np.eye(n_classes)[y]
W0 = rng.normal(scale=0.5, size=(n_classes, X.shape[1]))


def loss(W):
    return gradients.softmax_cross_entropy(X @ W.T, Y)[0]


def grad_correct(W):
    _, dS = gradients.softmax_cross_entropy(X @ W.T, Y)
    return dS.T @ X  # (P - Y)^T X / n


def grad_forgot_target(W):
    P = gradients.softmax(X @ W.T)
    return P.T @ X / len(X)  # P instead of P - Y


def grad_wrong_sign(W):
    return -grad_correct(W)  # Y - P


def grad_forgot_mean(W):
    _, dS = gradients.softmax_cross_entropy(X @ W.T, Y)
    return (dS * len(X)).T @ X  # sum instead of mean


def numeric_gradient(f, W, eps=1e-6):
    G = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[idx] = eps
        G[idx] = (f(W + step) - f(W - step)) / (2 * eps)
    return G


numeric = numeric_gradient(loss, W0)
candidates = {
    "correct: (P - Y)^T X / n": grad_correct,
    "forgot the target: P^T X / n": grad_forgot_target,
    "wrong sign: (Y - P)^T X / n": grad_wrong_sign,
    "forgot the mean: (P - Y)^T X": grad_forgot_mean,
}
errors = {}
for name, grad in candidates.items():
    analytic = grad(W0)
    diff = np.abs(analytic - numeric)
    errors[name] = {
        "max_abs_error": diff.max(),
        "max_rel_error": (
            diff / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-3)
        ).max(),
    }
pd.DataFrame(errors).T

# %%
# A correct gradient agrees with finite differences to about :math:`10^{-10}`;
# every mistake is off by order one. Relative errors between roughly
# :math:`10^{-6}` and :math:`10^{-3}` usually point at a subtler problem (a
# non-smooth point such as ReLU's kink, or too large an ``epsilon``); anything
# larger is a bug.
#
# What the mistakes do to training
# --------------------------------
# Each candidate drives the same gradient-descent loop
# :math:`W := W - \eta\,G(W)`. The correct gradient lowers the loss; the wrong
# sign climbs it; dropping the target pushes all scores down together, which
# the softmax ignores, so nothing is learnt; dropping the mean is the right
# direction with an ``n`` times larger step, which here overshoots.
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, grad in candidates.items():
    W = W0.copy()
    curve = []
    for _ in range(60):
        curve.append(loss(W))
        W -= 0.5 * grad(W)
    ax.plot(curve, label=name)
ax.set_yscale("log")
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("training loss")
ax.legend(fontsize="small")
fig.tight_layout()
