"""BLAS thread policy of the NumPy engine.

Small per-batch products run on one BLAS thread (threads woken for them stall
whenever another process holds a core); large products get the user's
threads on NumPy's BLAS only, since the idle threads of a second BLAS pool
(SciPy's, which runs the optimizers' ``axpy`` and L-BFGS-B) spin against
them. Measurements are on the performance page.
"""

import contextlib
import functools
import os

from threadpoolctl import ThreadpoolController

from .blas import SINGLE_THREAD_BELOW


@functools.cache
def controller():
    """The process's threadpoolctl controller (built once: it scans libraries)."""
    return ThreadpoolController()


def small_products(layer_units, rows, sparse_input=False):
    """Whether the largest BLAS product of a pass over ``rows`` rows is too
    small for BLAS threads; a sparse ``X``'s first-layer products are SciPy's
    single-threaded kernels, so only the later layers count."""
    units = layer_units[1 if sparse_input else 0 :]
    largest = rows * max(
        (a * b for a, b in zip(units[:-1], units[1:], strict=True)), default=0
    )
    return largest < SINGLE_THREAD_BELOW


def numpy_and_other_blas():
    """Paths of the BLAS libraries NumPy's products use, and of the others.

    Wheels of NumPy and SciPy bundle one OpenBLAS each, told apart by the
    folder they live in; with one shared BLAS (e.g. conda) all count as NumPy's.
    """
    paths = [
        lib.filepath for lib in controller().select(user_api="blas").lib_controllers
    ]
    numpys = [p for p in paths if "numpy" in os.path.basename(os.path.dirname(p))]
    if not numpys:
        return paths, []
    return numpys, [p for p in paths if p not in numpys]


def user_threads():
    """The BLAS threads the user allows (the most any BLAS library has)."""
    blas = controller().select(user_api="blas")
    return max((lib["num_threads"] for lib in blas.info()), default=1)


def for_stochastic(layer_units, rows, sparse_input):
    """Context manager of a stochastic run: one BLAS thread for small batch
    products; else the user's threads for NumPy's BLAS and one for the others."""
    if small_products(layer_units, rows, sparse_input):
        return controller().limit(limits=1, user_api="blas")
    _, others = numpy_and_other_blas()
    if others:
        return controller().select(filepath=others).limit(limits=1)
    return contextlib.nullcontext()


def for_lbfgs_products(layer_units, rows, sparse_input, threads):
    """Context-manager factory for the products of one L-BFGS evaluation.

    The run keeps every BLAS on one thread (L-BFGS-B's own vector updates);
    only large dense products get NumPy's BLAS back with ``threads``.
    """
    if threads == 1 or small_products(layer_units, rows, sparse_input):
        return contextlib.nullcontext
    numpys, _ = numpy_and_other_blas()
    return functools.partial(controller().select(filepath=numpys).limit, limits=threads)


def one_blas_thread():
    """Context manager limiting every BLAS library to one thread."""
    return controller().select(user_api="blas").limit(limits=1)
