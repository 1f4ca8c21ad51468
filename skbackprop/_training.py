"""The training loop: batches -> forward -> loss -> backward -> update -> stop?

Two drivers share the stopping rules, the divergence guard and the record of
progress: :func:`run_stochastic` for ``'gd'``, ``'sgd'`` and ``'adam'`` (an
epoch is one pass over the data; ``'gd'`` takes the whole data as one batch)
and :func:`run_lbfgs`, where scipy's L-BFGS-B drives the iterations.
"""

import contextlib
import functools
import math
import os
import warnings
from concurrent import futures
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from ._blas import SINGLE_THREAD_BELOW, CSRRows, csr_rows_apply, gather_csr_rows
from ._solvers import BarzilaiBorwein

# A loss this many times larger than the first loss of the training (or than 1)
# is taken as divergence: a stable step never multiplies the loss like this.
_EXPLOSION_FACTOR = 1e8


@dataclass
class Record:
    """What training has seen so far; kept between ``partial_fit`` calls.

    Mirrors the attributes of ``MLPClassifier`` (``loss_curve_``, ``best_loss_``,
    ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``).
    """

    tol: float = 1e-4
    early_stopping: bool = False
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list = field(default_factory=list)
    best_validation_score: float = -np.inf
    best_theta: np.ndarray = None
    no_improvement_count: int = 0
    n_iter: int = 0
    t: int = 0

    def end_epoch(self, loss, theta, validation_score):
        """Log an epoch and update the no-improvement count (scikit-learn's rule)."""
        self.loss_curve.append(loss)
        self.n_iter += 1
        if self.early_stopping:
            self.validation_scores.append(validation_score)
            if validation_score < self.best_validation_score + self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            if validation_score > self.best_validation_score:
                self.best_validation_score = validation_score
                self.best_theta = theta.copy()
        else:
            if loss > self.best_loss - self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            self.best_loss = min(self.best_loss, loss)


def divergence_error(epoch, loss, learning_rate_init):
    """The ValueError raised when training diverges."""
    return ValueError(
        f"Training diverged at iteration {epoch}: the loss became {loss:.3g}. "
        f"The step size is too large for this data: lower learning_rate_init "
        f"(currently {learning_rate_init!r}) or standardise the features."
    )


def _lbfgs_divergence_error(loss):
    return ValueError(
        f"L-BFGS reached a non-finite objective ({loss}); standardise the features "
        "or increase alpha (learning_rate_init does not apply to solver='lbfgs')."
    )


def _check_loss(loss, reference, epoch, optimizer):
    if not math.isfinite(loss) or loss > _EXPLOSION_FACTOR * max(reference, 1.0):
        raise divergence_error(epoch, loss, optimizer.learning_rate_init)


def _all_finite(theta):
    """``np.isfinite(theta).all()`` without its boolean array: NaN and
    infinities show in the extremes."""
    return math.isfinite(theta.max(initial=0.0)) and math.isfinite(
        theta.min(initial=0.0)
    )


def _batches(n_samples, batch_size, order):
    """Index objects of the batches of an epoch: slices, or index arrays."""
    for start in range(0, n_samples, batch_size):
        batch = slice(start, min(start + batch_size, n_samples))
        yield batch if order is None else order[batch]


@functools.cache
def _threadpool_controller():
    return ThreadpoolController()


def _small_products(objective, batch_size, sparse_input=False):
    """Whether a batch's largest BLAS product is too small for BLAS threads.

    ``batch_size``: the rows of its products, a block's for a batch evaluated
    by blocks of rows (:meth:`Objective.block_rows`).

    With ``sparse_input``, the first layer's products are scipy's sparse
    kernels, not BLAS (they run on one thread anyway): only the later layers
    count, and a linear model has none.
    """
    units = objective.layout.layer_units[1 if sparse_input else 0 :]
    largest = batch_size * max(
        (a * b for a, b in zip(units[:-1], units[1:], strict=True)), default=0
    )
    return largest < SINGLE_THREAD_BELOW


