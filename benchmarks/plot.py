"""Plot the ratios (skbackprop / peer) of benchmark JSON files, and write their
table for the docs.

Usage::

    python benchmarks/plot.py benchmarks/results/<file>.json [<more>.json ...] \
        --png docs/guide/performance.png --table docs/guide/performance_table.inc

Rows of a later file replace the rows of the same workload, dtype and case of
an earlier one (e.g. a case measured again after a change); the environment is
the first file's.
"""

import argparse
import json

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
    """The ratio a target is set on: per epoch, to the same objective
    (L-BFGS; older files have only the default fits' ratio), or of fit times."""
    if row["kind"] == "epochs":
        return row["ours_epoch_s"] / row["peer_epoch_s"]
    if row["kind"] == "optimum" and "same_objective_iterations" in row:
        return row.get("same_objective_ratio")
    return row.get("ratio")


def merge(sources):
    """The first file's data, with rows replaced by later files' rows."""
    data = None
    for source in sources:
        with open(source) as f:
            loaded = json.load(f)
        if data is None:
            data = loaded
            continue
        index = {
            (r["workload"], r["dtype"], r["case"]): i
            for i, r in enumerate(data["results"])
        }
        for row in loaded["results"]:
            key = (row["workload"], row["dtype"], row["case"])
            if key in index:
                data["results"][index[key]] = row
            else:
                data["results"].append(row)
    return data


def plot(data, target):
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


def _seconds(x):
    return "never" if x is None else f"{x:.3g} s"


def _epochs(n):
    return f"{n} epochs" if n else "not within the epochs tried"


def _table_row(r):
    """(measure, ours, peer, ratio, notes) of one result."""
    if r["kind"] == "to_optimum":
        gap = f"ours: {_epochs(r['ours_epochs'])} (gap {r['ours_final_gap']:.1e})"
        peer = f"SGDClassifier: {_epochs(r['peer_epochs'])}"
        memory = r.get("ours_memory_ratio")
        notes = f"{gap}; {peer}" + (f"; memory {memory:.2f}" if memory else "")
        return (
            "time to gap < 1e-3 (LogisticRegression fit)",
            _seconds(r.get("ours_s")),
            _seconds(r["reference_s"]),
            r.get("ratio"),
            notes,
        )
    memory = (
        f"memory {r['ours_memory_ratio']:.2f} / {r['peer_memory_ratio']:.2f}"
        if "ours_memory_ratio" in r
        else ""
    )
    scores = f"test log-loss {r['ours_log_loss']:.4f} / {r['peer_log_loss']:.4f}"
    notes = "; ".join(x for x in (scores, memory) if x)
    if r["kind"] == "epochs":
        return (
            f"time per epoch ({r['peer']})",
            _seconds(r["ours_epoch_s"]),
            _seconds(r["peer_epoch_s"]),
            ratio(r),
            notes,
        )
    if r["kind"] == "optimum":
        notes += f"; objective gap {r['ours_gap']:.1e} / {r['peer_gap']:.1e}"
        if "same_objective_iterations" in r:
            iterations = r["same_objective_iterations"]
            default = f"default fits {r['ours_s']:.3g} s / {r['peer_s']:.3g} s"
            return (
                f"time to the peer's objective ({r['peer']} fit)",
                _seconds(r.get("same_objective_ours_s")),
                _seconds(r.get("same_objective_peer_s")),
                ratio(r),
                f"ours: {iterations or 'never within its'} iterations; "
                f"{default} ({r['ratio']:.2f}); {notes}",
            )
    return (
        f"fit time ({r['peer']})",
        _seconds(r["ours_s"]),
        _seconds(r["peer_s"]),
        r["ratio"],
        notes,
    )


def write_table(data, target):
    """The results as a reStructuredText list-table (included by the docs)."""
    header = [
        "workload",
        "dtype",
        "case",
        "measure (peer)",
        "skbackprop",
        "peer",
        "ratio",
        "notes (ours / peer)",
    ]
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 12 8 12 18 10 10 7 23",
        "",
    ]
    rows = [header]
    for r in data["results"]:
        measure, ours, peer, value, notes = _table_row(r)
        ratio_text = "-" if value is None else f"{value:.2f}"
        rows.append(
            [
                r["workload"],
                r["dtype"],
                r["case"],
                measure,
                ours,
                peer,
                ratio_text,
                notes,
            ]
        )
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    with open(target, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", help="benchmark JSON files")
    parser.add_argument("--png", help="where to write the plot")
    parser.add_argument("--table", help="where to write the RST table")
    args = parser.parse_args(argv)
    data = merge(args.sources)
    if args.png:
        plot(data, args.png)
    if args.table:
        write_table(data, args.table)


if __name__ == "__main__":
    main()
