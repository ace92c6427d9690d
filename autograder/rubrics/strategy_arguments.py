"""Checking a strategy's arguments when it is built, so that a rubric with a bad bound fails at its line.

Hypothesis's ``@composite`` strategies are lazy: ``conv_cases(max_fliter_size=3)``
would only fail at the first draw, deep inside a grading run. Each builder of
:mod:`autograder.rubrics.strategies` is wrapped in :func:`checked_arguments`, which
refuses, at the call, an unknown keyword (naming the closest known one), a
bound that is not an int or is below its least value, a lower bound above its
upper bound, a flag that is not a bool and an unknown value style, as
Hypothesis's own strategies do with its ``InvalidArgument``::

    conv_cases(max_filter_size=0): max_filter_size must be at least 1
    conv_cases() got an unexpected keyword 'max_fliter_size' (did you mean 'max_filter_size'?)
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping

from hypothesis.errors import InvalidArgument

from .cases import VALUE_STYLES

__all__ = ["InvalidArgument", "checked_arguments"]


def checked_arguments(*, least: Mapping[str, int] | None = None, forwards_to: Callable | None = None,
                      also: Callable[[dict], str] | None = None) -> Callable:
    """Wrap a strategy builder so that its keyword arguments are checked when it is called.

    Parameters
    ----------
    least : mapping, optional
        The least value of a ``min_*``/``max_*`` bound, where it is not 1
        (``{"max_pad": 0}``).
    forwards_to : callable, optional
        The builder its ``**bounds`` go to (itself wrapped): its keywords are
        known too, and checked by it.
    also : callable, optional
        A check of the whole set of arguments (defaults filled in): a message
        naming what is wrong, or ``""``.
    """
    least = dict(least or {})

    def wrap(builder: Callable) -> Callable:
        parameters = {name: parameter for name, parameter in inspect.signature(builder).parameters.items()
                      if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
        inner = getattr(forwards_to, "check_arguments", None) if forwards_to else None
        forwarded = getattr(forwards_to, "known_arguments", ()) if forwards_to else ()
        known = (*parameters, *(name for name in forwarded if name not in parameters))

        def check_arguments(name: str, given: str, kwargs: dict) -> None:
            """Raise :class:`InvalidArgument` for the first bad one of ``kwargs`` (``given`` as the call wrote them)."""
            for keyword in kwargs:
                if keyword not in known:
                    close = difflib.get_close_matches(keyword, known, n=1)
                    suggestion = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known)}"
                    raise InvalidArgument(f"{name}() got an unexpected keyword {keyword!r}{suggestion}")
            for keyword, value in kwargs.items():
                problem = _problem(keyword, value, least.get(keyword, 1)) if keyword in parameters else ""
                if problem:
                    raise InvalidArgument(f"{name}({given}): {problem}")
            values = {key: parameter.default for key, parameter in parameters.items()} | kwargs
            for keyword in parameters:
                upper = f"max_{keyword[4:]}"
                if keyword.startswith("min_") and upper in values and values[keyword] > values[upper]:
                    raise InvalidArgument(f"{name}({given}): {keyword}={values[keyword]} is larger than {upper}={values[upper]}")
            problem = also(values) if also else ""
            if problem:
                raise InvalidArgument(f"{name}({given}): {problem}")
            if inner is not None:
                inner(name, given, {key: value for key, value in kwargs.items() if key in forwarded})

        @functools.wraps(builder)
        def checked(*args, **kwargs):
            if args:
                raise InvalidArgument(f"{builder.__name__}() takes keyword arguments only, got {len(args)} positional")
            check_arguments(builder.__name__, ", ".join(f"{key}={value!r}" for key, value in kwargs.items()), kwargs)
            return builder(**kwargs)

        checked.known_arguments = known
        checked.check_arguments = check_arguments
        return checked

    return wrap


def _problem(name: str, value, least: int) -> str:
    """What is wrong with one argument, by its name's kind (bound, flag, styles), or ``""``."""
    if name.startswith(("min_", "max_")):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an int, got {value!r}"
        if value < least:
            return f"{name} must be at least {least}"
    elif name == "styles":
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
            return f"styles must be a non-empty tuple of value styles from {VALUE_STYLES}, got {value!r}"
        unknown = [style for style in value if style not in VALUE_STYLES]
        if unknown:
            return f"unknown value style {unknown[0]!r}; expected some of {VALUE_STYLES}"
    elif not isinstance(value, bool):
        return f"{name} must be True or False, got {value!r}"
    return ""
