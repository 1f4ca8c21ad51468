"""Test session set-up: scipy in array API mode, and doctest collection (the
ONNX module imports its optional dependencies)."""

import importlib.util
import os

# scikit-learn's array API dispatch (tests/test_array_api.py, and the checks
# check_estimator runs for the array_api_support tag) needs scipy in array API
# mode, which is read when scipy is first imported: this root conftest is
# loaded before any test module, and before the package's doctests.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

collect_ignore = [] if importlib.util.find_spec("skl2onnx") else ["skbackprop/onnx.py"]
