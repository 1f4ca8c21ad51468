"""
==========================================================
SoftmaxClassifier and LogisticRegression: the same optimum
==========================================================

:class:`~skbackprop.SoftmaxClassifier` minimises the mean softmax
cross-entropy plus :math:`\\frac{\\alpha}{2}\\lVert W\\rVert_F^2`;
scikit-learn's :class:`~sklearn.linear_model.LogisticRegression` minimises
:math:`C` times the summed cross-entropy plus :math:`\\frac12\\lVert W\\rVert^2`.
Dividing the second objective by :math:`Cn` shows that they are the same
function when ``alpha = 1 / (C * n_samples)``. Both are strictly convex, so
both solvers must land on the same point. Here we check that on the wine data
(three classes), then look at the binary case, where the two-row softmax needs
``C`` doubled.
"""

# %%
# Fit both models with matching regularisation
# --------------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skbackprop import LogisticRegressionGD, SoftmaxClassifier

X, y = load_wine(return_X_y=True)
X = StandardScaler().fit_transform(X)
n_samples = X.shape[0]
C = 0.5

ours = SoftmaxClassifier(alpha=1 / (C * n_samples))
theirs = LogisticRegression(C=C)


def fit_time(model, repeats=5):
    """Best of a few fits, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


timings = {
    "SoftmaxClassifier (lbfgs)": fit_time(ours),
    "LogisticRegression (lbfgs)": fit_time(theirs),
}

# %%
# Probabilities, side by side
# ---------------------------
# A few samples of each class: the two columns of each class agree to about
# six digits.
rows = [0, 1, 70, 71, 140, 141]
proba = pd.DataFrame(
    np.hstack([ours.predict_proba(X[rows]), theirs.predict_proba(X[rows])]),
    index=pd.Index(rows, name="sample"),
    columns=pd.MultiIndex.from_product(
        [
            ["SoftmaxClassifier", "LogisticRegression"],
            [f"class {c}" for c in ours.classes_],
        ]
    ),
)
proba.round(6)

# %%
print(
    "largest difference in probability over all samples:",
    f"{np.abs(ours.predict_proba(X) - theirs.predict_proba(X)).max():.1e}",
)

# %%
# Coefficients, side by side
# --------------------------
# Both models keep one weight row per class, and the penalty makes the
# solution unique, so the coefficients themselves match, not just the
# predictions.
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for k in range(3):
    ax.scatter(theirs.coef_[k], ours.coef_[k], label=f"class {k}", s=18)
lim = np.abs(theirs.coef_).max() * 1.1
ax.plot([-lim, lim], [-lim, lim], color="grey", lw=0.8, zorder=0)
ax.set_xlabel("LogisticRegression coef_")
ax.set_ylabel("SoftmaxClassifier coef_")
ax.set_title("one point per (class, feature)")
ax.legend()
fig.tight_layout()

print(f"largest coefficient difference: {np.abs(ours.coef_ - theirs.coef_).max():.1e}")

# %%
# Fit times
# ---------
# Both run L-BFGS on the same objective, so they take a similar number of
# iterations. Full-batch gradient descent (``solver='gd'``) heads for the
# same optimum with far more, cheaper, iterations; it stops once an iteration
# improves the loss by less than ``tol``, a few digits short of where L-BFGS
# gets.
gd = SoftmaxClassifier(alpha=1 / (C * n_samples), solver="gd", tol=1e-8, max_iter=5000)
timings["SoftmaxClassifier (gd)"] = fit_time(gd, repeats=1)
pd.DataFrame(
    {
        "fit time [ms]": timings,
        "iterations": {
            "SoftmaxClassifier (lbfgs)": ours.n_iter_,
            "LogisticRegression (lbfgs)": int(theirs.n_iter_[0]),
            "SoftmaxClassifier (gd)": gd.n_iter_,
        },
        "max |P - P_sklearn|": {
            "SoftmaxClassifier (lbfgs)": np.abs(
                ours.predict_proba(X) - theirs.predict_proba(X)
            ).max(),
            "LogisticRegression (lbfgs)": 0.0,
            "SoftmaxClassifier (gd)": np.abs(
                gd.predict_proba(X) - theirs.predict_proba(X)
            ).max(),
        },
    }
).round({"fit time [ms]": 1})

# %%
# Binary data: the two-row softmax and ``C = 2C``
# -----------------------------------------------
# On two classes, LogisticRegression keeps one weight vector :math:`w`. The
# softmax keeps two rows; only their difference matters, and the penalty
# splits it evenly into :math:`\pm w/2`. Two half rows cost half the penalty of
# one full row, so ``alpha = 1 / (C * n)`` now matches ``C = 2 * C``.
# :class:`~skbackprop.LogisticRegressionGD`, with its single sigmoid unit, is
# the softmax with the negative-class logit fixed at zero, and matches ``C``
# itself.
Xb, yb = load_breast_cancer(return_X_y=True)
Xb = StandardScaler().fit_transform(Xb)
nb = Xb.shape[0]

softmax = SoftmaxClassifier(alpha=1 / (C * nb), tol=1e-8).fit(Xb, yb)
sigmoid = LogisticRegressionGD(alpha=1 / (C * nb), solver="lbfgs", tol=1e-8).fit(Xb, yb)
lr_C = LogisticRegression(C=C, tol=1e-10, max_iter=1000).fit(Xb, yb)
lr_2C = LogisticRegression(C=2 * C, tol=1e-10, max_iter=1000).fit(Xb, yb)

w = lr_2C.coef_[0]
print(
    "softmax rows are +-w/2:",
    np.allclose(softmax.coef_[1], w / 2, atol=1e-4),
    np.allclose(softmax.coef_[0], -w / 2, atol=1e-4),
)
print(
    f"SoftmaxClassifier vs LogisticRegression(C=2C): "
    f"{np.abs(softmax.predict_proba(Xb) - lr_2C.predict_proba(Xb)).max():.1e}"
)
print(
    f"LogisticRegressionGD vs LogisticRegression(C=C): "
    f"{np.abs(sigmoid.predict_proba(Xb) - lr_C.predict_proba(Xb)).max():.1e}"
)
