"""
============================================
Out-of-core training on a memory-mapped file
============================================

A data set that does not fit in memory can still be learned with
``partial_fit``: each call runs one epoch of mini-batch training over the chunk
it is given and keeps the optimizer's state (momentum, Adam's moments) for the
next call. Streaming the chunks of a file once is then one epoch over the whole
data, and memory holds one chunk at a time.

Here the data live in a :class:`numpy.memmap` on disk; only the rows of the
current chunk are paged in. :mod:`tracemalloc` (which sees every NumPy
allocation) shows that the peak memory of training stays a small fraction of
the file.
"""

# %%
# A data set on disk
# ------------------
# We write 500,000 samples of 20 float32 features (40 MB) chunk by chunk, so
# the full array never exists in memory, not even while it is created. The
# labels come from a noisy linear rule over three classes.
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skbackprop import SoftmaxClassifier

n_samples, n_features, chunk_size = 500_000, 20, 20_000
rng = np.random.RandomState(0)
true_coef = rng.normal(size=(n_features, 3))

workdir = tempfile.TemporaryDirectory()
X_path, y_path = Path(workdir.name, "X.npy"), Path(workdir.name, "y.npy")
X_file = np.lib.format.open_memmap(
    X_path, mode="w+", dtype=np.float32, shape=(n_samples, n_features)
)
y_file = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.int8, shape=(n_samples,))
for start in range(0, n_samples, chunk_size):
    X_chunk = rng.normal(size=(chunk_size, n_features)).astype(np.float32)
    noise = rng.gumbel(size=(chunk_size, 3))
    X_file[start : start + chunk_size] = X_chunk
    y_file[start : start + chunk_size] = (X_chunk @ true_coef + noise).argmax(axis=1)
X_file.flush()
y_file.flush()
del X_file, y_file

# Reopen read-only: nothing is read from disk until a chunk is sliced.
X = np.load(X_path, mmap_mode="r")
y = np.load(y_path, mmap_mode="r")
print(f"{type(X).__name__} of shape {X.shape}, {X.nbytes / 1e6:.0f} MB on disk")

# %%
# Streaming epochs with ``partial_fit``
# -------------------------------------
# The last chunk is held out for testing. ``classes`` must be given on the
# first call, since a chunk need not contain every class. The step size is set
# explicitly: with ``learning_rate_init='auto'`` the SGD step would be derived
# from the first chunk alone.
#
# Float32 chunks train in float32, so a chunk is used as it is mapped, without
# a copy.
train_stop = n_samples - chunk_size
X_test, y_test = np.asarray(X[train_stop:]), np.asarray(y[train_stop:])
classes = np.arange(3)

clf = SoftmaxClassifier(
    solver="sgd", learning_rate_init=0.05, batch_size=500, random_state=0
)
test_accuracy = []
tracemalloc.start()
for epoch in range(3):
    for start in range(0, train_stop, chunk_size):
        chunk = slice(start, start + chunk_size)
        clf.partial_fit(X[chunk], y[chunk], classes=classes)
    test_accuracy.append(clf.score(X_test, y_test))
    print(f"epoch {epoch + 1}: test accuracy {test_accuracy[-1]:.4f}")
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()

# %%
# Memory stays bounded
# --------------------
# The peak is set by one chunk (and its one-hot targets), not by the file.
print(
    f"peak memory while training: {peak / 1e6:.2f} MB "
    f"({100 * peak / X.nbytes:.1f}% of the {X.nbytes / 1e6:.0f} MB array)"
)

# %%
# ``loss_curve_`` holds one entry per ``partial_fit`` call, that is per chunk.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_loss.plot(clf.loss_curve_)
ax_loss.set(xlabel="chunk", ylabel="training loss", title="Loss per chunk")
ax_acc.plot(range(1, len(test_accuracy) + 1), test_accuracy, marker="o")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Held-out accuracy")
fig.tight_layout()
plt.show()

# %%
# Equivalence with ``fit``
# ------------------------
# With ``shuffle=False`` and chunk sizes that are multiples of ``batch_size``,
# ``E`` passes of ``partial_fit`` over the chunks visit the same mini-batches in
# the same order as ``fit(max_iter=E)`` on the whole array, so they reach the
# same parameters (to rounding). With ``shuffle=True`` each call shuffles its
# own chunk instead of the whole data: the same algorithm, a different sample
# order. The same loop runs unchanged on a Dask array through
# ``dask_ml.wrappers.Incremental``; see the "Scaling out" guide.
del X, y, X_test, y_test  # close the maps before removing the files
workdir.cleanup()