def _blas_of_numpy_and_others():
    """Paths of the BLAS libraries NumPy's products use, and of the others.

    Wheels of NumPy and SciPy bundle one OpenBLAS each; the optimizers' in-place
    steps (:mod:`skbackprop._blas`) and L-BFGS-B run on SciPy's. With both
    pools threaded, their idle threads spin against each other between calls:
    an epoch of a (1000,)-unit network on 4000 x 1000 samples took 2.0-2.3 s,
    against 0.8-1.1 s with SciPy's pool on one thread (2 cores). NumPy's are
    told apart by the folder its bundled libraries live in; with one shared
    BLAS (e.g. conda) every library counts as NumPy's.
    """
    paths = [
        lib.filepath
        for lib in _threadpool_controller().select(user_api="blas").lib_controllers
    ]
    numpys = [p for p in paths if "numpy" in os.path.basename(os.path.dirname(p))]
    if not numpys:
        return paths, []
    return numpys, [p for p in paths if p not in numpys]


def _blas_threads(objective, batch_size, sparse_input=False):
    """One BLAS thread for small batch products; else the user's setting for
    NumPy's products and one thread for any other BLAS (a context manager)."""
    if _small_products(objective, batch_size, sparse_input):
        return _threadpool_controller().limit(limits=1, user_api="blas")
    _, others = _blas_of_numpy_and_others()
    if others:
        return _threadpool_controller().select(filepath=others).limit(limits=1)
    return contextlib.nullcontext()


def _rows(A, batch, buffers, key):
    """Rows ``batch`` (a slice or an index array) of ``A``, without new arrays
    where the data allow.

    A slice of a dense array is a view; a CSR matrix's rows are read in place
    (:class:`CSRRows`). Other rows are gathered into reused buffers: for a dense
    array by ``np.take`` with ``mode='clip'``, which writes straight into one
    (about twice as fast as ``A[batch]``, and it allocates nothing, unlike one
    shuffled copy of ``A`` per epoch), for a CSR matrix by
    :func:`gather_csr_rows`. Anything else (CSC) is indexed as usual.
    """
    if A is None:
        return None
    if not isinstance(A, np.ndarray):
        if not csr_rows_apply(A, A.dtype):
            return A[batch]
        if isinstance(batch, slice):
            return CSRRows.block(A, batch.start, batch.stop)
        return gather_csr_rows(A, batch, buffers)
    if isinstance(batch, slice):
        return A[batch]
    shape = (batch.size, *A.shape[1:])
    out = buffers.get((key, shape))
    if out is None:
        out = buffers[(key, shape)] = np.empty(shape, dtype=A.dtype)
    return A.take(batch, axis=0, out=out, mode="clip")


