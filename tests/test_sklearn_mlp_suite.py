"""scikit-learn's own MLP test module, run with skbackprop's estimators in place.

The installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` is
copied into a temporary directory, its estimator names are rebound to ours
right after its imports, and it runs in a pytest subprocess. Left out are only
the tests that read scikit-learn's private training internals (they have no
counterpart here) and, per run, the tests that belong to the other estimator.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import skbackprop
from skbackprop import MLPBackprop

SKLEARN_TEST_MLP = (
    Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
)

# MLPClassifier's training internals, read or set by some of scikit-learn's
# tests; skbackprop trains on another core and has none of them
PRIVATE_NAMES = {"_forward_pass", "_backprop", "_coef_grads", "_no_improvement_count"}

# scikit-learn's name -> skbackprop's name
OURS = {"MLPClassifier": "MLPBackprop", "MLPRegressor": "MLPBackpropRegressor"}

# The hook that deselects, written beside the copied module: a test function
# listed in deselect.json's "deselect" goes, and so does a parametrised case
# whose parameters hold the estimator the module binds to "other" (that case
# belongs to the other estimator's run).
CONFTEST = """\
import json
from pathlib import Path

from sklearn.conftest import pytest_generate_tests  # global_random_seed

_SPEC = json.loads((Path(__file__).parent / "deselect.json").read_text())


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        other = getattr(item.module, _SPEC["other"])
        params = getattr(item, "callspec", None)
        params = params.params.values() if params is not None else ()
        if item.originalname in _SPEC["deselect"] or any(
            value is other for value in params
        ):
            drop.append(item)
        else:
            keep.append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep
