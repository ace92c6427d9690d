"""Rubrics as data: what each student function is judged on, how, and for how many points.

An :class:`Assignment` is a list of :class:`FunctionSpec`; each function has
one or more :class:`Check` s, a Hypothesis search over one strategy of cases.
A check's ``kind`` says how the student's function is called and what its
result must look like; its ``points`` map each property it judges to the
points it is worth (in the order failures are reported). Adding an
assignment means writing a module like :mod:`autograder.rubrics.conv_layers`,
not new grading code.

Kinds and the properties they judge:

``value``
    ``f(*args)`` returns one value compared with the reference's:
    ``"value"`` for an int (output sizes, parameter counts) or ``"shape"``,
    ``"values"`` for an array; ``"inputs unchanged"`` for any kind.
``forward``
    ``f(*args)`` returns ``(out, cache)``: ``"output shape"``,
    ``"output values"``, ``"inputs unchanged"``.
``backward``
    The student's own forward runs first, and its cache is passed to
    ``f(*args, cache)`` without leaving the sandbox (the course's standard
    cache when that forward fails; tried too where the backward fails and
    that forward was wrong, see :mod:`autograder.cascade`). One property
    per returned gradient, named in ``outputs`` (``"dx"``, ``"dw"``, ``"db"``).

A call that raises on some valid cases is judged on the others and charged
once (:func:`autograder.search.search_check`); the properties in
:data:`SIDE_CONDITIONS` pay only alongside an output of the right type and shape.
``raises``
    ``f(*args)`` must raise ``error``: the property ``"raises <error>"``.
``speed``
    No search: one fixed ``case``. The student's function must first be
    right on it (else the property fails, "not timed"); then it is timed in
    the sandbox on ``repeats`` calls, each with new values of the case's
    shapes and each result checked (the fastest counts), by the child's
    CPU time read by the grader, and compared with the reference's
    vectorized op timed the same way in the grader with BLAS on one thread,
    as in the sandbox (see `autograder.judge`). The property (one, e.g.
    ``"speed"``) passes when the ratio is at most ``max_ratio``; the
    measured ratio is reported either way. With ``forward`` set, the
    function is a backward: the student's forward makes each cache the
    backward is called with.

An assignment's ``version`` is not written by hand: it is the first 12 hex
digits of :func:`autograder.fingerprint.rubric_digest`, computed from the
rubric's content (names, signatures, every check's data) and the source of
the code that decides its cases and verdicts. Changing a point value, an
``examples`` count, a strategy bound, a hint or the grading code gives a new
version, and a class run grades again what was graded under the old one;
nothing needs bumping.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis.strategies import SearchStrategy

__all__ = ["KINDS", "SIDE_CONDITIONS", "Check", "FunctionSpec", "Assignment", "function", "value_check", "forward_check", "backward_check", "raises_check"]

KINDS = ("value", "forward", "backward", "raises", "speed")
#: Properties that check a side condition, not the output: they pay only when the function returned
#: an output of the right type and shape on some case (the untouched template earns nothing).
SIDE_CONDITIONS = frozenset({"inputs unchanged"})


@dataclass(frozen=True)
class Check:
    """One Hypothesis search over ``strategy`` (or, for ``speed``, one fixed ``case``) judging the properties in ``points``."""

    kind: str
    strategy: SearchStrategy | None = None  # every kind but speed
    arguments: Callable[[Any], tuple] | None = None  # a drawn case -> positional arguments for the student
    points: Mapping[str, float] = field(default_factory=dict)  # property -> points, in reporting order
    examples: int = 100
    keywords: Callable[[Any], dict] | None = None  # a drawn case -> keyword arguments
    forward: str | None = None  # backward: the student's forward that makes the cache
    forward_arguments: Callable[[Any], tuple] | None = None
    standard_cache: Callable[[Any], Any] | None = None  # backward: the course's cache, when the forward fails
    forward_reference: str = ""  # backward: the forward's reference op (default: the backward's, "_backward" -> "_forward")
    outputs: tuple[str, ...] = ()  # backward: names of the returned gradients
    error: str = "ValueError"  # raises: the exception class name expected
    hints: tuple = ()  # autograder.hints.Hint, tried on the minimal failing case
    rtol: float = 1e-7  # normwise relative error allowed on values
    description: str = ""  # e.g. "configurations that fit"
    case: Any = None  # speed: the fixed case it is timed on
    max_ratio: float = 5.0  # speed: the student's time over the reference's, at most
    repeats: int = 5  # speed: timed calls (after one warm-up); the fastest counts

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Check.kind must be one of {KINDS}, got {self.kind!r}")
        if self.arguments is None or not self.points:
            raise ValueError("a check needs arguments and points")
        if self.kind == "speed":
            if self.case is None or self.strategy is not None:
                raise ValueError("a speed check is timed on one fixed case: give case, not strategy")
            if len(self.points) != 1:
                raise ValueError(f"a speed check judges one property, got {tuple(self.points)}")
            if not (self.max_ratio > 0 and self.repeats >= 1):
                raise ValueError(f"a speed check needs max_ratio > 0 and repeats >= 1, got {self.max_ratio} and {self.repeats}")
            if self.forward and not (self.forward_arguments and self.standard_cache and self.outputs):
                raise ValueError("a speed check of a backward needs forward_arguments, standard_cache and outputs")
            return
        if self.strategy is None:
            raise ValueError(f"a {self.kind} check needs a strategy")
        if self.kind == "backward" and not (self.forward and self.forward_arguments and self.standard_cache and self.outputs):
            raise ValueError("a backward check needs forward, forward_arguments, standard_cache and outputs")
        if self.kind == "backward" and set(self.points) != set(self.outputs):
            raise ValueError(f"a backward check scores its outputs {self.outputs}, got points for {tuple(self.points)}")

    @property
    def max_points(self) -> float:
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class FunctionSpec:
    """A function students write: its name, its reference op, its checks."""

    name: str
    reference: str  # op name in reference / autograder.oracle
    signature: str  # how the course writes the call, e.g. "conv_forward_naive(x, w, b, conv_param)"
    checks: tuple[Check, ...]

    @property
    def max_points(self) -> float:
        return sum(check.max_points for check in self.checks)


@dataclass(frozen=True)
class Assignment:
    """An assignment's rubric; ``version`` follows from its content (see the module's docstring)."""

    name: str
    functions: tuple[FunctionSpec, ...]
    title: str = ""
    extra: dict = field(default_factory=dict)
    #: The notebooks students receive (``assignments/<name>/``), relative to the assignment's folder;
    #: in a submission folder these are graded and nothing else. Default: ``<name>.ipynb``.
    notebooks: tuple[str, ...] = ()

    @functools.cached_property
    def version(self) -> str:
        """12 hex digits of :func:`autograder.fingerprint.rubric_digest`: a new one whenever grading could change."""
        from .fingerprint import SHORT, rubric_digest

        return rubric_digest(self)[:SHORT]

    @property
    def released_notebooks(self) -> tuple[str, ...]:
        """The released notebooks' names, as a submission folder holds them."""
        return self.notebooks or (f"{self.name}.ipynb",)

    @property
    def max_points(self) -> float:
        return sum(function.max_points for function in self.functions)

    def function(self, name: str) -> FunctionSpec:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)


