"""The benchmark script runs end to end and records what its docs promise."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "run.py"


def test_benchmark_writes_ratios_and_its_environment(tmp_path):
    output = tmp_path / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--workload",
            "breast_cancer",
            "--dtype",
            "float32",
            "--case",
            "mlp-sgd",
            "linear-lbfgs",
            "--repeats",
            "1",
            "--no-memory",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio = skbackprop / peer" in done.stdout
    result = json.loads(output.read_text())
    env = result["environment"]
    assert {"numpy", "scipy", "scikit-learn", "skbackprop"} <= set(env["versions"])
    assert "commit" in env
    # each BLAS library with its kernel and thread count (threadpoolctl)
    assert env["blas"]
    assert all({"architecture", "num_threads"} <= set(lib) for lib in env["blas"])
    cases = {row["case"]: row for row in result["results"]}
    assert set(cases) == {"mlp-sgd", "linear-lbfgs"}
    for row in cases.values():
        assert row["workload"] == "breast_cancer" and row["dtype"] == "float32"
        assert row["ratio"] > 0
        assert row["ratio"] == pytest.approx(row["ours_s"] / row["peer_s"])
    # the same loss trajectory on both sides, epoch for epoch
    mlp = cases["mlp-sgd"]
    assert mlp["loss_curve_ours"] == pytest.approx(mlp["loss_curve_peer"], rel=1e-6)
    # L-BFGS: the time to the peer's objective, from the fewest iterations
    # that reach it (a default fit of each side stops at its own objective)
    lbfgs = cases["linear-lbfgs"]
    # both reach the optimum to float32 precision, so the search must succeed
    assert lbfgs["ours_gap"] <= lbfgs["peer_gap"] + 1e-6
    assert 1 <= lbfgs["same_objective_iterations"]
    assert lbfgs["same_objective_ratio"] == pytest.approx(
        lbfgs["same_objective_ours_s"] / lbfgs["same_objective_peer_s"]
    )
    assert "to peer gap" in done.stdout


def test_regression_workload_pairs_the_regressors(tmp_path):
    output = tmp_path / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--workload",
            "regression",
            "--dtype",
            "float64",
            "--case",
            "mlp-sgd",
            "linear-lbfgs",
            "--repeats",
            "1",
            "--no-memory",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    cases = {row["case"]: row for row in json.loads(output.read_text())["results"]}
    assert cases["mlp-sgd"]["peer"] == "MLPRegressor"
    assert cases["linear-lbfgs"]["peer"] == "Ridge"
    # one target: MLPRegressor reports the same loss as ours, epoch for epoch
    mlp = cases["mlp-sgd"]
    assert mlp["loss_curve_ours"] == pytest.approx(mlp["loss_curve_peer"], rel=1e-9)
    # Ridge's closed form is the optimum; L-BFGS gets within 1e-6 of it
    lbfgs = cases["linear-lbfgs"]
    assert lbfgs["peer_gap"] == pytest.approx(0.0, abs=1e-12)
    assert 0 <= lbfgs["ours_gap"] <= 1e-6
    assert 0.5 < lbfgs["ours_accuracy"] == pytest.approx(lbfgs["peer_accuracy"])
    assert "test RMSE" in done.stdout
