"""
=================================
Deploying a model through ONNX
=================================

`ONNX <https://onnx.ai>`_ is how many teams ship scikit-learn models to
production: `skl2onnx <https://onnx.ai/sklearn-onnx/>`_ turns a fitted
pipeline into a graph, and `onnxruntime <https://onnxruntime.ai>`_ runs that
graph without Python or scikit-learn. Importing :mod:`skbackprop.onnx`
teaches skl2onnx the skbackprop estimators, classifiers and regressors; the
graph is built from the fitted weights, and reproduces ``predict`` and
``predict_proba``. We export a classifier first, then a regressor.

Needs the optional dependencies: ``pip install "skbackprop[onnx]"``.
"""

# %%
# Train a pipeline
# ----------------
# A scaler followed by a small network, on the digits data; ONNX graphs compute
# in float32, so we train and compare on float32 input.
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as rt
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbackprop.onnx  # noqa: F401  (registers the converters with skl2onnx)
from skbackprop import MLPBackprop, MLPBackpropRegressor

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipe = make_pipeline(
    StandardScaler(),
    MLPBackprop(
        hidden_layer_sizes=(32,), activation="tanh", max_iter=500, random_state=0
    ),
).fit(X_train, y_train)
print(f"test accuracy: {pipe.score(X_test, y_test):.3f}")

# %%
# Export
# ------
# ``to_onnx`` needs one row of input to know the input's type and width. The
# option ``zipmap=False`` asks for the probabilities as a matrix; the default,
# as for scikit-learn's classifiers, is a list of ``{class: probability}``
# dictionaries.
onx = to_onnx(pipe, X_train[:1], options={id(pipe[-1]): {"zipmap": False}})
print("inputs: ", [i.name for i in onx.graph.input])
print("outputs:", [o.name for o in onx.graph.output])
print("operators:", [node.op_type for node in onx.graph.node])

# %%
# The graph reads like the forward pass: the scaler's ``Scaler``, then one
# ``Gemm`` (``A W + b``) per layer with ``Tanh`` between them, ``Softmax`` for
# the probabilities and ``ArgMax`` + ``Gather`` for the labels. To ship it,
# write ``onx.SerializeToString()`` to a ``.onnx`` file.
#
# Run with onnxruntime and compare
# --------------------------------
session = rt.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
labels, probabilities = session.run(None, {session.get_inputs()[0].name: X_test})

same_labels = np.array_equal(labels, pipe.predict(X_test))
gap = np.abs(probabilities - pipe.predict_proba(X_test))
print(f"labels equal predict: {same_labels}")
print(f"largest probability difference: {gap.max():.1e}")

# %%
# The differences are float32 rounding: the graph and NumPy sum the same
# products in a different order. Their distribution over all test
# probabilities:
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(gap.ravel(), bins=40)
ax.set_yscale("log")
ax.set_xlabel("|onnxruntime - predict_proba|")
ax.set_ylabel("probabilities")
ax.set_title("ONNX graph vs scikit-learn pipeline, float32")
fig.tight_layout()

# %%
# A regressor
# -----------
# Regressors export the same way. An :class:`~skbackprop.MLPBackpropRegressor`
# behind a scaler, on the diabetes data, again in float32; early stopping
# keeps the epoch with the best R² on held-out samples. The data are noisy: a
# linear model scores about as well, and the point here is the export.
X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

reg = make_pipeline(
    StandardScaler(),
    MLPBackpropRegressor(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.05,
        early_stopping=True,
        max_iter=500,
        random_state=0,
    ),
).fit(X_train, y_train)
print(f"test R²: {reg.score(X_test, y_test):.3f}")

# %%
# A regressor's graph has one output, ``variable``, with one column per target:
# the scores of the last ``Gemm`` as they are (``Identity``), or their
# exponential (``Exp``) for ``loss='poisson'``. No option is needed.
onx_reg = to_onnx(reg, X_train[:1])
print("outputs:", [o.name for o in onx_reg.graph.output])
print("operators:", [node.op_type for node in onx_reg.graph.node])

session = rt.InferenceSession(
    onx_reg.SerializeToString(), providers=["CPUExecutionProvider"]
)
(predicted,) = session.run(None, {session.get_inputs()[0].name: X_test})
print(f"output shape: {predicted.shape}")

# ``predict`` returns a 1-D array for a single target; the graph, a column
gap = np.abs(predicted[:, 0] - reg.predict(X_test))
print(f"largest difference from predict: {gap.max():.1e}")
print(f"relative to the targets' spread: {gap.max() / y_test.std():.1e}")

# %%
# Again float32 rounding only. The targets are in the hundreds, so the gap in
# absolute terms is larger than for probabilities; relative to the targets'
# spread it is of the same order as the probabilities' gap.
