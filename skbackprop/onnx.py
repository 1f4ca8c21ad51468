"""ONNX export through skl2onnx.

Importing this module registers a converter and a shape calculator with
skl2onnx for every skbackprop estimator, after which ``skl2onnx.to_onnx``
converts them alone or inside a scikit-learn Pipeline::

    import numpy as np
    import skl2onnx
    import skbackprop.onnx  # noqa: F401  (registers the converters)

    onx = skl2onnx.to_onnx(estimator, X[:1].astype(np.float32))

The graphs give what skl2onnx gives the scikit-learn peers: classifiers
output ``output_label`` and ``output_probability``, a list of
``{class: probability}`` dictionaries (or ``label`` and a ``probabilities``
matrix with ``to_onnx(..., options={id(estimator): {"zipmap": False}})``);
regressors (LinearRegressionGD, MLPBackpropRegressor) output ``variable``, of
shape (n_samples, n_outputs), as for Ridge and MLPRegressor: a column even for
a single target, where ``predict`` returns a 1-D array. They are built from the
fitted attributes alone:

* the network: ``coef_`` (n_outputs, n_features), or (n_features,) for a
  single-target LinearRegressionGD as for Ridge, and ``intercept_`` for the
  linear models; ``coefs_``, ``intercepts_`` and ``activation`` for the MLPs,
  and ``out_activation_`` for MLPBackpropRegressor (``'exp'`` for
  ``loss='poisson'``);
* the output unit, paired with the loss the model was trained on:

  ============================  ============================================
  output unit                   graph
  ============================  ============================================
  softmax                       ``P = softmax(Z)``, label ``argmax Z``
  one logistic unit (binary)    ``p = σ(z)``, ``P = [1 - p, p]``, label ``z > 0``
  logistic units, one-vs-rest   ``P = σ(Z) / Σ σ(Z)``, label ``argmax Z``
  logistic units, multilabel    ``P = σ(Z)``, label matrix ``P > 0.5``
  identity (regression)         ``Z``
  exp (Poisson regression)      ``exp(Z)``
  ============================  ============================================

A classifier is multilabel when its ``_label_type`` attribute is
``"multilabel-indicator"``, the hook a ``fit`` on a 2-D indicator ``y`` sets;
the labels are then the (n_samples, n_labels) 0/1 matrix ``predict`` returns.

Needs the optional dependencies ``skl2onnx`` and ``onnxruntime``
(``pip install "skbackprop[onnx]"``).
"""

import numpy as np
from sklearn.base import ClassifierMixin

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.common._apply_operation import apply_cast, apply_reshape
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        guess_proto_type,
    )
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        check_input_and_output_numbers,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.proto import onnx_proto
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'skbackprop.onnx needs skl2onnx and onnxruntime: pip install "skbackprop[onnx]"'
    ) from exc

import skbackprop

__all__ = []

# the value of an estimator's ``_label_type`` that marks a multilabel fit
_MULTILABEL = "multilabel-indicator"

_ACTIVATIONS = {
    "identity": "Identity",
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
}

_CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False]}


# the fitted network --------------------------------------------------------
def _network(est):
    """Layers ``[(W (n_in, n_out), b (n_out,)), ...]`` and the hidden activation."""
    if hasattr(est, "coefs_"):
        layers = list(zip(est.coefs_, est.intercepts_, strict=True))
        return layers, est.activation
    coef = np.asarray(est.coef_)
    # a single-target regressor keeps coef_ 1-D, as Ridge does
    W = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T
    b = np.broadcast_to(np.asarray(est.intercept_, dtype=W.dtype), W.shape[1:])
    return [(W, b)], "identity"


def _n_outputs(est):
    layers, _ = _network(est)
    return layers[-1][0].shape[1]


def _is_multilabel(est):
    return getattr(est, "_label_type", None) == _MULTILABEL