"""


def _names(node):
    """Identifiers and attribute names used anywhere under ``node``."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def _names_per_test(tree):
    """Names each test function uses: its body, decorators and module helpers.

    A test that calls a module-level helper uses the helper's names too.
    """
    functions = {
        node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    body = {
        name: set().union(*(_names(stmt) for stmt in node.body))
        for name, node in functions.items()
    }
    decorators = {
        name: set().union(*(_names(d) for d in node.decorator_list))
        for name, node in functions.items()
    }
    changed = True
    while changed:  # close over helpers calling helpers
        changed = False
        for name in functions:
            extra = set().union(
                *(body[h] for h in body[name] & functions.keys() if h != name)
            )
            if not extra <= body[name]:
                body[name] |= extra
                changed = True
    return {
        name: (body[name], decorators[name])
        for name in functions
        if name.startswith("test_")
    }


def _deselected(tree, substituted, other):
    """Test functions not to run when ``substituted`` is replaced by ours.

    Tests reading private internals never run. The classifier's run takes
    every other test whose body does not use MLPRegressor; the regressor's run
    takes those whose body uses MLPRegressor. A test parametrised over the
    estimators stays in both runs; the conftest hook keeps each run's cases.
    """
    deselect = []
    for name, (body, decorators) in _names_per_test(tree).items():
        if body & PRIVATE_NAMES:
            deselect.append(name)
        elif decorators & OURS.keys():
            continue  # parametrised over the estimators: the hook splits the cases
        elif substituted == "MLPClassifier" and other in body:
            deselect.append(name)
        elif substituted != "MLPClassifier" and substituted not in body:
            deselect.append(name)
    return sorted(deselect)


def _substituted_source(source, tree, names):
    """``source`` with ``names`` rebound to skbackprop's after its imports."""
    last_import = max(
        node.end_lineno
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    )
    lines = source.splitlines(keepends=True)
    rebind = "".join(
        f"from skbackprop import {OURS[name]} as {name}\n" for name in names
    )
    return "".join(lines[:last_import]) + rebind + "".join(lines[last_import:])


def _run_suite(tmp_path, substituted, other):
    source = SKLEARN_TEST_MLP.read_text()
    tree = ast.parse(source)
    # MLPClassifier is ours in both runs: the regressor run's mixed tests use it
    names = [name for name in OURS if name == substituted or name == "MLPClassifier"]
    copied = tmp_path / "test_mlp.py"
    copied.write_text(_substituted_source(source, tree, names))
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "deselect.json").write_text(
        json.dumps({"deselect": _deselected(tree, substituted, other), "other": other})
    )
    # the subprocess imports the skbackprop this test imported
    root = str(Path(skbackprop.__file__).resolve().parent.parent)
    path = [root, os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(copied)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _require_file():
    if not SKLEARN_TEST_MLP.is_file():
        pytest.skip(
            f"the installed scikit-learn ships no {SKLEARN_TEST_MLP} "
            "(its tests were left out of this installation)"
        )


@pytest.mark.parametrize(
    "substituted, other",
    [
        ("MLPClassifier", "MLPRegressor"),
        pytest.param(
            "MLPRegressor",
            "MLPClassifier",
            marks=pytest.mark.skipif(
                not hasattr(skbackprop, "MLPBackpropRegressor"),
                reason="skbackprop has no MLPBackpropRegressor yet (issue 23)",
            ),
        ),
    ],
)
def test_sklearn_mlp_suite_passes(tmp_path, substituted, other):
    _require_file()
    result = _run_suite(tmp_path, substituted, other)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert " passed" in result.stdout


def test_deselection_takes_exactly_the_private_and_other_estimator_tests():
    # checked on a small module of the same shape as scikit-learn's
    source = """
import numpy as np
import pytest
from sklearn.neural_network import (
    MLPClassifier,
    MLPRegressor,
)

def _helper(mlp):
    return mlp._backprop

def test_public():
    MLPClassifier().fit

def test_private():
    MLPClassifier()._coef_grads = []

def test_private_via_helper():
    _helper(MLPClassifier())

def test_regressor():
    MLPRegressor().fit

@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_both(Est):
    if Est is MLPRegressor:
        Est().predict

def test_no_estimator():
    np.zeros(3)
"""
    tree = ast.parse(source)
    assert _deselected(tree, "MLPClassifier", "MLPRegressor") == [
        "test_private",
        "test_private_via_helper",
        "test_regressor",
    ]
    assert _deselected(tree, "MLPRegressor", "MLPClassifier") == [
        "test_no_estimator",
        "test_private",
        "test_private_via_helper",
        "test_public",
    ]
    rebound = _substituted_source(source, tree, ["MLPClassifier"])
    namespace = {}
    exec(compile(rebound, "<rebound>", "exec"), namespace)
    assert namespace["MLPClassifier"] is skbackprop.MLPBackprop
    assert namespace["MLPRegressor"] is not skbackprop.MLPBackprop


# Inputs scikit-learn's module does not try; MLPClassifier is the reference.
HIDDEN_LAYER_SIZES = [
    (5.9,),
    ("5",),
    (True, True),
    True,
    5.9,
    "5",
    None,
    0,
    (0,),
    (-1, 3),
    (0, 5.9),
    (3, None),
    [[3]],
    (3.0,),
    (),
    [],
    4,
    (4, 2),
    np.array([3, 2]),
    (np.int64(3),),
]


@pytest.mark.parametrize("sizes", HIDDEN_LAYER_SIZES, ids=repr)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_hidden_layer_sizes_validated_as_mlpclassifier(sizes):
    X, y = np.random.RandomState(0).rand(12, 3), np.arange(12) % 2
    outcomes = []
    for Est in (MLPClassifier, MLPBackprop):
        try:
            est = Est(hidden_layer_sizes=sizes, max_iter=2, random_state=0).fit(X, y)
        except (TypeError, ValueError) as exc:
            # scikit-learn's own TypeErrors come from numpy (UFuncTypeError...)
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            outcomes.append((kind, str(exc) if kind is ValueError else None))
        else:
            outcomes.append([c.shape for c in est.coefs_])
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("solver", ["sgd", "adam", "gd"])
def test_n_iter_no_change_inf_trains_max_iter_epochs(solver):
    X, y = np.random.RandomState(0).rand(30, 3), np.arange(30) % 3
    # a tolerance no epoch meets: only max_iter ends the fit
    est = MLPBackprop((4,), solver=solver, tol=1e9, n_iter_no_change=np.inf, max_iter=7)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 7 and len(est.loss_curve_) == 7
