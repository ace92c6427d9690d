"""Cross-checking engines: the reference (vectorized and naive) against the torch oracle.

:func:`compare_engines` runs one op in every engine on copies of the same
arguments and measures how far apart they land; :func:`crosscheck` does it on
Hypothesis-drawn cases for the whole op set and is what ``autograder demo``
prints. The engine tests use the same two functions.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..engine.cache import hypothesis_storage
from ..engine.compare import normwise_error
from ..rubrics import strategies as cases

__all__ = ["EngineComparison", "OpSummary", "OPS", "compare_engines", "crosscheck"]


@dataclass(frozen=True)
class EngineComparison:
    """Results of one op in each engine, and their largest normwise error against the vectorized one."""

    results: dict
    errors: dict[str, float]
    inputs_unchanged: bool


def _arrays(result) -> list[np.ndarray]:
    """The arrays an op returns, without its cache: ``out`` of ``(out, cache)``, or each gradient."""
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, tuple) and len(result) == 2 and not (
        isinstance(result[1], np.ndarray) and result[1].shape == result[0].shape
    ):
        return [result[0]]  # (out, cache)
    return list(result)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    return a == b


def compare_engines(op: str, *args) -> EngineComparison:
    """Run ``op`` as ``reference.<op>``, ``reference.<op>_naive`` and ``oracle.<op>`` and compare.

    Each engine gets its own deep copy of ``args``; ``inputs_unchanged`` says
    whether every engine left its copy as it was.
    """
    import reference

    from ..engine import oracle

    engines = {"vectorized": getattr(reference, op), "naive": getattr(reference, f"{op}_naive"), "torch": getattr(oracle, op)}
    results, unchanged = {}, True
    for name, function in engines.items():
        inputs = copy.deepcopy(args)
        results[name] = function(*inputs)
        unchanged = unchanged and _same(inputs, args)
    base = _arrays(results["vectorized"])
    errors = {}
    for name in ("naive", "torch"):
        other = _arrays(results[name])
        if len(other) != len(base) or any(a.shape != b.shape for a, b in zip(base, other)):
            errors[name] = float("inf")
        else:
            errors[name] = max((normwise_error(a, b) for a, b in zip(other, base)), default=0.0)
    return EngineComparison(results, errors, unchanged)


@dataclass(frozen=True)
class Op:
    """An op of the cross-check: its name, the cases it is drawn on, and how a case becomes arguments."""

    name: str
    strategy: st.SearchStrategy
    arguments: Callable[[object], tuple]


def _conv_cache(case):
    return (case.x, case.w, case.b, case.conv_param)


OPS: tuple[Op, ...] = (
    Op("zero_pad", cases.pad_cases(pairs=True), lambda c: c.args),
    Op("conv_forward", cases.conv_cases(pairs=True, max_dilation=2), lambda c: c.args),
    Op("conv_backward", cases.conv_cases(pairs=True, max_dilation=2), lambda c: (c.dout, _conv_cache(c))),
    Op("max_pool_forward", cases.pool_cases(pairs=True), lambda c: c.args),
    Op("max_pool_backward", cases.pool_cases(pairs=True), lambda c: (c.dout, (c.x, c.pool_param))),
    Op("avg_pool_forward", cases.pool_cases(pairs=True), lambda c: c.args),
    Op("avg_pool_backward", cases.pool_cases(pairs=True), lambda c: (c.dout, (c.x, c.pool_param))),
    Op("global_avg_pool_forward", cases.global_pool_cases(), lambda c: c.args),
    Op("global_avg_pool_backward", cases.global_pool_cases(), lambda c: (c.dout, c.x)),
    Op("relu_forward", cases.relu_cases(), lambda c: c.args),
    Op("relu_backward", cases.relu_cases(), lambda c: (c.dout, c.x)),
    Op("affine_forward", cases.affine_cases(), lambda c: c.args),
    Op("affine_backward", cases.affine_cases(), lambda c: (c.dout, c.args)),
    Op("conv1x1_forward", cases.conv1x1_cases(max_channels=8, max_filters=8), lambda c: c.args),
    Op("correlate2d", cases.correlation_cases(), lambda c: c.args),
    Op("convolve2d", cases.correlation_cases(), lambda c: c.args),
)


@dataclass
class OpSummary:
    """What the cross-check found for one op."""

    op: str
    cases: int = 0
    max_error_naive: float = 0.0
    max_error_torch: float = 0.0
    inputs_unchanged: bool = True
    seconds: float = 0.0
    worst_case: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.inputs_unchanged and max(self.max_error_naive, self.max_error_torch) <= 1e-10

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def crosscheck(*, examples: int = 200, ops: tuple[str, ...] | None = None, progress: Callable[[str], None] | None = None) -> list[OpSummary]:
    """Cross-check every op (or those named in ``ops``) on ``examples`` drawn cases each.

    The cases are derandomized: every run checks the same ones.
    """
    summaries = []
    for op in OPS:
        if ops is not None and op.name not in ops:
            continue
        if progress:
            progress(op.name)
        summary = OpSummary(op.name)
        start = time.perf_counter()
        _check_op(op, summary, examples)
        summary.seconds = time.perf_counter() - start
        summaries.append(summary)
    return summaries


def _check_op(op: Op, summary: OpSummary, examples: int) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(op.strategy)
    def run(case):
        comparison = compare_engines(op.name, *op.arguments(case))
        summary.cases += 1
        summary.inputs_unchanged &= comparison.inputs_unchanged
        if comparison.errors["torch"] > summary.max_error_torch:
            summary.worst_case = case.describe()
        summary.max_error_naive = max(summary.max_error_naive, comparison.errors["naive"])
        summary.max_error_torch = max(summary.max_error_torch, comparison.errors["torch"])

    with hypothesis_storage():  # Hypothesis's files go to the grader's cache, not the current folder
        run()
