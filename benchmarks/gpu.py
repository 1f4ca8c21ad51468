"""GPU benchmark: skbackprop's Array API engine on a device against a plain
PyTorch loop on the same device and against the CPU estimators.

Workloads (issue 26):

* ``mlp``: n x 784 float32, 10 classes, hidden (512, 256), batch 1024, Adam.
  Seconds per epoch of MLPBackprop on the device (PyTorch tensors under
  ``array_api_dispatch``), of the same network as a plain PyTorch eager loop on
  the same device, and of MLPBackprop and MLPClassifier on the CPU cores.
* ``lbfgs``: n x 256 float32, 10 classes: SoftmaxClassifier(solver='lbfgs')
  fit on the device against LogisticRegression (lbfgs) on the CPU cores.
* ``batch``: seconds per epoch of MLPBackprop on the device and on the CPU
  for several batch sizes (100k x 100, hidden (100,)): from which batch size
  the device pays.

Usage (full sizes need a GPU; the one command for a GPU machine)::

    SCIPY_ARRAY_API=1 python benchmarks/gpu.py --device cuda

Smoke test on a CPU (tiny sizes; PyTorch on its CPU device, or
array-api-strict where PyTorch is not installed)::

    SCIPY_ARRAY_API=1 python benchmarks/gpu.py --smoke --namespace array_api_strict

Prints medians and ratios and the targets; writes a JSON file to
``benchmarks/results/``.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

if os.environ.get("SCIPY_ARRAY_API") != "1":
    sys.exit(
        "Set SCIPY_ARRAY_API=1 before running (scikit-learn's array API needs it)."
    )

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import threadpoolctl  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.utils._array_api import move_to  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from skbackprop import MLPBackprop, SoftmaxClassifier  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "mlp: device epoch / PyTorch loop epoch": ("<=", 1.0),
    "mlp: CPU epoch (MLPBackprop) / device epoch": (">=", 8.0),
    "lbfgs: LogisticRegression CPU fit / device fit": (">=", 5.0),
}
SIZES = {
    # name: (mlp rows, lbfgs rows, batch-sweep rows, hidden, CPU epochs timed)
    "full": (1_000_000, 1_000_000, 100_000, (512, 256)),
    "quick": (100_000, 100_000, 20_000, (512, 256)),
    "smoke": (3_000, 3_000, 2_000, (32, 16)),
}


def make_data(n, d, n_classes, seed=0):
    """float32 features and labels of a random linear teacher with noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((d, n_classes), dtype=np.float32) / np.sqrt(d)
    scores = X @ W + rng.gumbel(size=(n, n_classes)).astype(np.float32)
    return X, scores.argmax(axis=1).astype(np.int64)


class Namespace:
    """The array library and device of the run, and its synchronisation."""

    def __init__(self, name, device):
        if name == "torch":
            import torch

            self.xp, self.device = torch, torch.device(device)
            self.sync = (
                torch.cuda.synchronize if self.device.type == "cuda" else lambda: None
            )
            self.description = (
                torch.cuda.get_device_name(self.device)
                if self.device.type == "cuda"
                else f"torch {device}"
            )
        else:
            import array_api_strict

            self.xp, self.device = array_api_strict, array_api_strict.Device("device1")
            self.sync = lambda: None
            self.description = "array_api_strict (NumPy on the CPU)"
        self.name = name

    def asarray(self, a):
        return self.xp.asarray(a, device=self.device)


def timed(function, repeats):
    """Median seconds of ``function()`` over ``repeats`` calls (after none)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def mlp_estimator(hidden, batch_size, epochs):
    return MLPBackprop(
        hidden_layer_sizes=hidden,
        solver="adam",
        batch_size=batch_size,
        alpha=0.0,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
    )


def device_epoch(ns, X, y, hidden, batch_size, epochs, repeats):
    """Seconds per epoch of MLPBackprop on the namespace's device."""
    X_d, y_d = ns.asarray(X), ns.asarray(y)

    def fit(n_epochs):
        with sklearn.config_context(array_api_dispatch=True):
            mlp_estimator(hidden, batch_size, n_epochs).fit(X_d, y_d)
        ns.sync()

    fit(1)  # warm-up: kernels compiled and cached, memory pools filled
    median, times = timed(lambda: fit(epochs), repeats)
    return median / epochs, [t / epochs for t in times]


def cpu_epoch(estimator, X, y, epochs, repeats):
    median, times = timed(lambda: estimator.fit(X, y), repeats)
    return median / epochs, [t / epochs for t in times]


