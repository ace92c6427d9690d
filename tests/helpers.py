"""One comparison helper for the engine tests: run an op in every engine and compare.

``check_engines(op, *args)`` runs ``reference.<op>``, ``reference.<op>_naive``
and ``autograder.engine.oracle.<op>`` (through :func:`autograder.classroom.crosscheck.compare_engines`),
checks that no engine modified its inputs, and that all results agree to
``tolerance`` in normwise relative error (``max|a - b| / max|b|``: CS231n's
elementwise ``rel_error`` flags rounding noise on entries that should be 0).
"""

from __future__ import annotations

from autograder.classroom.crosscheck import compare_engines

TOLERANCE = 1e-10


def check_engines(op: str, *args, tolerance: float = TOLERANCE, describe: str = ""):
    """Assert the three engines agree on ``op(*args)``; returns the vectorized result."""
    comparison = compare_engines(op, *args)
    assert comparison.inputs_unchanged, f"{op} {describe}: an engine modified its inputs"
    for engine, error in comparison.errors.items():
        assert error <= tolerance, f"{op} {describe}: vectorized vs {engine} normwise error {error:.3g}"
    return comparison.results["vectorized"]
