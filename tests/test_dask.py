"""skbackprop on Dask: dask-ml's ``Incremental`` and the joblib ``"dask"`` backend.

Everything runs on a ``distributed.LocalCluster`` whose scheduler, workers and
dashboards listen on 127.0.0.1 only; the last test of the module checks that
no socket of this process listens anywhere else. These tests need the
``dask`` extra (dask, distributed, dask-ml) and skip only when dask itself is
absent.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbackprop
from skbackprop import LogisticRegressionGD, MLPBackprop, SoftmaxClassifier

pytest.importorskip("dask")
# With dask present the rest of the extra must be too: no silent skip.
import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from _loopback import is_loopback, listening_addresses  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream  # noqa: E402

LOOPBACK_ONLY = dict(
    host="127.0.0.1",
    # processes=False would otherwise pick the in-process transport; TCP on
    # loopback is what a real cluster speaks (messages are serialised).
    protocol="tcp://",
    # None would still open HTTP servers on every interface
    dashboard_address="127.0.0.1:0",
    worker_dashboard_address="127.0.0.1:0",
)


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            processes=False, n_workers=2, threads_per_worker=1, **LOOPBACK_ONLY
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _data(n_samples, random_state=0):
    """Three classes drawn from a softmax model (the linear models are exact)."""
    rng = np.random.RandomState(random_state)
    X = rng.normal(size=(n_samples, 20))
    coef = rng.normal(size=(20, 3))
    return X, (X @ coef + rng.gumbel(size=(n_samples, 3))).argmax(axis=1)


@pytest.mark.parametrize(
    "make_estimator",
    [
        lambda: SoftmaxClassifier(
            solver="sgd", learning_rate_init=0.01, random_state=0
        ),
        lambda: LogisticRegressionGD(
            solver="sgd", learning_rate_init=0.01, random_state=0
        ),
        lambda: MLPBackprop(
            hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0
        ),
    ],
    ids=["softmax", "logistic", "mlp"],
)
def test_incremental_matches_in_memory_accuracy(client, make_estimator):
    n_epochs = 10
    X, y = _data(12_000)
    X_train, y_train, X_test, y_test = X[:8000], y[:8000], X[8000:], y[8000:]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = make_estimator().set_params(max_iter=n_epochs).fit(X_train, y_train)
    expected = in_memory.score(X_test, y_test)

    # blocks live on the cluster; the estimator visits them one after the other
    X_dask = da.from_array(X_train, chunks=(1000, -1)).persist()
    y_dask = da.from_array(y_train, chunks=1000).persist()
    inc = Incremental(
        make_estimator(), scoring="accuracy", shuffle_blocks=True, random_state=0
    )
    with get_task_stream(client) as tasks:
        for _ in range(n_epochs):
            inc.partial_fit(X_dask, y_dask, classes=np.unique(y))
    assert tasks.data, "no task ran on the cluster"
    assert inc.estimator_.t_ == n_epochs * X_train.shape[0]

    accuracy = inc.score(
        da.from_array(X_test, chunks=1000), da.from_array(y_test, chunks=1000)
    )
    assert expected > 0.75  # both learnt something
    assert abs(accuracy - expected) <= 0.01, (accuracy, expected)


def test_grid_search_on_dask_backend_matches_default(client):
    X, y = _data(600, random_state=1)
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(),
            MLPBackprop(max_iter=60, learning_rate_init=0.01, random_state=0),
        ),
        param_grid={
            "mlpbackprop__alpha": [1e-4, 1.0],
            "mlpbackprop__hidden_layer_sizes": [(4,), (16,)],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = search.fit(X, y)
        default_scores = default.cv_results_["mean_test_score"].copy()
        default_best = (default.best_params_, default.best_score_)
        default_predictions = default.predict(X)

        with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            on_dask = search.fit(X, y)
    # the fits ran on the cluster, spread over both workers
    workers = set(client.scheduler_info()["workers"])
    assert {task["worker"] for task in tasks.data} == workers

    assert on_dask.best_params_ == default_best[0]
    assert on_dask.best_score_ == pytest.approx(default_best[1], rel=1e-12)
    assert_allclose(on_dask.cv_results_["mean_test_score"], default_scores, rtol=1e-12)
    assert_array_equal(on_dask.predict(X), default_predictions)


# A separate interpreter, since worker processes are spawned and re-import the
# main module: the guarded entry point keeps them from running it again.
_PROCESSES_SCRIPT = """
import json
import os
import sys

import numpy as np


