"""Doctest collection: the ONNX module imports its optional dependencies."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("skl2onnx") else ["skbackprop/onnx.py"]
