"""
===================================================
Loss curves of every solver, and early stopping
===================================================

Every skbackprop estimator records its training objective after each
iteration (``loss_curve_``), for every solver, L-BFGS included.
:class:`~skbackprop.LossCurveDisplay` draws it. We train a
:class:`~skbackprop.SoftmaxClassifier` with each solver on the same problem
and put the curves on one axes, then turn on early stopping, whose validation
scores appear on a second axis.
"""

# %%
# Four solvers, one objective
# ---------------------------
# The step sizes are left at ``learning_rate_init='auto'``: for ``'gd'`` a
# step searched at every iteration (Barzilai-Borwein, starting from ``1/L``
# with ``L`` a Lipschitz bound of the gradient), the mini-batch counterpart of
# ``1/L`` for ``'sgd'`` and 0.01 for ``'adam'``. For comparison, one more run
# of ``'gd'`` takes the fixed textbook step ``1/L``, computed here from the
# bound: the Hessian of the softmax cross-entropy w.r.t. the scores is at most
# 1/2, so ``L = lambda_max(X~^T X~ / n) / 2 + alpha`` with ``X~`` the data
# with a column of ones.
#
# For ``'gd'`` and ``'lbfgs'`` an iteration is one pass over the data; for
# ``'sgd'`` and ``'adam'`` an epoch of many mini-batch steps, and its recorded
# loss is the mean over the epoch's batches.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skbackprop import LossCurveDisplay, MLPBackprop, SoftmaxClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

alpha = 1e-3
X_tilde = np.hstack([X_train, np.ones((X_train.shape[0], 1))])
L = 0.5 * np.linalg.eigvalsh(X_tilde.T @ X_tilde / X_train.shape[0])[-1] + alpha

fig, ax = plt.subplots(figsize=(7, 4.5))
models = {}
runs = {
    "lbfgs": dict(solver="lbfgs"),
    "gd": dict(solver="gd"),
    "gd, step 1/L": dict(solver="gd", learning_rate_init=1 / L),
    "sgd": dict(solver="sgd"),
    "adam": dict(solver="adam"),
}
for name, params in runs.items():
    clf = SoftmaxClassifier(alpha=alpha, max_iter=300, random_state=0, **params)
    with warnings.catch_warnings():
        # the fixed step runs out of its 300 iterations; the curve shows why
        warnings.simplefilter("ignore", ConvergenceWarning)
        models[name] = clf.fit(X_train, y_train)
    LossCurveDisplay.from_estimator(clf, ax=ax, name=name)
ax.set_yscale("log")
ax.set_title("SoftmaxClassifier on digits, alpha=1e-3")
fig.tight_layout()

# %%
# L-BFGS, gradient descent with its searched step, SGD and Adam end at nearly
# the same objective and accuracy. With the fixed step ``1/L``, gradient
# descent is still descending after 300 steps: that step is set by the most
# curved direction of the objective, so progress along the flattest
# directions is slow. The searched step measures the curvature along the last
# step and moves as far as it allows; its curve may rise now and then, but
# never above the largest of the 10 losses before.
for name, clf in models.items():
    print(
        f"{name:>12}: {clf.n_iter_:4d} iterations, final loss {clf.loss_:.4f}, "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )

# %%
# Early stopping
# --------------
# A network can fit its training data ever more closely while its accuracy on
# new data stops improving. With ``early_stopping=True`` the estimator holds
# out ``validation_fraction`` of the training data, scores it after every
# epoch and stops once the score has not improved by ``tol`` for
# ``n_iter_no_change`` epochs, keeping the best epoch's weights. The display
# puts the validation accuracy on a second y axis.
mlp = MLPBackprop(
    hidden_layer_sizes=(64,),
    solver="sgd",
    learning_rate_init=0.05,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=8,
    max_iter=200,
    random_state=0,
).fit(X_train, y_train)

display = LossCurveDisplay.from_estimator(mlp)
display.ax_.set_title("MLPBackprop (sgd) with early stopping")
display.figure_.tight_layout()

print(
    f"stopped after {mlp.n_iter_} epochs; best validation accuracy "
    f"{mlp.best_validation_score_:.3f}; test accuracy {mlp.score(X_test, y_test):.3f}"
)

# %%
# The display stores the data it draws, so the figure can be restyled or
# redrawn elsewhere, e.g. side by side with another model:
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
display.plot(ax=left, name="early stopping")
LossCurveDisplay.from_estimator(models["sgd"], ax=right, name="softmax sgd")
fig.tight_layout()
