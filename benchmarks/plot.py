"""Plot the ratios (skbackprop / peer) of a benchmark JSON file.

Usage::

    python benchmarks/plot.py benchmarks/results/<file>.json docs/guide/performance.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# the targets, per case and dtype, on the workloads they are set for
TARGET_WORKLOADS = {"mlp": ("dense",), "linear": ("dense", "sparse")}
TARGETS = {
    ("mlp-adam", "float64"): 0.5,
    ("mlp-sgd", "float64"): 0.5,
    ("mlp-adam", "float32"): 0.35,
    ("mlp-sgd", "float32"): 0.35,
    ("linear-lbfgs", "float64"): 1.0,
    ("linear-lbfgs", "float32"): 1.0,
    ("linear-gd", "float64"): 5.0,
    ("linear-gd", "float32"): 5.0,
    ("linear-sgd", "float64"): 5.0,
    ("linear-sgd", "float32"): 5.0,
}


def ratio(row):
    if row["kind"] == "epochs":
        return row["ours_epoch_s"] / row["peer_epoch_s"]
    return row.get("ratio")


def main(source, target):
    with open(source) as f:
        data = json.load(f)
    rows = [r for r in data["results"] if ratio(r) is not None]
    labels = [f"{r['workload']} {r['dtype'][5:]} {r['case']}" for r in rows]
    values = [ratio(r) for r in rows]
    colors = ["tab:blue" if r["dtype"] == "float64" else "tab:orange" for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.2))
    y = range(len(rows))
    ax.barh(y, values, color=colors)
    for i, r in enumerate(rows):
        goal = TARGETS.get((r["case"], r["dtype"]))
        if (
            goal is not None
            and r["workload"] in TARGET_WORKLOADS[r["case"].split("-")[0]]
        ):
            ax.plot([goal, goal], [i - 0.4, i + 0.4], color="k", lw=1.5)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(list(y), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("skbackprop / scikit-learn (median time; < 1: skbackprop faster)")
    blas = ", ".join(
        sorted(
            {
                f"{b['internal_api']} {b['architecture']}"
                for b in data["environment"]["blas"]
                if b.get("architecture")
            }
        )
    )
    ax.set_title(
        f"blue float64, orange float32, black ticks: targets ({blas})", fontsize=8
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:3])
