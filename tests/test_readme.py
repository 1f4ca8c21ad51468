"""The README's promises: its set-up commands and its usage example stay true."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_demo_and_test_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands[:2] == [
        "pip install . && python -m skbackprop",
        'pip install ".[test]" && python -m pytest',
    ]


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && python -m pytest' in ci


def test_readme_usage_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "True"  # the gradient check's verdict


@pytest.fixture(scope="module")
def demo_output():
    result = subprocess.run(
        [sys.executable, "-m", "skbackprop"], capture_output=True, text=True, check=True
    )
    return result.stdout


def _rows(text):
    """The table rows of ``text``: lines ending in a fit time."""
    return [line for line in text.splitlines() if re.search(r"\d\.\d+s$", line)]


def test_demo_prints_a_row_per_model(demo_output):
    classification, regression = demo_output.split("\ndiabetes:")
    rows = _rows(classification)
    names = [row.split("  ")[0] for row in rows]
    assert any(name.startswith("SoftmaxClassifier") for name in names)
    assert any(name.startswith("sklearn LogisticRegression") for name in names)
    assert any(name.startswith("MLPBackprop") for name in names)
    assert any(name.startswith("sklearn MLPClassifier") for name in names)
    for row in rows:
        accuracy = float(row.split()[-3])
        assert 0.9 < accuracy <= 1.0
    rows = _rows(regression)
    names = [row.split("  ")[0] for row in rows]
    for name in ("LinearRegressionGD", "sklearn Ridge", "MLPBackpropRegressor"):
        assert any(n.startswith(name) for n in names)
    assert any(name.startswith("sklearn MLPRegressor") for name in names)
    for row in rows:
        r2 = float(row.split()[-3])
        assert 0.3 < r2 <= 1.0  # diabetes: Ridge's test R² is about 0.36


def test_demo_shows_the_paired_models_agree_and_the_gradient_verdict(demo_output):
    out = demo_output
    assert "alpha=1/(C*n)" in out and "C -> 2*C" in out and "median of" in out
    assert "Ridge(alpha=a*n)" in out
    gaps = re.findall(r"^  .* vs .*:\s+(\S+)$", out, re.M)
    assert len(gaps) == 5
    assert all(float(gap) < 1e-4 for gap in gaps)
    assert out.rstrip().splitlines()[-1].endswith("the gradient is right")
