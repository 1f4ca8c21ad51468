"""
=====================================================
Choosing alpha and the solver with a grid search
=====================================================

The estimators are ordinary scikit-learn classifiers, so they sit in a
:class:`~sklearn.pipeline.Pipeline` behind a scaler and their parameters are
tuned with :class:`~sklearn.model_selection.GridSearchCV`, addressed as
``<step name>__<parameter>``. Here we search the penalty ``alpha`` of a
:class:`~skbackprop.SoftmaxClassifier` on a log scale together with the solver
on a subset of the digits data.
"""

# %%
# The pipeline and the grid
# -------------------------
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import SoftmaxClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=600, stratify=y, random_state=0
)

pipe = make_pipeline(StandardScaler(), SoftmaxClassifier(max_iter=200, random_state=0))
param_grid = {
    "softmaxclassifier__alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0],
    "softmaxclassifier__solver": ["lbfgs", "gd", "sgd", "adam"],
}
search = GridSearchCV(pipe, param_grid, cv=3)
with warnings.catch_warnings():
    # a 200-iteration budget is deliberately tight for 'gd' on weak penalties
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(f"held-out accuracy:        {search.score(X_test, y_test):.3f}")

# %%
# The results table
# -----------------
# ``cv_results_`` holds one row per candidate; a few of its columns, best
# first.
results = pd.DataFrame(search.cv_results_)
table = results[
    [
        "param_softmaxclassifier__alpha",
        "param_softmaxclassifier__solver",
        "mean_test_score",
        "std_test_score",
        "mean_fit_time",
        "rank_test_score",
    ]
].rename(columns=lambda c: c.replace("param_softmaxclassifier__", ""))
table.sort_values("rank_test_score").round(4).head(10)

# %%
# Accuracy against alpha, one line per solver
# -------------------------------------------
# On a convex objective all solvers aim at the same optimum for a given
# ``alpha``; differences come from how close they get within the iteration
# budget. Strong penalties (right) underfit; on this small training set the
# best ``alpha`` is moderate.
fig, ax = plt.subplots(figsize=(6, 4))
for solver, group in table.groupby("solver"):
    group = group.sort_values("alpha")
    ax.errorbar(
        group["alpha"].astype(float),
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=solver,
    )
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("mean CV accuracy")
ax.legend(title="solver")
fig.tight_layout()
