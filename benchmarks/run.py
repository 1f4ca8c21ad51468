"""Benchmark skbackprop against the scikit-learn estimators it replaces.

Each case pairs a skbackprop estimator with its scikit-learn peer on the same
data and hyper-parameters; the two are fitted **alternately** in one process
(ours, peer, ours, peer, ...) so that both see the same machine load, and the
script prints medians and ratios (skbackprop / peer). Results, the BLAS kernel
and thread counts (threadpoolctl) and the versions go to a JSON file.

Usage::

    python benchmarks/run.py --quick
    python benchmarks/run.py --workload dense --dtype float32 --repeats 5

See benchmarks/README.md for what each case measures.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
import threadpoolctl
from scipy import sparse
from sklearn.base import is_regressor
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.metrics import accuracy_score, log_loss, r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import skbackprop  # noqa: E402
from skbackprop import (  # noqa: E402
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)

RESULTS = Path(__file__).resolve().parent / "results"
# L2 strength of the linear models (LogisticRegression: C = 1/(alpha n);
# Ridge: alpha_ridge = alpha n; SGDRegressor: the same alpha)
ALPHA = 1e-4
GAP = 1e-3  # "reached the optimum": objective within this of the optimum
SAME_OBJECTIVE = 1e-6  # two objectives this close count as the same


# Workloads ----------------------------------------------------------------
# name -> (full size, quick size); each loader returns X, y


def _digits(n):
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _breast_cancer(n):
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _dense(n):
    return make_classification(
        n, 100, n_informative=50, n_classes=10, n_clusters_per_class=1, random_state=0
    )


def _binary(n):
    return make_classification(n, 50, n_informative=20, random_state=0)


def _regression(n):
    """One standardised, noisy target (test R² about 0.6): the optimum's
    objective is about 0.2, so the gap 1e-3 weighs as in the classifiers'."""
    X, y = make_regression(n, 100, n_informative=50, noise=300.0, random_state=0)
    return X, (y - y.mean()) / y.std()


def _sparse(n):
    n_features, n_classes = 20_000 if n > 10_000 else 5_000, 20
    rng = np.random.default_rng(0)
    X = sparse.random(n, n_features, density=0.005, format="csr", random_state=rng)
    W = rng.standard_normal((n_features, n_classes))
    S = X @ W + rng.gumbel(size=(n, n_classes))
    return X, S.argmax(axis=1)


WORKLOADS = {
    "digits": (_digits, None, None, "1797 x 64, 10 classes"),
    "breast_cancer": (_breast_cancer, None, None, "569 x 30, binary"),
    "dense": (_dense, 100_000, 20_000, "dense n x 100, 10 classes"),
    "sparse": (
        _sparse,
        50_000,
        10_000,
        "CSR n x 20k (quick: 5k), 0.5% density, 20 classes",
    ),
    "binary": (_binary, 200_000, 40_000, "dense n x 50, binary"),
    "regression": (_regression, 100_000, 20_000, "dense n x 100, one target"),
}
#: workloads of a regression target: no classes, Ridge's optimum
REGRESSION = {"regression"}


# Objectives (to measure the distance to the optimum) ---------------------


def _objective(coef, intercept, X, y, n_classes, alpha):
    """Mean cross-entropy + alpha/2 ||coef||^2 of a linear model.

    One row of ``coef`` per class: softmax; a single row: logistic.
    """
    S = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        z, t = S[:, 0], (y == 1)
        loss = np.mean(np.logaddexp(0, z) - t * z)
    else:
        S -= S.max(axis=1, keepdims=True)
        lse = np.log(np.exp(S).sum(axis=1))
        loss = np.mean(lse - S[np.arange(y.size), y])
    return float(loss + 0.5 * alpha * np.sum(coef.astype(np.float64) ** 2))