def main():
    import dask.array as da
    import psutil
    from dask_ml.wrappers import Incremental
    from distributed import Client, LocalCluster, wait

    from _loopback import listening_addresses
    from skbackprop import MLPBackprop, SoftmaxClassifier

    data = np.load(sys.argv[1])
    X, y = data["X"], data["y"]
    chunk = int(sys.argv[2])
    loopback_only = json.loads(sys.argv[3])
    out = {"main_pid": os.getpid(), "coefs": {}}
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                      **loopback_only) as cluster, Client(cluster) as client:
        out["worker_pids"] = sorted(client.run(os.getpid).values())
        workers = sorted(client.scheduler_info()["workers"])
        for name, est in [
            ("softmax", SoftmaxClassifier(solver="sgd", shuffle=False, batch_size=50,
                                          learning_rate_init=0.05, random_state=0)),
            ("mlp", MLPBackprop(hidden_layer_sizes=(8,), batch_size=50, shuffle=False,
                                learning_rate_init=0.01, random_state=0)),
        ]:
            inc = Incremental(est, shuffle_blocks=False)
            X_dask = da.from_array(X, chunks=(chunk, -1))
            y_dask = da.from_array(y, chunks=chunk)
            for _ in range(2):
                inc.partial_fit(X_dask, y_dask, classes=np.unique(y))
            coefs = getattr(inc.estimator_, "coefs_", None) or [inc.estimator_.coef_]
            out["coefs"][name] = [c.tolist() for c in coefs]

        # fitted on one worker process, scored on the other: the fitted
        # estimator is pickled from one process to another
        fitted = client.submit(type(est).fit, est, X, y, workers=workers[:1],
                               pure=False)
        wait(fitted)
        out["fitted_on"] = list(client.who_has(fitted)[fitted.key])
        score = client.submit(type(est).score, fitted, X, y, workers=workers[1:])
        out["cross_worker_score"] = score.result()
        out["workers"] = workers

        children = psutil.Process().children(recursive=True)
        pids = [os.getpid()] + [child.pid for child in children]
        out["listening"] = [
            [pid, ip, port] for pid in pids for ip, port in listening_addresses(pid)
        ]
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
"""


def test_process_workers_pickle_estimators(tmp_path):
    X, y = _data(400, random_state=2)
    chunk = 100
    script = tmp_path / "run_cluster.py"
    script.write_text(textwrap.dedent(_PROCESSES_SCRIPT))
    # the skbackprop under test and the socket helper, in the script and its workers
    path = [
        os.path.dirname(os.path.dirname(skbackprop.__file__)),
        os.path.dirname(__file__),
    ]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            path + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
    )
    np.savez(tmp_path / "data.npz", X=X, y=y)
    args = [
        sys.executable,
        str(script),
        str(tmp_path / "data.npz"),
        str(chunk),
        json.dumps(LOOPBACK_ONLY),
    ]
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the script and its workers
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr[-3000:]
    result = json.loads(stdout.split("RESULT ", 1)[1])

    # the work ran in two other processes
    assert len(set(result["worker_pids"])) == 2
    assert result["main_pid"] not in result["worker_pids"]
    assert result["fitted_on"] == result["workers"][:1]

    # pickled to the workers and back, block by block: the same training as
    # partial_fit on the same blocks here
    for name, est in [
        (
            "softmax",
            SoftmaxClassifier(
                solver="sgd",
                shuffle=False,
                batch_size=50,
                learning_rate_init=0.05,
                random_state=0,
            ),
        ),
        (
            "mlp",
            MLPBackprop(
                hidden_layer_sizes=(8,),
                batch_size=50,
                shuffle=False,
                learning_rate_init=0.01,
                random_state=0,
            ),
        ),
    ]:
        for _ in range(2):
            for start in range(0, y.size, chunk):
                est.partial_fit(
                    X[start : start + chunk],
                    y[start : start + chunk],
                    classes=np.unique(y),
                )
        local = getattr(est, "coefs_", None) or [est.coef_]
        for remote_coef, local_coef in zip(result["coefs"][name], local, strict=True):
            assert_allclose(remote_coef, local_coef, rtol=1e-10, atol=1e-12)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected_score = est.set_params(warm_start=False).fit(X, y).score(X, y)
    assert result["cross_worker_score"] == pytest.approx(expected_score, rel=1e-12)

    listening = result["listening"]
    assert {pid for pid, _, _ in listening} >= set(result["worker_pids"])
    assert all(is_loopback(ip) for _, ip, _ in listening), listening


def test_cluster_listens_on_loopback_only(client):
    """Run last: by now the cluster has done all its work."""
    listening = listening_addresses()
    scheduler_port = int(client.scheduler.address.rsplit(":", 1)[1])
    worker_ports = {
        int(address.rsplit(":", 1)[1]) for address in client.scheduler_info()["workers"]
    }
    assert {scheduler_port} | worker_ports <= {port for _, port in listening}
    # and the HTTP servers (dashboard, health, metrics) of the scheduler and workers
    assert len(listening) >= 2 * (1 + len(worker_ports))
    assert all(is_loopback(ip) for ip, _ in listening), listening
    if sys.platform.startswith("linux"):
        # the /proc reader agrees with psutil
        import psutil

        assert listening == {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.Process().net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }
