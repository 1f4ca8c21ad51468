"""
=================================
Deploying a model through ONNX
=================================

`ONNX <https://onnx.ai>`_ is how many teams ship scikit-learn models to
production: `skl2onnx <https://onnx.ai/sklearn-onnx/>`_ turns a fitted
pipeline into a graph, and `onnxruntime <https://onnxruntime.ai>`_ runs that
graph without Python or scikit-learn. Importing :mod:`skbackprop.onnx`
teaches skl2onnx the skbackprop estimators; the graph is built from the fitted
weights, and reproduces ``predict`` and ``predict_proba``.

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
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbackprop.onnx  # noqa: F401  (registers the converters with skl2onnx)
from skbackprop import MLPBackprop

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