def torch_loop_epoch(ns, X, y, hidden, batch_size, epochs, repeats):
    """Seconds per epoch of the same network as a plain PyTorch eager loop:
    Glorot-like default init, Adam(lr=1e-3), shuffled batches, mean loss per
    epoch read once."""
    import torch

    torch.manual_seed(0)
    X_d = torch.as_tensor(X, device=ns.device)
    y_d = torch.as_tensor(y, device=ns.device)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(ns.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    n = X.shape[0]

    def run(n_epochs):
        for _ in range(n_epochs):
            order = torch.randperm(n, device=ns.device)
            total = torch.zeros((), device=ns.device)
            for start in range(0, n, batch_size):
                index = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(model(X_d[index]), y_d[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach() * index.shape[0]
            float(total / n)  # the epoch's loss, read as MLPBackprop records it
        ns.sync()

    run(1)
    median, times = timed(lambda: run(epochs), repeats)
    return median / epochs, [t / epochs for t in times]


def bench_mlp(ns, n, hidden, args, report):
    X, y = make_data(n, 784, 10)
    rows = {}
    rows["MLPBackprop device"] = device_epoch(
        ns, X, y, hidden, 1024, args.epochs, args.repeats
    )
    if ns.name == "torch":
        rows["PyTorch eager loop device"] = torch_loop_epoch(
            ns, X, y, hidden, 1024, args.epochs, args.repeats
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows["MLPBackprop CPU"] = cpu_epoch(
            mlp_estimator(hidden, 1024, args.cpu_epochs),
            X,
            y,
            args.cpu_epochs,
            args.cpu_repeats,
        )
        peer = MLPClassifier(
            hidden_layer_sizes=hidden,
            batch_size=1024,
            alpha=0.0,
            max_iter=args.cpu_epochs,
            tol=0.0,
            n_iter_no_change=10**9,
            random_state=0,
        )
        rows["MLPClassifier CPU"] = cpu_epoch(
            peer, X, y, args.cpu_epochs, args.cpu_repeats
        )
    report["mlp"] = {"rows": n, "hidden": list(hidden), "seconds_per_epoch": rows}
    print(f"\nmlp: {n} x 784 float32, 10 classes, hidden {hidden}, batch 1024, adam")
    for name, (median, _) in rows.items():
        print(f"  {name:28s} {median:9.4f} s/epoch")
    ratios = report["ratios"]
    device = rows["MLPBackprop device"][0]
    if "PyTorch eager loop device" in rows:
        ratios["mlp: device epoch / PyTorch loop epoch"] = (
            device / rows["PyTorch eager loop device"][0]
        )
    ratios["mlp: CPU epoch (MLPBackprop) / device epoch"] = (
        rows["MLPBackprop CPU"][0] / device
    )
    ratios["mlp: CPU epoch (MLPClassifier) / device epoch"] = (
        rows["MLPClassifier CPU"][0] / device
    )


def softmax_objective(coef, intercept, X, y, alpha, chunk=100_000):
    """Mean cross-entropy plus ``alpha / 2 ||coef||^2``, in float64 on the host."""
    coef, intercept = np.asarray(coef, np.float64), np.asarray(intercept, np.float64)
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        S = X[start : start + chunk].astype(np.float64) @ coef.T + intercept
        S -= S.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(S).sum(axis=1))
        total += float(
            (log_z - S[np.arange(S.shape[0]), y[start : start + chunk]]).sum()
        )
    return total / X.shape[0] + 0.5 * alpha * float((coef**2).sum())


def bench_lbfgs(ns, n, args, report):
    X, y = make_data(n, 256, 10, seed=1)
    alpha = 1e-4
    X_d, y_d = ns.asarray(X), ns.asarray(y)
    fitted = {}

    def ours():
        with sklearn.config_context(array_api_dispatch=True):
            fitted["ours"] = SoftmaxClassifier(alpha=alpha).fit(X_d, y_d)
        ns.sync()

    def peer():
        fitted["peer"] = LogisticRegression(C=1.0 / (alpha * n)).fit(X, y)

    ours()  # warm-up
    rows = {
        "SoftmaxClassifier lbfgs device": timed(ours, args.repeats),
        "LogisticRegression lbfgs CPU": timed(peer, args.cpu_repeats),
    }
    report["lbfgs"] = {
        "rows": n,
        "seconds_per_fit": rows,
        "iterations": {
            "ours": int(fitted["ours"].n_iter_),
            "peer": int(np.max(fitted["peer"].n_iter_)),
        },
        # the objective each fit reached (the same one: C = 1 / (alpha n))
        "objective": {
            "ours": softmax_objective(
                move_to(fitted["ours"].coef_, xp=np, device="cpu"),
                move_to(fitted["ours"].intercept_, xp=np, device="cpu"),
                X,
                y,
                alpha,
            ),
            "peer": softmax_objective(
                fitted["peer"].coef_, fitted["peer"].intercept_, X, y, alpha
            ),
        },
    }
    print(f"\nlbfgs: {n} x 256 float32, 10 classes, alpha = 1 / (C n) = {alpha}")
    for name, (median, _) in rows.items():
        print(f"  {name:32s} {median:9.4f} s/fit")
    for who in ("ours", "peer"):
        iterations = report["lbfgs"]["iterations"][who]
        objective = report["lbfgs"]["objective"][who]
        print(f"  {who}: {iterations} iterations, objective {objective:.8f}")
    report["ratios"]["lbfgs: LogisticRegression CPU fit / device fit"] = (
        rows["LogisticRegression lbfgs CPU"][0]
        / rows["SoftmaxClassifier lbfgs device"][0]
    )


def bench_batch_sizes(ns, n, args, report):
    X, y = make_data(n, 100, 10, seed=2)
    rows = {}
    print(f"\nbatch sizes: {n} x 100 float32, 10 classes, hidden (100,), adam")
    header = ("batch", "device s/epoch", "CPU s/epoch", "CPU/device")
    print("  {:>6s} {:>15s} {:>12s} {:>11s}".format(*header))
    for batch in args.batch_sizes:
        device, _ = device_epoch(ns, X, y, (100,), batch, args.epochs, args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cpu, _ = cpu_epoch(
                mlp_estimator((100,), batch, args.cpu_epochs),
                X,
                y,
                args.cpu_epochs,
                args.cpu_repeats,
            )
        rows[batch] = {"device": device, "cpu": cpu}
        print(f"  {batch:6d} {device:15.4f} {cpu:12.4f} {cpu / device:11.2f}")
    report["batch_sizes"] = {"rows": n, "seconds_per_epoch": rows}


def environment(ns):
    versions = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if ns.name == "torch":
        versions["torch"] = ns.xp.__version__
    return {
        "device": ns.description,
        "namespace": ns.name,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
        "blas": threadpoolctl.threadpool_info(),
        "openblas_env": {
            k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="torch device (cuda, cpu)")
    parser.add_argument(
        "--namespace", default="torch", choices=["torch", "array_api_strict"]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="100k rows")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, any machine")
    parser.add_argument("--workload", nargs="+", default=["mlp", "lbfgs", "batch"])
    parser.add_argument(
        "--epochs", type=int, default=None, help="device epochs per fit"
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--cpu-epochs", type=int, default=1)
    parser.add_argument("--cpu-repeats", type=int, default=None)
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[64, 200, 1024, 4096]
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    preset = "smoke" if args.smoke else "quick" if args.quick else "full"
    mlp_rows, lbfgs_rows, batch_rows, hidden = SIZES[preset]
    args.epochs = args.epochs or (1 if args.smoke else 3)
    args.repeats = args.repeats or (1 if args.smoke else 3)
    args.cpu_repeats = args.cpu_repeats or (1 if args.smoke else 2)

    # every fit here stops at max_iter on purpose
    warnings.simplefilter("ignore", ConvergenceWarning)
    ns = Namespace(args.namespace, args.device)
    report = {"preset": preset, "environment": environment(ns), "ratios": {}}
    print(f"device: {ns.description}; sizes: {preset}")
    for lib in report["environment"]["blas"]:
        api, kernel = lib.get("internal_api"), lib.get("architecture", "?")
        print(f"CPU BLAS: {api} {kernel}, {lib['num_threads']} threads")
    if "mlp" in args.workload:
        bench_mlp(ns, mlp_rows, hidden, args, report)
    if "lbfgs" in args.workload:
        bench_lbfgs(ns, lbfgs_rows, args, report)
    if "batch" in args.workload:
        bench_batch_sizes(ns, batch_rows, args, report)

    print("\nratios and targets:")
    for name, value in report["ratios"].items():
        target = TARGETS.get(name)
        if target is None:
            print(f"  {name:50s} {value:8.2f}")
            continue
        op, bound = target
        met = value <= bound if op == "<=" else value >= bound
        verdict = "met" if met else "NOT met"
        print(f"  {name:50s} {value:8.2f}   target {op} {bound}: {verdict}")
    output = args.output or RESULTS / (
        f"gpu-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nwritten: {output}")
    return report


if __name__ == "__main__":
    main()