def run_stochastic(
    objective,
    theta,
    optimizer,
    X,
    T,
    sample_weight,
    *,
    record,
    batch_size,
    shuffle,
    rng,
    max_iter,
    n_iter_no_change,
    incremental=False,
    validation_score=None,
    verbose=0,
    on_epoch=None,
):
    """Train ``theta`` in place with a first-order optimizer.

    Parameters
    ----------
    objective : Objective
    theta : ndarray of shape (n_params,)
        Updated in place.
    optimizer : GradientDescent
    X, T, sample_weight : training data, targets and raw weights (or None).
    record : Record
    batch_size : int
    shuffle : bool
        Shuffle the samples every epoch (not when one batch holds them all).
    rng : numpy.random.RandomState
    max_iter : int
        Epochs at most; ``incremental`` runs exactly one.
    n_iter_no_change : int
    incremental : bool, default=False
    validation_score : callable, default=None
        ``theta -> score`` on held-out data, for early stopping.
    verbose : int, default=0
    on_epoch : callable, default=None
        Called as ``on_epoch(theta, record)`` after each epoch; a true return
        stops training.

    Returns
    -------
    stopped : bool
        Whether a stopping rule (not ``max_iter``) ended training.
    """
    n_samples = X.shape[0]
    grad = np.empty_like(theta)
    order = None
    if shuffle and batch_size < n_samples:
        # the index dtype its gathers take: a CSR matrix's own (int32 mostly,
        # half of intp's memory), else intp (np.take casts any other, +0.45 us
        # a batch)
        index_dtype = X.indptr.dtype if csr_rows_apply(X, X.dtype) else np.intp
        order = np.arange(n_samples, dtype=index_dtype)
    # the first loss of the training (of this call on a first fit), to detect
    # explosion: partial_fit calls of a single batch each must not each reset it
    reference = record.loss_curve[0] if record.loss_curve else None
    batch_buffers = {}
    searching = isinstance(optimizer, BarzilaiBorwein)
    if searching:
        optimizer.restart()  # its memory belongs to the data of one call
    # the parameters after the last complete epoch, restored on Ctrl-C; a
    # searching optimizer holds them already (the start of its step)
    last_good = None if searching else theta.copy()

    def search_epoch():
        """One full-batch step whose size the optimizer searches; returns the
        loss before the step."""
        nonlocal reference
        loss = optimizer.take_evaluated_loss()
        if loss is None:
            loss = objective(theta, X, T, sample_weight, grad)
        reference = loss if reference is None else reference
        _check_loss(loss, reference, record.n_iter + 1, optimizer)
        optimizer.search_step(
            theta, grad, loss, lambda at, g: objective(at, X, T, sample_weight, g)
        )
        if not _all_finite(theta):
            _check_loss(np.inf, 0.0, record.n_iter + 1, optimizer)
        if optimizer.evaluated_loss is not None:  # the new point's, known already
            _check_loss(
                optimizer.evaluated_loss, reference, record.n_iter + 1, optimizer
            )
        return loss

    def epoch():
        """One pass over the data; returns the mean of the batch losses."""
        nonlocal reference
        if order is not None:
            rng.shuffle(order)
        accumulated_loss = 0.0
        for batch in _batches(n_samples, batch_size, order):
            X_batch = _rows(X, batch, batch_buffers, "X")
            T_batch = _rows(T, batch, batch_buffers, "T")
            w = _rows(sample_weight, batch, batch_buffers, "w")
            # forward, loss and backward
            loss = objective(theta, X_batch, T_batch, w, grad)
            reference = loss if reference is None else reference
            _check_loss(loss, reference, record.n_iter + 1, optimizer)
            accumulated_loss += loss * X_batch.shape[0]
            # update
            optimizer.step(theta, grad)
        if not _all_finite(theta):
            _check_loss(np.inf, 0.0, record.n_iter + 1, optimizer)
        return accumulated_loss / n_samples

    try:
        with (
            np.errstate(over="ignore", invalid="ignore"),
            _blas_threads(
                objective,
                min(batch_size, objective.block_rows(X, theta.dtype)),
                sparse.issparse(X),
            ),
        ):
            for _ in range(1 if incremental else max_iter):
                if searching:
                    loss = search_epoch()
                    optimizer.end_step()
                else:
                    loss = epoch()
                    last_good[...] = theta
                record.t += n_samples
                score = None if validation_score is None else validation_score(theta)
                record.end_epoch(loss, theta, score)
                _report(verbose, record)
                optimizer.iteration_ends(record.t)
                if _should_stop(
                    record, optimizer, n_iter_no_change, verbose, on_epoch, theta
                ):
                    return True
    except KeyboardInterrupt:
        if searching:
            optimizer.undo_step(theta)
        else:
            theta[...] = last_good
        warnings.warn("Training interrupted by user.", UserWarning, stacklevel=3)
        return True
    finally:
        if searching:
            optimizer.release()
    if not incremental:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and "
            "the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return False


