"""One comparison helper for the engine tests: run an op in every engine and compare.

``check_engines(op, case_args, ...)`` calls ``reference.<op>``,
``reference.<op>_naive`` and ``autograder.oracle.<op>`` on copies of the same
arguments, checks that no engine modified its inputs, and that all results
agree to ``tolerance`` in normwise relative error (``max|a - b| / max|b|``:
CS231n's elementwise ``rel_error`` flags rounding noise on entries that
should be exactly 0).
"""

from __future__ import annotations

import copy

import numpy as np

import reference
from autograder import oracle
from autograder.compare import normwise_error

TOLERANCE = 1e-10


def _flatten(result):
    """The arrays of a result: a forward's ``out`` (not its cache), or each gradient."""
    if isinstance(result, tuple) and len(result) == 2 and not isinstance(result[1], np.ndarray):
        return [result[0]]  # (out, cache)
    if isinstance(result, tuple):
        if len(result) == 2 and isinstance(result[0], np.ndarray) and result[0].shape != np.shape(result[1]):
            return [result[0]]  # (out, cache=x) where the cache is an array of another shape
        return list(result)
    return [result]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    return a == b


def run_engines(op: str, *args):
    """``{engine name: result}`` for the vectorized, naive and torch versions of ``op``."""
    engines = {
        "vectorized": getattr(reference, op),
        "naive": getattr(reference, f"{op}_naive"),
        "torch": getattr(oracle, op),
    }
    results = {}
    for name, function in engines.items():
        inputs = copy.deepcopy(args)
        results[name] = function(*inputs)
        assert _same(inputs, args), f"{name} {op} modified its inputs"
    return results


def check_engines(op: str, *args, tolerance: float = TOLERANCE, describe: str = ""):
    """Assert the three engines agree on ``op(*args)``; returns the vectorized result."""
    results = run_engines(op, *args)
    base = _flatten(results["vectorized"])
    for name in ("naive", "torch"):
        other = _flatten(results[name])
        assert len(other) == len(base), f"{op}: {name} returned {len(other)} arrays, vectorized {len(base)}"
        for position, (ours, theirs) in enumerate(zip(base, other)):
            assert ours.shape == theirs.shape, f"{op}[{position}] {describe}: shape {ours.shape} vs {name} {theirs.shape}"
            error = normwise_error(ours, theirs)
            assert error <= tolerance, f"{op}[{position}] {describe}: vectorized vs {name} rel error {error:.3g}"
    return results["vectorized"]
