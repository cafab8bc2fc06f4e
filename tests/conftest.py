"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def blas():
    """OpenBLAS's (get, set) thread-count functions, at 2 threads for the test, put back after
    (skips where NumPy does not use OpenBLAS, or it cannot run 2 threads)."""
    from bprop.training.processes import openblas_controls
    controls = openblas_controls()
    if not controls:
        pytest.skip("NumPy here does not use OpenBLAS")
    get, set_, _, _ = controls[0]
    before = get()
    set_(2)
    if get() != 2:
        set_(before)
        pytest.skip("OpenBLAS here cannot run 2 threads")
    yield get, set_
    set_(before)