def _should_stop(record, optimizer, n_iter_no_change, verbose, on_epoch, theta):
    """The stopping rules checked after each epoch."""
    if on_epoch is not None and on_epoch(theta, record):
        return True
    if record.no_improvement_count <= n_iter_no_change:
        return False
    what = "Validation score" if record.early_stopping else "Training loss"
    msg = (
        f"{what} did not improve more than tol={record.tol:f} for "
        f"{n_iter_no_change} consecutive epochs."
    )
    if optimizer.trigger_stopping(msg, verbose):
        return True
    record.no_improvement_count = 0
    return False


def _report(verbose, record):
    if verbose:
        print(f"Iteration {record.n_iter}, loss = {record.loss_curve[-1]:.8f}")
        if record.early_stopping:
            print(f"Validation score: {record.validation_scores[-1]:f}")


@contextlib.contextmanager
def _block_threads(objective, X, dtype, user_threads):
    """A second thread for the blocks of rows of a sparse full batch (a
    context manager that sets and clears ``objective.pool``).

    SciPy's sparse kernels, the products of a sparse ``X``, run on one thread
    and release the GIL. With two threads each summing half of the blocks, a
    CSR 40k x 20k (0.5 % dense, 20 classes) L-BFGS fit of 44 iterations took
    1.9 s instead of 2.5 in float32, 2.6 s instead of 3.8 in float64 (medians
    of 5 on 2 shared cores). The second thread adds a gradient-sized vector
    and a block's arrays, beside L-BFGS-B's 25 such vectors; the searched
    'gd' step, which holds four, stays on one thread. Dense blocks (an MLP)
    keep one thread too: their products are BLAS calls, and their arrays
    would count against ``X``. One thread where the user allows BLAS one.
    """
    blocked = objective.block_rows(X, dtype) < X.shape[0]
    if user_threads < 2 or not (blocked and sparse.issparse(X)):
        yield
        return
    with futures.ThreadPoolExecutor(1, thread_name_prefix="skbackprop") as pool:
        objective.pool = pool
        try:
            yield
        finally:
            objective.pool = None


