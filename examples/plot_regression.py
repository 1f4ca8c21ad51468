"""
=============================================================================
Regression: LinearRegressionGD vs Ridge, MLPBackpropRegressor vs MLPRegressor
=============================================================================

The regressors are the classifiers' networks with an identity output unit per
target, trained on the half squared error, whose gradient with respect to the
predictions is :math:`\\hat Y - Y`: prediction minus target, as for softmax.
:class:`~skbackprop.LinearRegressionGD` minimises Ridge's objective up to a
factor, so ``LinearRegressionGD(alpha=a)`` and ``Ridge(alpha=a * n_samples)``
reach the same coefficients; :class:`~skbackprop.MLPBackpropRegressor` draws
its initial weights and mini-batches as
:class:`~sklearn.neural_network.MLPRegressor` does, so the two train the same
network. We check both on the diabetes data.
"""

# %%
# Ridge's optimum, reached by gradient descent
# --------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skbackprop import LinearRegressionGD, LossCurveDisplay, MLPBackpropRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
# standardised targets: the networks' default step sizes suit unit-scale data
mean, std = y_train.mean(), y_train.std()
y_train, y_test = (y_train - mean) / std, (y_test - mean) / std

n = X_train.shape[0]
alpha = 0.01
ridge = Ridge(alpha=alpha * n).fit(X_train, y_train)
# a tight tol: 'lbfgs' stops on the gradient, 'gd' on the loss's improvement,
# and correlated features (s1, s2) leave a loss that barely moves while the
# coefficients still settle
linear = {
    solver: LinearRegressionGD(
        alpha=alpha, solver=solver, tol=1e-14, max_iter=5000
    ).fit(X_train, y_train)
    for solver in ("lbfgs", "gd")
}
pd.DataFrame(
    {
        "Ridge": ridge.coef_,
        "LinearRegressionGD (lbfgs)": linear["lbfgs"].coef_,
        "LinearRegressionGD (gd)": linear["gd"].coef_,
    },
    index=load_diabetes().feature_names,
).round(6)

# %%
# The largest relative difference in a coefficient:
{
    solver: float(np.max(np.abs(model.coef_ - ridge.coef_) / np.abs(ridge.coef_)))
    for solver, model in linear.items()
}

# %%
# The same network as MLPRegressor
# --------------------------------
# Same seed, same initial weights, same batches, same gradients: the two
# implementations end with the same predictions, up to rounding.
shared = {
    "hidden_layer_sizes": (32,),
    "alpha": 10.0,
    "learning_rate_init": 0.003,
    "max_iter": 150,
    "random_state": 0,
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    ours = MLPBackpropRegressor(**shared).fit(X_train, y_train)
    theirs = MLPRegressor(**shared).fit(X_train, y_train)

pd.DataFrame(
    {
        "test R2": [
            ridge.score(X_test, y_test),
            linear["gd"].score(X_test, y_test),
            ours.score(X_test, y_test),
            theirs.score(X_test, y_test),
        ]
    },
    index=["Ridge", "LinearRegressionGD (gd)", "MLPBackpropRegressor", "MLPRegressor"],
).round(4)

# %%
# The largest difference in a test prediction between the two networks:
float(np.max(np.abs(ours.predict(X_test) - theirs.predict(X_test))))

# %%
# Loss curves
# -----------
# The two curves lie on each other. With one target, both report the same
# loss; with several, ours reports the objective it trains, the sum over the
# targets, where MLPRegressor reports their mean.
fig, ax = plt.subplots(figsize=(6, 4))
LossCurveDisplay.from_estimator(ours, ax=ax)
ax.plot(theirs.loss_curve_, "--", label="MLPRegressor")
ax.legend(["MLPBackpropRegressor", "MLPRegressor"])
ax.set_title("Training loss per epoch, diabetes")
plt.show()
