import os

# scikit-learn's check_array_api_input skips itself unless scipy runs in array
# API mode; this has to be set before scipy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