def run_lbfgs(
    objective,
    theta,
    X,
    T,
    sample_weight,
    *,
    record,
    max_iter,
    max_fun,
    tol,
    ftol=None,
    precondition=None,
    verbose=0,
    on_epoch=None,
):
    """Minimise the objective with scipy's L-BFGS-B, starting from ``theta``.

    ``theta`` is overwritten with the solution. Every L-BFGS iteration is an
    entry of ``record.loss_curve``.

    Parameters
    ----------
    objective : Objective
    theta : ndarray of shape (n_params,)
    X, T, sample_weight : training data, targets and raw weights (or None).
    record : Record
    max_iter, max_fun : int
        scipy's ``maxiter`` and ``maxfun``.
    tol : float
        Gradient tolerance (``gtol``).
    ftol : float, default=None
        Relative function-decrease tolerance; None keeps scipy's default.
    precondition : ndarray of shape (n_params,), default=None
        Diagonal change of variables ``theta = precondition * u``: L-BFGS-B
        runs on ``u``. Its first trial step has norm 1, which is far too long
        for weights that multiply huge features; dividing those weights by the
        feature's scale makes that step sensible. The optimum is unchanged.
    verbose : int, default=0
    on_epoch : callable, default=None
        As in :func:`run_stochastic`.

    Returns
    -------
    loss : float
        The objective at the solution.
    """
    grad = np.empty_like(theta)
    work = theta.copy()
    d = precondition
    evaluated = {}  # the first loss, and the last point evaluated (if scaled)

    def to_theta(u):
        """The parameters at L-BFGS-B's point ``u``."""
        return u if d is None else d * u

    # L-BFGS-B's own vector updates (a few dot products and axpys over
    # n_params, m = 10 times) run on one BLAS thread: measured on 2 busy
    # cores, 15 -> 7 ms a call for 400k parameters. Large dense objective
    # products get the user's threads back inside the objective; a sparse
    # linear model has none, only vector-sized BLAS calls, and waking the
    # threads for those costs far more than they save: measured on 2 busy
    # cores (CSR 40k x 20k, 0.5% dense, 20 classes, float32), the woken
    # threads spun on the second core, so that scipy's single-threaded sparse
    # products ran at half speed (19 -> 41 ms each), the row sums of the
    # softmax took 30 ms instead of 4, the penalty's axpy 12 ms instead of
    # 0.06, and the fit 9.4 s instead of 3.1.
    blas = _threadpool_controller().select(user_api="blas")
    user_threads = max((lib["num_threads"] for lib in blas.info()), default=1)
    rows = objective.block_rows(X, theta.dtype)  # of the largest products
    if _small_products(objective, rows, sparse.issparse(X)) or user_threads == 1:
        objective_threads = contextlib.nullcontext
    else:
        # NumPy's products get the user's threads; SciPy's pool (the penalty's
        # axpy) stays on one, see _blas_of_numpy_and_others
        numpys, _ = _blas_of_numpy_and_others()
        objective_threads = functools.partial(
            _threadpool_controller().select(filepath=numpys).limit,
            limits=user_threads,
        )

    def fun(u):
        if d is None:
            work[...] = u
        else:
            np.multiply(d, u, out=work, casting="same_kind")
        with objective_threads():
            loss = objective(work, X, T, sample_weight, grad)
        evaluated.setdefault("start_loss", loss)
        if d is None:  # a new float64 array, as L-BFGS-B keeps it
            return loss, grad.astype(np.float64)
        evaluated["u"] = u.copy()  # for converged
        return loss, d * grad

    def converged(u):
        """``max |dJ/dtheta| <= tol``: the stopping rule, on the true gradient."""
        if not np.array_equal(evaluated["u"], u):
            fun(u)
        return np.abs(grad).max(initial=0.0) <= tol

    def callback(intermediate_result):
        if not np.isfinite(intermediate_result.fun):
            return
        theta[...] = to_theta(intermediate_result.x)
        record.end_epoch(float(intermediate_result.fun), theta, None)
        _report(verbose, record)
        if on_epoch is not None and on_epoch(theta, record):
            raise StopIteration
        if d is not None and converged(intermediate_result.x):
            raise StopIteration

    # scipy's gtol tests the gradient in the preconditioned variables u,
    # d * dJ/dtheta. With gtol = tol * min(d) it stops only where the true rule
    # max |dJ/dtheta| <= tol holds too (at the start as well); the callback
    # tests the true rule at every iteration.
    gtol = tol if d is None else tol * float(d.min(initial=1.0))
    options = {"maxiter": max_iter, "maxfun": max_fun, "gtol": gtol}
    if ftol is not None:
        options.update(ftol=ftol, maxls=50)
    start = theta.astype(np.float64) if d is None else theta / d
    try:
        with (
            np.errstate(over="ignore", invalid="ignore"),
            blas.limit(limits=1),
            _block_threads(objective, X, theta.dtype, user_threads),
        ):
            result = scipy.optimize.minimize(
                fun,
                start,
                method="L-BFGS-B",
                jac=True,
                options=options,
                callback=callback,
            )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", UserWarning, stacklevel=3)
        return record.loss_curve[-1] if record.loss_curve else np.nan
    if not np.isfinite(result.fun) or not np.isfinite(result.x).all():
        raise _lbfgs_divergence_error(result.fun)
    start_loss = evaluated["start_loss"]
    if result.fun > start_loss:
        # a failed first line search (its trial step has norm 1, far too long
        # when the gradient is huge, e.g. features of magnitude 1e150) can end
        # on a point worse than the start: keep the start instead
        theta[...] = to_theta(start)
        warnings.warn(
            f"lbfgs made no progress ({result.message}); the parameters are left "
            "where they started. Scale the data (e.g. StandardScaler) or use "
            "solver='gd'.",
            ConvergenceWarning,
            stacklevel=3,
        )
        return float(start_loss)
    theta[...] = to_theta(result.x)
    if result.status == 1:
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iterations "
            f"(status={result.status}): {result.message}. Increase max_iter "
            "(or max_fun), or scale the data.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return float(result.fun)
