"""Out-of-core training: ``partial_fit`` over chunks is ``fit`` over the whole data.

``partial_fit`` runs one epoch over the chunk it is given, keeping the
optimizer's state (momentum, Adam's moments and step count) between calls. So
with ``shuffle=False`` and chunks whose sizes are multiples of ``batch_size``,
streaming the chunks ``E`` times visits exactly the mini-batches that
``fit(max_iter=E)`` visits, in the same order, from the same initial weights:
the parameters must agree to rounding.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

BATCH_SIZE = 50
# uneven on purpose; every size a multiple of BATCH_SIZE
CHUNK_SIZES = [100, 250, 50, 200]
N_EPOCHS = 3

ESTIMATORS = {
    "softmax": lambda **kw: SoftmaxClassifier(**kw),
    "logistic": lambda **kw: LogisticRegressionGD(**kw),
    "mlp": lambda **kw: MLPBackprop(hidden_layer_sizes=(7,), activation="tanh", **kw),
}


def _parameters(est):
    if hasattr(est, "coefs_"):
        return [*est.coefs_, *est.intercepts_]
    return [est.coef_, est.intercept_]


def _chunks(n_samples):
    bounds = np.cumsum([0, *CHUNK_SIZES])
    assert bounds[-1] == n_samples
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_partial_fit_over_chunks_equals_fit(name, solver, weighted):
    X, y = make_classification(
        n_samples=sum(CHUNK_SIZES),
        n_features=6,
        n_informative=4,
        n_classes=3,
        random_state=0,
    )
    sample_weight = (
        np.random.RandomState(1).uniform(0.5, 2, y.size) if weighted else None
    )
    # A fixed step: with 'auto', partial_fit would derive the SGD step from the
    # first chunk only, fit from all the data.
    params = dict(
        solver=solver,
        batch_size=BATCH_SIZE,
        shuffle=False,
        max_iter=N_EPOCHS,
        n_iter_no_change=N_EPOCHS + 1,
        learning_rate_init=0.01,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        full = ESTIMATORS[name](**params).fit(X, y, sample_weight=sample_weight)

    streamed = ESTIMATORS[name](**params)
    classes = np.unique(y)
    for _ in range(N_EPOCHS):
        for chunk in _chunks(y.size):
            w = None if sample_weight is None else sample_weight[chunk]
            streamed.partial_fit(X[chunk], y[chunk], classes=classes, sample_weight=w)

    assert full.n_iter_ == N_EPOCHS
    assert streamed.t_ == full.t_ == N_EPOCHS * y.size
    pairs = zip(_parameters(full), _parameters(streamed), strict=True)
    for p_full, p_streamed in pairs:
        assert_allclose(p_streamed, p_full, rtol=1e-10, atol=1e-12)
    # the models moved away from their start: the comparison is not vacuous
    assert full.score(X, y) > 0.6
    assert_allclose(streamed.predict_proba(X), full.predict_proba(X), rtol=1e-10)


def _write_memmap(path, n_samples, n_features, chunk_size):
    """A float32 data file and its labels, written chunk by chunk."""
    rng = np.random.RandomState(0)
    W = rng.normal(size=(n_features, 3))
    X = np.lib.format.open_memmap(
        path / "X.npy", mode="w+", dtype=np.float32, shape=(n_samples, n_features)
    )
    y = np.lib.format.open_memmap(
        path / "y.npy", mode="w+", dtype=np.int8, shape=(n_samples,)
    )
    for start in range(0, n_samples, chunk_size):
        chunk = slice(start, start + chunk_size)
        X_chunk = rng.normal(size=(min(chunk_size, n_samples - start), n_features))
        X[chunk] = X_chunk
        y[chunk] = (X_chunk @ W + rng.gumbel(size=(X_chunk.shape[0], 3))).argmax(axis=1)
    X.flush()
    y.flush()
    del X, y
    return (
        np.load(path / "X.npy", mmap_mode="r"),
        np.load(path / "y.npy", mmap_mode="r"),
    )


def test_memmap_streaming_keeps_memory_bounded(tmp_path):
    n_samples, n_features, chunk_size = 200_000, 20, 4_000
    X, y = _write_memmap(tmp_path, n_samples, n_features, chunk_size)
    assert isinstance(X, np.memmap)
    array_bytes = X.nbytes  # 16 MB
    params = dict(
        solver="sgd",
        batch_size=200,
        shuffle=False,
        learning_rate_init=0.05,
        max_iter=1,
        random_state=0,
    )
    classes = np.arange(3)

    clf = SoftmaxClassifier(**params)
    tracemalloc.start()
    try:
        for start in range(0, n_samples, chunk_size):
            chunk = slice(start, start + chunk_size)
            clf.partial_fit(X[chunk], y[chunk], classes=classes)
        _, streaming_peak = tracemalloc.get_traced_memory()
        # the measurement sees numpy buffers: a full copy registers
        tracemalloc.reset_peak()
        copy = np.array(X)
        _, copy_peak = tracemalloc.get_traced_memory()
        del copy
    finally:
        tracemalloc.stop()

    assert copy_peak >= array_bytes
    assert streaming_peak < array_bytes / 10, (streaming_peak, array_bytes)
    assert clf.t_ == n_samples
    # and streaming the file is the same training as fitting it in memory
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = SoftmaxClassifier(**params).fit(np.asarray(X), np.asarray(y))
    assert_allclose(clf.coef_, in_memory.coef_, rtol=1e-6, atol=1e-7)  # float32
    assert clf.coef_.dtype == np.float32
    assert clf.score(X[-20_000:], y[-20_000:]) > 0.7