def _classifier_output(est):
    """Name of the output unit of a fitted classifier (see the module's table)."""
    if _is_multilabel(est):
        return "multilabel"
    if _n_outputs(est) == 1:
        return "binary"
    activation = getattr(est, "out_activation_", None)
    if activation is None:  # the linear models: their class names their output
        is_ovr = isinstance(est, skbackprop.LogisticRegressionGD)
        activation = "logistic" if is_ovr else "softmax"
    return "ovr" if activation == "logistic" else "softmax"


# graph pieces -----------------------------------------------------------------
def _dtype(operator):
    """ONNX element type of the computation: double for double input, else float."""
    proto = guess_proto_type(operator.inputs[0].type)
    if proto != onnx_proto.TensorProto.DOUBLE:
        proto = onnx_proto.TensorProto.FLOAT
    return proto


def _numpy_dtype(proto):
    return np.float64 if proto == onnx_proto.TensorProto.DOUBLE else np.float32


def _constant(scope, container, name, value, proto):
    value = np.asarray(value)
    full_name = scope.get_unique_variable_name(name)
    container.add_initializer(full_name, proto, list(value.shape), value.ravel())
    return full_name


def _scalar(scope, container, name, value, proto):
    """A constant scalar of the graph's float type."""
    return _constant(
        scope, container, name, np.array(value, _numpy_dtype(proto)), proto
    )


def _write(scope, container, op_type, inputs, out_name, **attrs):
    """Add one node writing the operator's output ``out_name``."""
    container.add_node(
        op_type,
        inputs,
        out_name,
        name=scope.get_unique_operator_name(op_type),
        **attrs,
    )


def _node(scope, container, op_type, inputs, name, **attrs):
    """Add one node and return the name of its single output, a new variable."""
    output = scope.get_unique_variable_name(name)
    _write(scope, container, op_type, inputs, output, **attrs)
    return output


def _forward(scope, operator, container, est, proto):
    """The scores ``Z`` of the last layer: ``A_l = f(A_{l-1} W_l + b_l)``."""
    layers, activation = _network(est)
    A = scope.get_unique_variable_name("X")
    apply_cast(scope, operator.inputs[0].full_name, A, container, to=proto)
    dtype = _numpy_dtype(proto)
    for i, (W, b) in enumerate(layers):
        if i > 0:
            A = _node(scope, container, _ACTIVATIONS[activation], [A], "A")
        W_name = _constant(scope, container, "W", np.asarray(W, dtype=dtype), proto)
        b_name = _constant(scope, container, "b", np.asarray(b, dtype=dtype), proto)
        A = _node(scope, container, "Gemm", [A, W_name, b_name], "Z")
    return A


def _row_sum(scope, container, S):
    """Sum over axis 1, kept as a column (ReduceSum took its axes as an input at 13)."""
    if container.target_opset >= 13:
        axes = _constant(
            scope, container, "axes", np.array([1]), onnx_proto.TensorProto.INT64
        )
        return _node(scope, container, "ReduceSum", [S, axes], "row_sum", keepdims=1)
    return _node(scope, container, "ReduceSum", [S], "row_sum", axes=[1], keepdims=1)


def _probabilities(scope, container, Z, output, proto, out_name):
    """Write the class probabilities of output unit ``output`` to ``out_name``."""
    if output == "softmax":
        _write(scope, container, "Softmax", [Z], out_name, axis=1)
        return
    p = _node(scope, container, "Sigmoid", [Z], "sigmoid")
    if output == "multilabel":
        _write(scope, container, "Identity", [p], out_name)
    elif output == "binary":
        one = _scalar(scope, container, "one", 1.0, proto)
        q = _node(scope, container, "Sub", [one, p], "negative_class")
        _write(scope, container, "Concat", [q, p], out_name, axis=1)
    else:  # one-vs-rest: the sigmoids normalised to sum to one
        total = _row_sum(scope, container, p)
        _write(scope, container, "Div", [p, total], out_name)


