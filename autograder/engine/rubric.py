"""Rubrics as data: what each student function is judged on, how, and for how many points.

An :class:`Assignment` is a list of :class:`FunctionSpec`; each function has
one or more checks, built with the functions below (one per kind of check,
see :mod:`autograder.engine.checks`): each is a Hypothesis search over one strategy
of cases (or, for speed, one fixed case) judging the properties in its
``points`` (property -> points, in the order failures are reported). Adding
an assignment means writing a module like :mod:`autograder.rubrics.conv_layers`,
not new grading code::

    function(
        "conv_forward_naive(x, w, b, conv_param)", "conv_forward",
        forward_check(cases.conv_cases(max_filter_size=4), {"output shape": 2, "output values": 4, "inputs unchanged": 1}),
    )

The builders and the properties their checks judge:

:func:`value_check`
    ``f(*args)`` returns one value compared with the reference's:
    ``"value"`` for an int (output sizes, parameter counts), ``"shape"`` and
    ``"values"`` for an array, ``"shapes"`` and ``"parameter counts"`` for a
    per-layer table; ``"inputs unchanged"`` for any.
:func:`forward_check`
    ``f(*args)`` returns ``(out, cache)``: ``"output shape"``,
    ``"output values"``, ``"inputs unchanged"``.
:func:`backward_check`
    ``f(dout, cache)`` with the cache of the student's own forward (the
    course's standard cache where that forward fails; tried too where the
    backward fails and that forward was wrong, see :mod:`autograder.engine.cascade`).
    One property per returned gradient (``"dx"``, ``"dw"``, ``"db"``).
:func:`raises_check`
    ``f(*args)`` must raise ``error``: the property ``"raises <error>"``.
:func:`speed_check`
    No search: one fixed ``case``. The student's function must first be
    right on it (else the property fails, "not timed"); then it is timed in
    the sandbox on ``repeats`` calls, each with new values of the case's
    shapes and each result checked (the fastest counts), by the child's
    CPU time read by the grader, and compared with the reference's
    vectorized op timed the same way in the grader with BLAS on one thread,
    as in the sandbox (see :mod:`autograder.engine.speed`). The property (one, e.g.
    ``"speed"``) passes when the ratio is at most ``max_ratio``; the
    measured ratio is reported either way. With ``forward`` set, the
    function is a backward: the student's forward makes each cache the
    backward is called with.

A call that raises on some valid cases is judged on the others and charged
once (:func:`autograder.engine.search.search_check`); the properties in
:data:`SIDE_CONDITIONS` pay only alongside an output of the right type and shape.

An assignment's ``version`` is not written by hand: it is the first 12 hex
digits of :func:`autograder.engine.fingerprint.rubric_digest`, computed from the
rubric's content (names, signatures, every check's data) and the source of
the code that decides its cases and verdicts. Changing a point value, an
``examples`` count, a strategy bound, a hint or the grading code gives a new
version, and a class run grades again what was graded under the old one;
nothing needs bumping.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from .checks import (
    BackwardCheck,
    Check,
    ForwardCheck,
    RaisesCheck,
    SpeedCheck,
    ValueCheck,
    course_cache,
    positional,
    upstream,
)
from .verdicts import SIDE_CONDITIONS

__all__ = ["SIDE_CONDITIONS", "Check", "FunctionSpec", "Assignment", "function", "value_check", "forward_check",
           "backward_check", "raises_check", "speed_check"]


@dataclass(frozen=True)
class FunctionSpec:
    """A function students write: its name, its reference op, its checks."""

    name: str
    reference: str  # op name in reference / autograder.engine.oracle
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
        """12 hex digits of :func:`autograder.engine.fingerprint.rubric_digest`: a new one whenever grading could change."""
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


def function(signature: str, reference: str, *checks: Check) -> FunctionSpec:
    """A :class:`FunctionSpec` named after its ``signature`` (``"zero_pad(x, pad)"`` -> ``zero_pad``)."""
    return FunctionSpec(name=signature.split("(", 1)[0], reference=reference, signature=signature, checks=checks)


def _built(kind: type[Check], builder: str, **fields) -> Check:
    """``kind(**fields)``, a misspelt option named with the closest known one (``hint`` -> ``hints``)."""
    known = [item.name for item in dataclasses.fields(kind) if item.init]
    for name in fields:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known)}"
            raise TypeError(f"{builder}() got an unexpected keyword {name!r}{suggestion}")
    return kind(**fields)


def value_check(strategy, points: Mapping[str, float], *, arguments=positional, **options) -> ValueCheck:
    """A function returning one value (an int, an array or a table) compared with the reference's.

    ``arguments`` turns a case into the call's positional arguments (default:
    ``case.args``); ``options`` are ``hints``, ``description``, ``examples``, ``rtol``.
    """
    return _built(ValueCheck, "value_check", strategy=strategy, arguments=arguments, points=points, **options)


def forward_check(strategy, points: Mapping[str, float], **options) -> ForwardCheck:
    """A forward pass: called with the case's arguments, judged on ``out`` of its ``(out, cache)``."""
    return _built(ForwardCheck, "forward_check", strategy=strategy, points=points, **options)


def backward_check(strategy, forward: str, points: Mapping[str, float], **options) -> BackwardCheck:
    """A backward pass: ``dout`` and the cache of the student's own ``forward`` (the case's
    standard cache, ``case.cache``, where that forward fails); one property per returned gradient."""
    return _built(BackwardCheck, "backward_check", strategy=strategy, forward=forward, outputs=tuple(points), points=points, **options)


def raises_check(strategy, points: Mapping[str, float], *, error: str = "ValueError", arguments=positional, **options) -> RaisesCheck:
    """Arguments that must make the function raise ``error``."""
    return _built(RaisesCheck, "raises_check", strategy=strategy, arguments=arguments, points=points, error=error, **options)


def speed_check(case, points: Mapping[str, float], *, forward: str | None = None, outputs: tuple[str, ...] = (),
                max_ratio: float = 5.0, repeats: int = 5, **options) -> SpeedCheck:
    """The function timed on the one fixed ``case`` against the reference's op: at most ``max_ratio`` times its time.

    For a forward, the call is ``f(*case.args)``; with ``forward`` (the
    student's forward making each cache) it is a backward, ``f(case.dout, cache)``,
    returning the gradients named in ``outputs``.
    """
    if forward is None:
        return _built(SpeedCheck, "speed_check", case=case, points=points, max_ratio=max_ratio, repeats=repeats, **options)
    return _built(SpeedCheck, "speed_check", case=case, points=points, max_ratio=max_ratio, repeats=repeats, arguments=upstream,
                  forward=forward, forward_arguments=positional, standard_cache=course_cache, outputs=outputs, **options)
