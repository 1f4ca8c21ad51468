"""
=================================================
Decision boundaries of the three estimators
=================================================

The two linear models split the plane with straight lines: their scores are
affine in the input. A hidden layer bends the boundary. We fit
:class:`~skbackprop.SoftmaxClassifier`, :class:`~skbackprop.LogisticRegressionGD`
and :class:`~skbackprop.MLPBackprop` on two 2-D problems and draw their
decisions with scikit-learn's
:class:`~sklearn.inspection.DecisionBoundaryDisplay`.
"""

# %%
# Data: three blobs and two moons
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

MARKERS = ["o", "s", "^"]


def plot_samples(ax, X, y):
    """The training samples, one marker per class, over a decision surface."""
    for label, marker in zip(np.unique(y), MARKERS, strict=False):
        ax.scatter(
            *X[y == label].T,
            marker=marker,
            facecolor="white",
            edgecolor="k",
            s=16,
            linewidth=0.7,
        )


datasets = {
    "three blobs": make_blobs(
        n_samples=300,
        centers=[[-2, 0], [2, 0], [0, 2.5]],
        cluster_std=1.1,
        random_state=0,
    ),
    "two moons": make_moons(n_samples=300, noise=0.2, random_state=0),
}
estimators = {
    "SoftmaxClassifier": SoftmaxClassifier(alpha=1e-3),
    "LogisticRegressionGD": LogisticRegressionGD(alpha=1e-3),
    "MLPBackprop (16,)": MLPBackprop(
        (16,),
        activation="tanh",
        solver="lbfgs",
        alpha=0.1,
        max_iter=1000,
        random_state=0,
    ),
}

# %%
# Predicted classes
# -----------------
# Shaded regions are the predicted class, points the training data (one
# marker per class). On the
# blobs all three do well; the softmax and one-vs-rest boundaries differ
# slightly, because one-vs-rest trains each class against the others
# separately. On the moons only the network can follow the curved gap.
fig, axes = plt.subplots(2, 3, figsize=(11, 7), sharex="row", sharey="row")
for row, (data_name, (X, y)) in zip(axes, datasets.items(), strict=False):
    for ax, (name, estimator) in zip(row, estimators.items(), strict=False):
        model = make_pipeline(StandardScaler(), estimator).fit(X, y)
        DecisionBoundaryDisplay.from_estimator(
            model,
            X,
            response_method="predict",
            plot_method="pcolormesh",
            alpha=0.5,
            ax=ax,
        )
        plot_samples(ax, X, y)
        ax.set_title(
            f"{name}\n{data_name}: train acc. {model.score(X, y):.2f}", fontsize="small"
        )
fig.tight_layout()

# %%
# Probability of one class
# ------------------------
# ``predict_proba`` shows how confident each model is. For the binary moons
# problem we draw :math:`P(y = 1 \mid x)`: a sigmoid of an affine score for the
# linear models (a ramp across a straight band), and a curved ramp for the
# network.
X, y = datasets["two moons"]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
for ax, (name, estimator) in zip(axes, estimators.items(), strict=False):
    model = make_pipeline(StandardScaler(), estimator).fit(X, y)
    disp = DecisionBoundaryDisplay.from_estimator(
        model,
        X,
        response_method="predict_proba",
        plot_method="contourf",
        cmap="RdBu_r",
        vmin=0,
        vmax=1,
        levels=11,
        alpha=0.8,
        ax=ax,
    )
    plot_samples(ax, X, y)
    ax.set_title(name, fontsize="small")
fig.colorbar(disp.surface_, ax=axes, label="P(y = 1)")