def _labels(scope, container, est, Z, P_name, output, proto, out_name):
    """Write the predicted labels to ``out_name``, as ``predict`` computes them."""
    if output == "multilabel":
        half = _scalar(scope, container, "half", 0.5, proto)
        positive = _node(scope, container, "Greater", [P_name, half], "positive")
        apply_cast(
            scope, positive, out_name, container, to=onnx_proto.TensorProto.INT64
        )
        return
    if output == "binary":
        zero = _scalar(scope, container, "zero", 0.0, proto)
        positive = _node(scope, container, "Greater", [Z, zero], "positive")
        index = scope.get_unique_variable_name("index")
        apply_cast(scope, positive, index, container, to=onnx_proto.TensorProto.INT64)
        flat = scope.get_unique_variable_name("index_flat")
        apply_reshape(scope, index, flat, container, desired_shape=(-1,))
    else:
        flat = _node(scope, container, "ArgMax", [Z], "index", axis=1, keepdims=0)
    classes = np.asarray(get_label_classes(scope, est))
    if classes.dtype.kind in "biuf":
        classes_name = _constant(
            scope,
            container,
            "classes",
            classes.astype(np.int64),
            onnx_proto.TensorProto.INT64,
        )
    else:
        encoded = np.array([str(c).encode("utf-8") for c in classes])
        classes_name = _constant(
            scope, container, "classes", encoded, onnx_proto.TensorProto.STRING
        )
    _write(scope, container, "Gather", [classes_name, flat], out_name, axis=0)


# converters and shape calculators -------------------------------------------
def _convert_classifier(scope, operator, container):
    """skl2onnx converter for the classifiers: labels, then probabilities."""
    est = operator.raw_operator
    proto = _dtype(operator)
    output = _classifier_output(est)
    Z = _forward(scope, operator, container, est, proto)
    P_name = operator.outputs[1].full_name
    _probabilities(scope, container, Z, output, proto, P_name)
    _labels(
        scope, container, est, Z, P_name, output, proto, operator.outputs[0].full_name
    )


def _convert_regressor(scope, operator, container):
    """skl2onnx converter for the regressors: ``variable`` of shape (n, n_outputs)."""
    est = operator.raw_operator
    proto = _dtype(operator)
    Z = _forward(scope, operator, container, est, proto)
    op_type = (
        "Exp" if getattr(est, "out_activation_", "identity") == "exp" else "Identity"
    )
    _write(scope, container, op_type, [Z], operator.outputs[0].full_name)


def _calculate_classifier_shapes(operator):
    """skl2onnx's classifier shapes; a multilabel label is a (n, n_labels) matrix."""
    calculate_linear_classifier_output_shapes(operator)
    est = operator.raw_operator
    if _is_multilabel(est):
        N = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([N, _n_outputs(est)])


def _calculate_regressor_shapes(operator):
    """One float (or double, for double input) column per regression target."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    N = operator.inputs[0].get_first_dimension()
    is_double = isinstance(operator.inputs[0].type, DoubleTensorType)
    tensor_type = DoubleTensorType if is_double else FloatTensorType
    operator.outputs[0].type = tensor_type([N, _n_outputs(operator.raw_operator)])


def _register(estimator_class):
    """Register ``estimator_class`` with skl2onnx as a classifier or a regressor."""
    alias = f"Skbackprop{estimator_class.__name__}"
    if issubclass(estimator_class, ClassifierMixin):
        update_registered_converter(
            estimator_class,
            alias,
            _calculate_classifier_shapes,
            _convert_classifier,
            options=_CLASSIFIER_OPTIONS,
        )
    else:
        update_registered_converter(
            estimator_class, alias, _calculate_regressor_shapes, _convert_regressor
        )


_ESTIMATORS = (
    "SoftmaxClassifier",
    "LogisticRegressionGD",
    "MLPBackprop",
    "LinearRegressionGD",
    "MLPBackpropRegressor",
)

for _name in _ESTIMATORS:
    _register(getattr(skbackprop, _name))
