"""
=======================================================
Monitoring training with progress bars and score curves
=======================================================

With scikit-learn 1.9 or later, every skbackprop estimator supports
scikit-learn's callback API (:mod:`sklearn.callback`) for every solver. Each
epoch (or L-BFGS iteration) is a task that callbacks see begin and end:

* :class:`~sklearn.callback.ProgressBar` draws a progress bar per fit (it
  needs `rich <https://rich.readthedocs.io>`_: ``pip install skbackprop[progress]``);
* :class:`~sklearn.callback.ScoringMonitor` scores the model at the end of every
  epoch and keeps the scores in a log.

Here we watch a :class:`~skbackprop.MLPBackprop` learn the digits, alone and
then inside :class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# A progress bar and a score curve
# --------------------------------
# ``set_callbacks`` registers callbacks on the estimator. The ``scoring`` of a
# :class:`~sklearn.callback.ScoringMonitor` may be any scikit-learn scoring,
# including a callable returning several named scores: here the accuracy on the
# training data (which the monitor passes in) and on held-out data.
import warnings

import matplotlib.pyplot as plt
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackprop

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=800, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def train_and_test_accuracy(estimator, X, y):
    return {"train": estimator.score(X, y), "test": estimator.score(X_test, y_test)}


monitor = ScoringMonitor(scoring=train_and_test_accuracy)
mlp = MLPBackprop(hidden_layer_sizes=(32,), max_iter=40, random_state=0)
mlp.set_callbacks(ProgressBar(), monitor)
with warnings.catch_warnings():
    # 40 epochs is a deliberately short budget for this example
    warnings.simplefilter("ignore", ConvergenceWarning)
    mlp.fit(X_train, y_train)

# %%
# The log holds one row per epoch (task ``'epoch'``, numbered from 0) and one
# for the whole fit (task ``'fit'``, the final model).
log = monitor.get_logs().data_as_pandas
epochs = log[log["task_name"] == "epoch"]
print(epochs[["task_id", "train", "test"]].tail())

fig, ax = plt.subplots()
ax.plot(epochs["task_id"] + 1, epochs["train"], label="training data")
ax.plot(epochs["task_id"] + 1, epochs["test"], label="held-out data")
ax.set(xlabel="epoch", ylabel="accuracy", title="MLPBackprop on the digits")
ax.legend()

# %%
# The same inside a grid search
# -----------------------------
# A :class:`~sklearn.callback.ProgressBar` set on the
# :class:`~sklearn.model_selection.GridSearchCV` propagates to every fit it
# runs: one bar per candidate and fold, and one for the refit
# (``max_propagation_depth=None`` shows them all). A
# :class:`~sklearn.callback.ScoringMonitor` is not propagated; set on the
# estimator being searched, it travels with every clone of it, and its log
# gathers the epochs of all the fits of the search.
monitor = ScoringMonitor(scoring="accuracy")
mlp = MLPBackprop(hidden_layer_sizes=(32,), max_iter=40, random_state=0)
alphas = [1e-4, 1.0, 10.0]
n_splits = 3
search = GridSearchCV(mlp.set_callbacks(monitor), {"alpha": alphas}, cv=n_splits)
search.set_callbacks(ProgressBar(max_propagation_depth=None))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)
print("best alpha:", search.best_params_["alpha"])

# %%
# Each row's ``task_id_path`` places it in the search's task tree: ``(0, 0, i,
# epoch)`` for the ``i``-th candidate-and-fold evaluation (candidate
# ``i // n_splits``), ``(0, 1, epoch)`` for the refit. We plot the accuracy on
# the training folds, epoch by epoch, one line per fit.
log = monitor.get_logs().data_as_pandas
epochs = log[log["task_name"] == "epoch"]
fig, ax = plt.subplots()
for path, fit in epochs.groupby("parent_task_id_path"):
    if path[1] == 0:  # an evaluation of a candidate on a fold
        alpha = alphas[path[2] // n_splits]
        color = f"C{alphas.index(alpha)}"
        ax.plot(
            fit["task_id"] + 1,
            fit["accuracy"],
            color=color,
            alpha=0.5,
            label=f"alpha={alpha:g}" if path[2] % n_splits == 0 else None,
        )
    else:  # the refit on all the training data
        ax.plot(fit["task_id"] + 1, fit["accuracy"], "k--", label="refit (best alpha)")
ax.set(
    xlabel="epoch",
    ylabel="training accuracy",
    title="GridSearchCV over alpha, every fit",
)
ax.legend()
plt.show()