def _squared_objective(coef, intercept, X, y, alpha):
    """Half mean squared error + alpha/2 ||coef||^2 of a linear regressor."""
    coef = np.asarray(coef, dtype=np.float64)
    residual = np.asarray(X @ coef, dtype=np.float64) + intercept - y
    return float(0.5 * np.mean(residual**2) + 0.5 * alpha * coef @ coef)


def _linear_objective(est, X, y, n_classes, alpha):
    if is_regressor(est):
        return _squared_objective(est.coef_, est.intercept_, X, y, alpha)
    return _objective(est.coef_, est.intercept_, X, y, n_classes, alpha)


# Cases: a pair (ours, peer) of estimator factories on a workload ----------


def _mlp_pair(solver, epochs, regression=False):
    params = dict(
        hidden_layer_sizes=(100,),
        solver=solver,
        batch_size=200,
        learning_rate_init=0.001 if solver == "adam" else 0.01,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=0,
    )
    if solver == "lbfgs":
        params.pop("batch_size")
    ours, peer = (
        (MLPBackpropRegressor, MLPRegressor)
        if regression
        else (MLPBackprop, MLPClassifier)
    )
    return (lambda: ours(**params)), (lambda: peer(**params))


# The to-optimum cases: 'gd' runs a fixed number of epochs (tol=0); 'sgd' keeps
# its own stopping rule, since the 'adaptive' schedule divides its step by 5
# whenever the loss stalls for n_iter_no_change epochs: a constant step leaves
# SGD at its noise floor, the shrinking step walks it down to the optimum.
_LINEAR_OPTIONS = {"gd": {}, "sgd": {"learning_rate": "adaptive"}, "lbfgs": {}}


def _linear_pair(n_samples, binary, solver, regression=False):
    """Ours and the closed-form (or second-order) peer reaching its optimum."""
    options = _LINEAR_OPTIONS[solver]
    if regression:
        ours_cls = LinearRegressionGD

        def peer(**kw):
            return Ridge(alpha=ALPHA * n_samples, **kw)
    else:
        C = 1.0 / (ALPHA * n_samples)
        ours_cls = LogisticRegressionGD if binary else SoftmaxClassifier

        def peer(**kw):
            return LogisticRegression(C=C, **kw)

    return (
        lambda **kw: ours_cls(
            alpha=ALPHA, solver=solver, random_state=0, **{**options, **kw}
        ),
        peer,
    )


def _epoch_budget(epochs, own_stopping):
    """fit() parameters that run ``epochs`` epochs (at most, with ``own_stopping``)."""
    if own_stopping:
        return {"max_iter": epochs}
    return {"max_iter": epochs, "tol": 0.0, "n_iter_no_change": epochs + 1}


def _sgd_peer(**kw):
    return SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=0, **kw)


def _sgd_regressor_peer(**kw):
    # squared_error is half the squared residual and the l2 penalty alpha/2
    # ||w||^2: exactly LinearRegressionGD's objective
    return SGDRegressor(alpha=ALPHA, random_state=0, **kw)


def _cases(workload, n_samples, binary, quick):
    """(name, kind, ours factory, peer factory) for a workload."""
    epochs = 3 if quick else 5
    regression = workload in REGRESSION
    mlp = workload in ("digits", "breast_cancer", "dense", "binary", "regression")
    cases = []
    if mlp:
        for solver in ("adam", "sgd"):
            pair = _mlp_pair(solver, epochs, regression)
            cases.append((f"mlp-{solver}", "epochs", *pair))
        if workload in ("digits", "breast_cancer") or not quick:
            cases.append(("mlp-lbfgs", "fit", *_mlp_pair("lbfgs", 20, regression)))
    pair = _linear_pair(n_samples, binary, "lbfgs", regression)
    cases.append(("linear-lbfgs", "optimum", *pair))
    sgd_peer = _sgd_regressor_peer if regression else _sgd_peer
    for solver in ("gd", "sgd"):
        ours, _ = _linear_pair(n_samples, binary, solver, regression)
        cases.append((f"linear-{solver}", "to_optimum", ours, sgd_peer))
    return cases


# Measurement ---------------------------------------------------------------


