"""The math runs on any engine: the plain reference engine (NumPy calls that
allocate freely) and the fast NumPy engine give the same losses and gradients,
and the gradients are those of the objective (finite differences)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skbackprop._engine import NumPyEngine, ReferenceEngine
from skbackprop._network import ACTIVATIONS, Objective
from skbackprop._outputs import Logistic, Multilabel, Softmax
from skbackprop._params import Layout
from skbackprop._solvers import Adam, MomentumSGD

OUTPUTS = {
    "softmax": (Softmax(4), 4),
    "binary": (Logistic(2), 1),
    "one-vs-rest": (Logistic(4), 4),
    "multilabel": (Multilabel(4), 4),
}


def _problem(output, n_outputs, hidden, dtype, seed=0, n=37):
    rng = np.random.default_rng(seed)
    layout = Layout([5, *hidden, n_outputs])
    theta = (0.5 * rng.standard_normal(layout.size)).astype(dtype)
    X = rng.standard_normal((n, 5)).astype(dtype)
    if isinstance(output, Multilabel):
        y = (rng.uniform(size=(n, n_outputs)) < 0.4).astype(int)
    else:
        y = rng.integers(output.n_outputs if n_outputs > 1 else 2, size=n)
        y = y.astype(np.uint8)
    T = output.targets(y, dtype)
    w = rng.uniform(0.1, 2.0, n).astype(dtype)
    return layout, theta, X, T, w


def _evaluate(engine, layout, activation, output, theta, X, T, w, alpha_per_sum):
    objective = Objective(layout, activation, output, 1e-2, alpha_per_sum, engine)
    grad = np.full_like(theta, np.nan)
    loss = objective(theta, X, T, w, grad)
    return loss, grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (6, 3)])
@pytest.mark.parametrize("output_name", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_reference_and_numpy_engines_agree(
    dtype, activation, hidden, output_name, weighted
):
    output, n_outputs = OUTPUTS[output_name]
    layout, theta, X, T, w = _problem(output, n_outputs, hidden, dtype)
    w = w if weighted else None
    results = [
        _evaluate(engine, layout, activation, output, theta, X, T, w, bool(hidden))
        for engine in (ReferenceEngine(), NumPyEngine())
    ]
    (loss_ref, grad_ref), (loss, grad) = results
    assert np.isfinite(grad).all() and grad.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(loss_ref, rel=rtol)
    assert_allclose(grad, grad_ref, rtol=rtol, atol=rtol * np.abs(grad_ref).max())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output_name", sorted(OUTPUTS))
def test_reference_engine_gradient_matches_finite_differences(activation, output_name):
    # the reference engine is not trusted on its own word either
    output, n_outputs = OUTPUTS[output_name]
    layout, theta, X, T, w = _problem(output, n_outputs, (4,), np.float64, n=11)
    engine = ReferenceEngine()
    _, grad = _evaluate(engine, layout, activation, output, theta, X, T, w, True)
    eps = 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        up, _ = _evaluate(
            engine, layout, activation, output, theta + step, X, T, w, True
        )
        down, _ = _evaluate(
            engine, layout, activation, output, theta - step, X, T, w, True
        )
        numeric[i] = (up - down) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("Rule", [MomentumSGD, Adam])
def test_update_rules_step_alike_on_both_engines(Rule):
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(50)
    grads = rng.standard_normal((5, 50))
    results = []
    for engine in (ReferenceEngine(), NumPyEngine()):
        rule, point = Rule(50, np.float64, 0.01), theta.copy()
        for grad in grads:
            rule.step(point, grad, engine)
        results.append(point)
    assert_allclose(results[0], results[1], rtol=1e-13)
