"""The pure formulas of skbackprop.gradients.

Expected values are computed independently here (np.log / np.exp on small
inputs, or central finite differences of the returned loss), never with the
functions under test.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skbackprop import gradients


def _one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


@pytest.fixture
def scores():
    rng = np.random.RandomState(0)
    S = rng.normal(scale=3.0, size=(7, 4))
    labels = rng.randint(0, 4, size=7)
    return S, _one_hot(labels, 4)


# softmax / log_softmax / sigmoid -------------------------------------------


def test_softmax_rows_sum_to_one_and_match_definition(scores):
    S, _ = scores
    P = gradients.softmax(S)
    assert P.shape == S.shape
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    E = np.exp(S)  # the naive formula is fine at this scale
    assert_allclose(P, E / E.sum(axis=1, keepdims=True), rtol=1e-12)
    assert_allclose(
        gradients.log_softmax(S),
        np.log(E / E.sum(axis=1, keepdims=True)),
        rtol=1e-12,
        atol=1e-12,
    )


def test_softmax_shift_invariance(scores):
    S, _ = scores
    shifts = np.array([[-1e3], [0.0], [5.0], [1e3], [-20.0], [7.5], [1e5]])
    assert_allclose(
        gradients.softmax(S + shifts), gradients.softmax(S), rtol=1e-9, atol=1e-15
    )
    assert_allclose(
        gradients.log_softmax(S + shifts),
        gradients.log_softmax(S),
        rtol=1e-9,
        atol=1e-9,
    )


def test_softmax_hand_example():
    P = gradients.softmax([[0.0, np.log(3.0)]])
    assert_allclose(P, [[0.25, 0.75]], rtol=1e-12)
    assert_allclose(
        gradients.log_softmax([[0.0, np.log(3.0)]]),
        [[np.log(0.25), np.log(0.75)]],
        rtol=1e-12,
    )


@pytest.mark.parametrize("magnitude", [1e10, 1e100, 1e300])
def test_stable_for_huge_scores_without_warnings(magnitude):
    S = np.array(
        [
            [magnitude, 0.0, -magnitude],
            [-magnitude, -magnitude, -magnitude],
            [magnitude, magnitude, 0.0],
            [-magnitude, 1.0, 2.0],
        ]
    )
    Y = _one_hot([2, 0, 1, 0], 3)
    z = np.array([magnitude, -magnitude, 0.0, magnitude])
    y = np.array([0.0, 1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="warn", invalid="warn", divide="warn"):
            P = gradients.softmax(S)
            log_P = gradients.log_softmax(S)
            p = gradients.sigmoid(z)
            loss, dS = gradients.softmax_cross_entropy(S, Y)
            bloss, dz = gradients.binary_cross_entropy(z, y)
    for a in (P, log_P, p, dS, dz):
        assert np.all(np.isfinite(a))
    assert np.isfinite(loss) and np.isfinite(bloss)
    assert_allclose(P.sum(axis=1), 1.0)
    assert_allclose(P[0], [1.0, 0.0, 0.0])
    assert_allclose(P[1], [1 / 3, 1 / 3, 1 / 3])
    assert_allclose(P[2], [0.5, 0.5, 0.0])
    assert_allclose(p, [1.0, 0.0, 0.5, 1.0])
    # -log p of the true class, row by row: its score's distance below the
    # top score plus log of the number of (near-)tied top scores
    expected = np.mean(
        [2 * magnitude, np.log(3), np.log(2), magnitude + 2 + np.log1p(np.exp(-1.0))]
    )
    assert_allclose(loss, expected, rtol=1e-12)


@pytest.mark.parametrize("func", [gradients.softmax, gradients.log_softmax])
def test_float32_kept_softmax(func, scores):
    S, _ = scores
    out = func(S.astype(np.float32))
    assert out.dtype == np.float32
    assert_allclose(out, func(S), rtol=1e-5, atol=1e-6)


def test_float32_kept_losses(scores):
    S, Y = scores
    S32, Y32 = S.astype(np.float32), Y.astype(np.float32)
    loss, dS = gradients.softmax_cross_entropy(S32, Y32)
    assert dS.dtype == np.float32
    assert gradients.sigmoid(S32).dtype == np.float32
    bloss, dz = gradients.binary_cross_entropy(
        S32[:, 0], Y32[:, 0], sample_weight=np.ones(7, np.float32)
    )
    assert dz.dtype == np.float32
    assert_allclose(loss, gradients.softmax_cross_entropy(S, Y)[0], rtol=1e-5)


def test_sigmoid_matches_definition():
    z = np.linspace(-30, 30, 61)
    assert_allclose(gradients.sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-12)


# losses: hand-computed values ---------------------------------------------


def test_softmax_cross_entropy_hand_example():
    S = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    Y = _one_hot([0, 2], 3)
    e = np.exp([1.0, 2.0, 3.0])
    p0 = e / e.sum()
    p1 = np.full(3, 1 / 3)
    loss, dS = gradients.softmax_cross_entropy(S, Y)
    assert_allclose(loss, (-np.log(p0[0]) - np.log(1 / 3)) / 2, rtol=1e-12)
    assert_allclose(dS, np.array([p0 - [1, 0, 0], p1 - [0, 0, 1]]) / 2, rtol=1e-12)

    # weights 3 and 1, normalised to 3/4 and 1/4
    loss, dS = gradients.softmax_cross_entropy(S, Y, sample_weight=[3.0, 1.0])
    assert_allclose(loss, 0.75 * -np.log(p0[0]) + 0.25 * -np.log(1 / 3), rtol=1e-12)
    assert_allclose(
        dS, np.array([0.75 * (p0 - [1, 0, 0]), 0.25 * (p1 - [0, 0, 1])]), rtol=1e-12
    )


def test_binary_cross_entropy_hand_example():
    z = np.array([2.0, -1.0, 0.5])
    y = np.array([1.0, 1.0, 0.0])
    p = 1 / (1 + np.exp(-z))
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss, dz = gradients.binary_cross_entropy(z, y)
    assert_allclose(loss, per_sample.mean(), rtol=1e-12)
    assert_allclose(dz, (p - y) / 3, rtol=1e-12)

    w = np.array([1.0, 2.0, 5.0])
    loss, dz = gradients.binary_cross_entropy(z, y, sample_weight=w)
    assert_allclose(loss, per_sample @ (w / 8), rtol=1e-12)
    assert_allclose(dz, w / 8 * (p - y), rtol=1e-12)


def test_binary_cross_entropy_several_units_sums_over_units():
    rng = np.random.RandomState(1)
    Z = rng.normal(size=(5, 3))
    Ytr = (rng.rand(5, 3) > 0.5).astype(float)
    P = 1 / (1 + np.exp(-Z))
    per = -(Ytr * np.log(P) + (1 - Ytr) * np.log(1 - P))
    loss, dZ = gradients.binary_cross_entropy(Z, Ytr)
    assert dZ.shape == Z.shape
    assert_allclose(loss, per.sum(axis=1).mean(), rtol=1e-12)
    assert_allclose(dZ, (P - Ytr) / 5, rtol=1e-12)


def test_unit_weights_equal_no_weights(scores):
    S, Y = scores
    loss, dS = gradients.softmax_cross_entropy(S, Y)
    loss_w, dS_w = gradients.softmax_cross_entropy(S, Y, sample_weight=np.full(7, 4.0))
    assert_allclose(loss_w, loss, rtol=1e-12)
    assert_allclose(dS_w, dS, rtol=1e-12)


def test_weights_act_like_repeated_samples(scores):
    S, Y = scores
    w = np.array([1, 2, 0, 3, 1, 1, 2])
    loss_w, dS_w = gradients.softmax_cross_entropy(S, Y, sample_weight=w)
    idx = np.repeat(np.arange(7), w)
    loss_r, dS_r = gradients.softmax_cross_entropy(S[idx], Y[idx])
    assert_allclose(loss_w, loss_r, rtol=1e-12)
    # each sample's gradient is the sum of its copies' gradients
    summed = np.zeros_like(dS_w)
    np.add.at(summed, idx, dS_r)
    assert_allclose(dS_w, summed, rtol=1e-12, atol=1e-15)


# gradients against central finite differences ------------------------------


def _numeric_grad(f, S, eps=1e-6):
    G = np.zeros_like(S)
    for index in np.ndindex(S.shape):
        plus, minus = S.copy(), S.copy()
        plus[index] += eps
        minus[index] -= eps
        G[index] = (f(plus) - f(minus)) / (2 * eps)
    return G


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_cross_entropy_gradient_finite_differences(scores, weighted):
    S, Y = scores
    w = np.random.RandomState(3).uniform(0.1, 5.0, size=7) if weighted else None
    _, dS = gradients.softmax_cross_entropy(S, Y, sample_weight=w)
    numeric = _numeric_grad(lambda s: gradients.softmax_cross_entropy(s, Y, w)[0], S)
    assert_allclose(dS, numeric, rtol=1e-6, atol=1e-9)
    # and it is the contract's formula: w_normalised * (P - Y)
    E = np.exp(S - S.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    w_norm = np.full(7, 1 / 7) if w is None else w / w.sum()
    assert_allclose(dS, w_norm[:, None] * (P - Y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6,), (6, 3)])
def test_binary_cross_entropy_gradient_finite_differences(weighted, shape):
    rng = np.random.RandomState(4)
    z = rng.normal(scale=2.0, size=shape)
    y = (rng.rand(*shape) > 0.5).astype(float)
    w = rng.uniform(0.1, 5.0, size=6) if weighted else None
    _, dz = gradients.binary_cross_entropy(z, y, sample_weight=w)
    numeric = _numeric_grad(lambda v: gradients.binary_cross_entropy(v, y, w)[0], z)
    assert_allclose(dz, numeric, rtol=1e-6, atol=1e-9)


# the central identity: logistic = two-class softmax with the negative logit at 0


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_is_two_class_softmax_with_zero_negative_logit(weighted):
    rng = np.random.RandomState(5)
    z = rng.normal(scale=4.0, size=9)
    y = (rng.rand(9) > 0.5).astype(float)
    w = rng.uniform(0.1, 3.0, size=9) if weighted else None
    S = np.column_stack([np.zeros(9), z])
    Y = np.column_stack([1 - y, y])
    loss_b, dz = gradients.binary_cross_entropy(z, y, sample_weight=w)
    loss_s, dS = gradients.softmax_cross_entropy(S, Y, sample_weight=w)
    assert_allclose(loss_b, loss_s, rtol=1e-12)
    assert_allclose(dz, dS[:, 1], rtol=1e-10, atol=1e-15)
    assert_allclose(gradients.sigmoid(z), gradients.softmax(S)[:, 1], rtol=1e-12)
