"""The distributions carry the licence and the version the package declares."""

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import skbackprop

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("build") is None,
        reason="the 'build' package is not installed (pip install build)",
    ),
    pytest.mark.skipif(
        not (ROOT / "skbackprop").is_dir(),
        reason="no source tree beside the tests: they run against an installed wheel",
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the sdist and the wheel (from the sdist), as ``python -m build`` does."""
    outdir = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return outdir, done.stdout + done.stderr


def test_the_build_does_not_warn_about_the_license(built):
    _, log = built
    flagged = [
        line
        for line in log.splitlines()
        if "deprecat" in line.lower()
        or ("licen" in line.lower() and "warn" in line.lower())
    ]
    assert flagged == []


def test_the_wheel_carries_the_license_and_the_version(built):
    outdir, _ = built
    (wheel,) = outdir.glob("*.whl")
    assert wheel.name.startswith(f"skbackprop-{skbackprop.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        dist_info = f"skbackprop-{skbackprop.__version__}.dist-info"
        license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause License" in license_text
    assert "License-Expression: BSD-3-Clause" in metadata.splitlines()
    assert f"Version: {skbackprop.__version__}" in metadata.splitlines()


def test_the_sdist_carries_the_license(built):
    outdir, _ = built
    (sdist,) = outdir.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert f"skbackprop-{skbackprop.__version__}/LICENSE" in names
