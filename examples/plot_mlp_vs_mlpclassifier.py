"""
===========================================
MLPBackprop vs MLPClassifier on digits
===========================================

:class:`~skbackprop.MLPBackprop` has the constructor of scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` (same names, order and
defaults) and the same objective, and it draws its initial weights and
shuffles its mini-batches the way MLPClassifier does. Given the same
parameters and seed, the two train the same network, by different code. Here
we compare accuracy, fit time and loss curves on the digits data.
"""

# %%
# Same parameters, two implementations
# ------------------------------------
import time
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skbackprop import LossCurveDisplay, MLPBackprop

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = {
    "adam": {"solver": "adam", "max_iter": 40},
    "sgd": {"solver": "sgd", "learning_rate_init": 0.05, "max_iter": 40},
}
shared = {"hidden_layer_sizes": (64,), "alpha": 1e-3, "random_state": 0}

rows, fitted = [], {}
for solver, params in settings.items():
    for cls in (MLPBackprop, MLPClassifier):
        model = cls(**shared, **params)
        start = time.perf_counter()
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # the 40-epoch budget is deliberately short for the example
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        fitted[(cls.__name__, solver)] = model
        rows.append(
            {
                "model": cls.__name__,
                "solver": solver,
                "epochs": model.n_iter_,
                "fit time [s]": elapsed,
                "final training loss": model.loss_,
                "test accuracy": model.score(X_test, y_test),
                "test log-loss": log_loss(y_test, model.predict_proba(X_test)),
            }
        )

# %%
# Accuracy and time
# -----------------
# Same seed, same initial weights, same batches, same gradients: the two
# implementations end at the same loss and accuracy, up to floating-point
# rounding. Fit times are single runs on a shared machine; read them as
# orders of magnitude. Both were timed with one BLAS thread: on batches this
# small, a multi-threaded BLAS spends more time coordinating threads than
# multiplying, and can stall badly when other processes hold the cores.
# MLPBackprop limits itself to one thread for small products anyway;
# MLPClassifier uses whatever the BLAS library is configured with.
pd.DataFrame(rows).round(4)

# %%
# Loss curves
# -----------
# :class:`~skbackprop.LossCurveDisplay` accepts any estimator with a
# ``loss_curve_``, MLPClassifier included, so both can share one axes. The two
# curves coincide, so MLPClassifier's is drawn as a wide pale band and
# MLPBackprop's as a thin dashed line on top of it: where the dashes run
# inside the band, the two trainings agree.
line_styles = {
    "MLPClassifier": {"color": "tab:blue", "linewidth": 6, "alpha": 0.4},
    "MLPBackprop": {"color": "black", "linewidth": 1.5, "linestyle": "--"},
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, solver in zip(axes, settings, strict=False):
    for name, style in line_styles.items():
        LossCurveDisplay.from_estimator(
            fitted[(name, solver)], ax=ax, name=name, loss_kw=style
        )
    ax.set_yscale("log")
    ax.set_title(f"solver='{solver}'")
fig.tight_layout()

# %%
# The weights have the same layout
# --------------------------------
# ``coefs_[i]`` has shape ``(fan_in, fan_out)`` in both, so tools written for
# MLPClassifier's fitted attributes work on MLPBackprop unchanged.
ours, theirs = fitted[("MLPBackprop", "adam")], fitted[("MLPClassifier", "adam")]
print("shapes:", [c.shape for c in ours.coefs_], [c.shape for c in theirs.coefs_])
print("output:", ours.out_activation_, theirs.out_activation_)
print(
    "largest weight difference:",
    max(abs(a - b).max() for a, b in zip(ours.coefs_, theirs.coefs_, strict=False)),
)
