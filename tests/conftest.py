import os

# scikit-learn's array API checks need scipy in array API mode, set before scipy
# is imported: the root conftest.py does it, this one where the tests run
# without it (CI's run against the installed wheel copies tests/ alone).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# CI runs the property tests on a fixed sequence of examples, so that a red CI
# always reproduces; local runs keep drawing new examples to hunt for failures.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    settings.load_profile("ci")