# --------------------------------------------------------------------------- building rubrics


def _positional(case) -> tuple:
    return case.args


def _upstream(case) -> tuple:
    return (case.dout,)


def _standard_cache(case):
    return case.cache


def function(signature: str, reference: str, *checks: Check) -> FunctionSpec:
    """A :class:`FunctionSpec` named after its ``signature`` (``"zero_pad(x, pad)"`` -> ``zero_pad``)."""
    return FunctionSpec(name=signature.split("(", 1)[0], reference=reference, signature=signature, checks=checks)


def value_check(strategy, points: Mapping[str, float], *, arguments=_positional, **options) -> Check:
    """A function returning one value (an int, an array or a table) compared with the reference's."""
    return Check(kind="value", strategy=strategy, arguments=arguments, points=points, **options)


def forward_check(strategy, points: Mapping[str, float], **options) -> Check:
    """A forward pass: called with the case's arguments, judged on ``out`` of its ``(out, cache)``."""
    return Check(kind="forward", strategy=strategy, arguments=_positional, points=points, **options)


def backward_check(strategy, forward: str, points: Mapping[str, float], **options) -> Check:
    """A backward pass: ``dout`` and the cache of the student's own ``forward`` (the case's
    standard cache, ``case.cache``, where that forward fails); one property per returned gradient."""
    return Check(
        kind="backward",
        strategy=strategy,
        arguments=_upstream,
        forward=forward,
        forward_arguments=_positional,
        standard_cache=_standard_cache,
        outputs=tuple(points),
        points=points,
        **options,
    )


def raises_check(strategy, points: Mapping[str, float], *, error: str = "ValueError", arguments=_positional, **options) -> Check:
    """Arguments that must make the function raise ``error``."""
    return Check(kind="raises", strategy=strategy, arguments=arguments, points=points, error=error, **options)
