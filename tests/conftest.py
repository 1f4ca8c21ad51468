import os

# scikit-learn's check_array_api_input skips itself unless scipy runs in array
# API mode; this has to be set before scipy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# CI runs the property tests on a fixed sequence of examples, so that a red CI
# always reproduces; local runs keep drawing new examples to hunt for failures.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    settings.load_profile("ci")