def _timed_fit(factory, X, y, **params):
    est = factory(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return est, time.perf_counter() - start


def _peak_memory(factory, X, y, **params):
    """Peak bytes allocated by fit (tracemalloc sees NumPy's allocations)."""
    tracemalloc.start()
    try:
        _timed_fit(factory, X, y, **params)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _nbytes(X):
    if sparse.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def _param_bytes(est):
    if hasattr(est, "coefs_"):
        arrays = [*est.coefs_, *est.intercepts_]
    else:
        arrays = [est.coef_, est.intercept_]
    return sum(a.nbytes for a in arrays)


def _scores(est, X_test, y_test):
    """Test scores; a regressor's R² and RMSE under the classifiers' names'
    places (``accuracy``, ``log_loss``), so that one table shows both."""
    if is_regressor(est):
        y_pred = est.predict(X_test)
        return {
            "accuracy": float(r2_score(y_test, y_pred)),
            "log_loss": float(root_mean_squared_error(y_test, y_pred)),
        }
    proba = est.predict_proba(X_test)
    return {
        "accuracy": float(accuracy_score(y_test, est.predict(X_test))),
        "log_loss": float(log_loss(y_test, proba, labels=est.classes_)),
    }


def _epochs_to_optimum(
    factory, X, y, n_classes, f_star, max_epochs, own_stopping=False, within=GAP
):
    """Fewest epochs (max_iter) after which the objective is within ``within``
    of f_star.

    Doubling, then bisection, on fresh fits; each fit is deterministic.
    Returns (epochs or None, gap at the largest budget tried).
    """

    def gap(epochs):
        est, _ = _timed_fit(factory, X, y, **_epoch_budget(epochs, own_stopping))
        return _linear_objective(est, X, y, n_classes, ALPHA) - f_star

    hi, g = 1, gap(1)
    while g > within and hi < max_epochs:
        hi = min(2 * hi, max_epochs)
        g = gap(hi)
    if g > within:
        return None, g
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if gap(mid) <= within:
            hi = mid
        else:
            lo = mid
    return hi, g


def _same_objective(ours, peer, data, n_classes, f_star, peer_gap, max_iter, args):
    """The L-BFGS target's measure: skbackprop's time to the peer's objective.

    A default fit of each side stops by its own rule, often at different
    objectives. Here: the fewest iterations (``max_iter``) after which
    skbackprop's objective is within the peer's gap of the optimum (to
    SAME_OBJECTIVE: float32 fits differ by ~1e-9 at their optimum), found on
    untimed fits, then timed fits of exactly those, alternating with the
    peer's default fit.
    """
    X, _, y, _ = data
    within = peer_gap + SAME_OBJECTIVE
    iterations, _ = _epochs_to_optimum(
        ours, X, y, n_classes, f_star, max_iter, own_stopping=True, within=within
    )
    if iterations is None:
        return {"same_objective_iterations": None}
    times, _ = _alternate(
        {
            "ours": lambda: _timed_fit(ours, X, y, max_iter=iterations),
            "peer": lambda: _timed_fit(peer, X, y),
        },
        args.repeats,
    )
    ours_s, peer_s = (float(np.median(times[k])) for k in ("ours", "peer"))
    return {
        "same_objective_iterations": iterations,
        "same_objective_ours_s": ours_s,
        "same_objective_peer_s": peer_s,
        "same_objective_ratio": ours_s / peer_s,
    }


def _alternate(fits, repeats):
    """Run each (name -> thunk) alternately; thunk returns (est, seconds)."""
    times = {name: [] for name in fits}
    last = {}
    for _ in range(repeats):
        for name, thunk in fits.items():
            last[name], seconds = thunk()
            times[name].append(seconds)
    return times, last


def run_case(name, kind, ours, peer, data, n_classes, f_star, args):
    X, X_test, y, y_test = data
    binary = n_classes == 2
    row = {"case": name, "kind": kind}
    if kind == "to_optimum":
        # epochs each solver needs, found on untimed fits; then timed fits
        # of exactly that many epochs, alternating with LogisticRegression
        max_epochs = 128 if args.quick else 256
        own_stopping = name == "linear-sgd"
        epochs, g = _epochs_to_optimum(
            ours, X, y, n_classes, f_star, max_epochs, own_stopping
        )
        peer_epochs, peer_g = _epochs_to_optimum(
            peer, X, y, n_classes, f_star, 16 if args.quick else 32
        )
        regression = n_classes is None
        row.update(
            ours_epochs=epochs,
            ours_final_gap=g,
            peer=type(peer()).__name__,
            peer_epochs=peer_epochs,
            peer_final_gap=peer_g,
            peer_note=None
            if binary or regression
            else "one-vs-rest: a different objective",
        )
        reference = _linear_pair(X.shape[0], binary, "lbfgs", regression)[1]
        reference_name = type(reference()).__name__
        fits = {reference_name: lambda: _timed_fit(reference, X, y)}
        if epochs is not None:
            fits["ours"] = lambda: _timed_fit(
                ours, X, y, **_epoch_budget(epochs, own_stopping)
            )
        times, last = _alternate(fits, args.repeats)
        row["reference"] = f"{reference_name} fit"
        row["reference_s"] = float(np.median(times[reference_name]))
        if epochs is not None:
            row["ours_s"] = float(np.median(times["ours"]))
            row["ratio"] = row["ours_s"] / row["reference_s"]
            row.update(
                {
                    f"ours_{k}": v
                    for k, v in _scores(last["ours"], X_test, y_test).items()
                }
            )
        if args.memory:
            peak = _peak_memory(ours, X, y, max_iter=2)
            n_outputs = 1 if binary or regression else n_classes
            base = _nbytes(X) + (X.shape[1] + 1) * n_outputs * X.dtype.itemsize
            row["ours_peak_bytes"] = peak
            row["ours_memory_ratio"] = (_nbytes(X) + peak) / base
        return row

    times, last = _alternate(
        {
            "ours": lambda: _timed_fit(ours, X, y),
            "peer": lambda: _timed_fit(peer, X, y),
        },
        args.repeats,
    )
    est, ref = last["ours"], last["peer"]
    row["peer"] = type(ref).__name__
    row["ours_s"], row["peer_s"] = (
        float(np.median(times[k])) for k in ("ours", "peer")
    )
    row["ratio"] = row["ours_s"] / row["peer_s"]
    if kind == "epochs":
        row["ours_epoch_s"] = row["ours_s"] / est.n_iter_
        row["peer_epoch_s"] = row["peer_s"] / ref.n_iter_
        curve_ours, curve_peer = np.array(est.loss_curve_), np.array(ref.loss_curve_)
        m = min(curve_ours.size, curve_peer.size)
        row["loss_curve_ours"] = curve_ours[:m].tolist()
        row["loss_curve_peer"] = curve_peer[:m].tolist()
    if kind == "optimum":
        row["ours_gap"] = _linear_objective(est, X, y, n_classes, ALPHA) - f_star
        row["peer_gap"] = _linear_objective(ref, X, y, n_classes, ALPHA) - f_star
        row.update(
            _same_objective(
                ours, peer, data, n_classes, f_star, row["peer_gap"], est.n_iter_, args
            )
        )
    for who, e in (("ours", est), ("peer", ref)):
        row.update({f"{who}_{k}": v for k, v in _scores(e, X_test, y_test).items()})
    if args.memory:
        base = _nbytes(X) + _param_bytes(est)
        for who, factory in (("ours", ours), ("peer", peer)):
            peak = _peak_memory(factory, X, y)
            row[f"{who}_peak_bytes"] = peak
            row[f"{who}_memory_ratio"] = (_nbytes(X) + peak) / base
    return row


def _optimum(X, y, n_classes):
    """The optimum objective, from a tightly converged LogisticRegression,
    or Ridge's closed form for a regression target (``n_classes`` None)."""
    if n_classes is None:
        ridge = Ridge(alpha=ALPHA * X.shape[0], solver="cholesky").fit(X, y)
        return _squared_objective(ridge.coef_, ridge.intercept_, X, y, ALPHA)
    C = 1.0 / (ALPHA * X.shape[0])
    ref = LogisticRegression(C=C, tol=1e-8, max_iter=10_000).fit(X, y)
    return _linear_objective(ref, X, y, n_classes, ALPHA)


# Environment ---------------------------------------------------------------


def _git(*args):
    """Output of a git command run beside this script."""
    done = subprocess.run(
        ["git", *args],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _commit():
    """The checked-out commit, with '+changes' if the tree differs; None outside git."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed else "")


def environment():
    info = threadpoolctl.threadpool_info()
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip() for line in f if "model name" in line
            )
    except (OSError, StopIteration):
        pass
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpu": cpu,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "skbackprop": skbackprop.__version__,
            "threadpoolctl": threadpoolctl.__version__,
        },
        "blas": [
            {
                k: lib.get(k)
                for k in (
                    "internal_api",
                    "prefix",
                    "version",
                    "architecture",
                    "num_threads",
                    "threading_layer",
                )
            }
            for lib in info
        ],
        "openblas_env": {
            k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")
        },
    }


# Report --------------------------------------------------------------------


def _fmt(x, unit=""):
    if x is None:
        return "-"
    return f"{x:.3g}{unit}"


def print_header():
    head = (
        f"{'workload':14} {'dtype':7} {'case':13} {'measure':16} "
        f"{'skbackprop':>11} {'peer':>11} {'ratio':>7}  peer"
    )
    print(head)
    print("-" * len(head))


def print_table(rows):
    for r in rows:
        w, d, c = r["workload"], r["dtype"], r["case"]
        if r["kind"] == "to_optimum":
            measure = f"to gap<{GAP:g}"
            ours = _fmt(r.get("ours_s"), "s") if r["ours_epochs"] else "never"
            print(
                f"{w:14} {d:7} {c:13} {measure:16} {ours:>11} "
                f"{_fmt(r['reference_s'], 's'):>11} {_fmt(r.get('ratio')):>7}  "
                f"{r['reference'].split()[0]} (ours: {r['ours_epochs'] or 'never'} "
                f"epochs, gap {r['ours_final_gap']:.2g}; {r['peer']}: "
                f"{r['peer_epochs'] or 'never'}"
                f" epochs, gap {r['peer_final_gap']:.2g})"
            )
            if "ours_memory_ratio" in r:
                print(
                    f"{'':14} {'':7} {'':13} {'mem/(X+params)':16} "
                    f"{r['ours_memory_ratio']:11.3f}"
                )
            continue
        if r["kind"] == "epochs":
            print(
                f"{w:14} {d:7} {c:13} {'time/epoch':16} "
                f"{_fmt(r['ours_epoch_s'], 's'):>11} "
                f"{_fmt(r['peer_epoch_s'], 's'):>11} "
                f"{r['ours_epoch_s'] / r['peer_epoch_s']:7.3f}  {r['peer']}"
            )
        else:
            print(
                f"{w:14} {d:7} {c:13} {'fit time':16} {_fmt(r['ours_s'], 's'):>11} "
                f"{_fmt(r['peer_s'], 's'):>11} {r['ratio']:7.3f}  {r['peer']}"
            )
        loss, score = (
            ("test RMSE", "R2")
            if r["n_classes"] is None
            else ("test log-loss", "accuracy")
        )
        print(
            f"{'':14} {'':7} {'':13} {loss:16} {r['ours_log_loss']:11.4f} "
            f"{r['peer_log_loss']:11.4f} {'':7}  {score} {r['ours_accuracy']:.4f} "
            f"vs {r['peer_accuracy']:.4f}"
        )
        if "ours_memory_ratio" in r:
            print(
                f"{'':14} {'':7} {'':13} {'mem/(X+params)':16} "
                f"{r['ours_memory_ratio']:11.3f} {r['peer_memory_ratio']:11.3f}"
            )
        if r["kind"] == "optimum":
            print(
                f"{'':14} {'':7} {'':13} {'objective gap':16} {r['ours_gap']:11.1e} "
                f"{r['peer_gap']:11.1e}"
            )
            iterations = r["same_objective_iterations"]
            if iterations is None:
                print(f"{'':14} {'':7} {'':13} {'to peer gap':16} {'never':>11}")
            else:
                print(
                    f"{'':14} {'':7} {'':13} {'to peer gap':16} "
                    f"{_fmt(r['same_objective_ours_s'], 's'):>11} "
                    f"{_fmt(r['same_objective_peer_s'], 's'):>11} "
                    f"{r['same_objective_ratio']:7.3f}  ours: {iterations} "
                    "iterations"
                )


# Main ----------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workload", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS)
    )
    parser.add_argument(
        "--dtype",
        nargs="+",
        choices=["float64", "float32"],
        default=["float64", "float32"],
    )
    parser.add_argument(
        "--case",
        nargs="+",
        default=None,
        help="only these cases (e.g. mlp-adam linear-lbfgs)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed fits per estimator (default 5; 3 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller data, fewer epochs and repeats (< 2 minutes)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads for both sides (default: each library's own choice)",
    )
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the (untimed) tracemalloc fits",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5

    env = environment()
    print(
        f"skbackprop {env['versions']['skbackprop']}, scikit-learn "
        f"{env['versions']['scikit-learn']}, numpy {env['versions']['numpy']}; "
        f"{env['machine']['cpu']} x{env['machine']['cpu_count']}; "
        f"commit {env['commit']}"
    )
    for lib in env["blas"]:
        print(
            f"  {lib['internal_api']} {lib['version']} kernel={lib['architecture']} "
            f"threads={lib['num_threads']} ({lib['prefix']})"
        )
    if env["openblas_env"]:
        print(f"  environment: {env['openblas_env']}")
    print(f"  medians of {args.repeats} alternating fits; ratio = skbackprop / peer\n")

    limits = (
        threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
        if args.blas_threads
        else None
    )
    rows = []
    print_header()
    for workload in args.workload:
        loader, full, quick, _ = WORKLOADS[workload]
        X_all, y_all = loader(quick if args.quick else full)
        for dtype in args.dtype:
            X_all_d = X_all.astype(dtype)
            regression = workload in REGRESSION
            X, X_test, y, y_test = train_test_split(
                X_all_d,
                y_all,
                test_size=0.2,
                random_state=0,
                stratify=None if regression else y_all,
            )
            n_classes = None if regression else np.unique(y).size
            f_star = _optimum(X, y, n_classes)
            for name, kind, ours, peer in _cases(
                workload, X.shape[0], n_classes == 2, args.quick
            ):
                if args.case and name not in args.case:
                    continue
                row = run_case(
                    name,
                    kind,
                    ours,
                    peer,
                    (X, X_test, y, y_test),
                    n_classes,
                    f_star,
                    args,
                )
                row.update(
                    workload=workload,
                    dtype=dtype,
                    n_samples=X.shape[0],
                    n_features=X.shape[1],
                    n_classes=n_classes,
                    sparse=sparse.issparse(X),
                    optimum=f_star,
                )
                rows.append(row)
                print_table([row])
    if limits is not None:
        limits.restore_original_limits()

    RESULTS.mkdir(exist_ok=True)
    output = args.output or RESULTS / (
        f"{datetime.datetime.now():%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    )
    with open(output, "w") as f:
        json.dump(
            {
                "environment": env,
                "args": {k: str(v) for k, v in vars(args).items()},
                "gap": GAP,
                "alpha": ALPHA,
                "results": rows,
            },
            f,
            indent=1,
        )
    print(f"\nwritten {output}")


if __name__ == "__main__":
    main()
