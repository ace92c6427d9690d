"""Expected values: the reference engine, cross-checked against the torch oracle.

Where the reference source is not installed (a student's machine running
``autograder check``), the oracle alone gives the expected values. A
disagreement between the two engines is an :class:`InternalError`: our bug,
reported to the instructor, never charged to a student.
"""

from __future__ import annotations

import copy
import importlib.util

import numpy as np

from ..sandbox.digest import array_digest, content_digest
from .compare import normwise_error

__all__ = ["InternalError", "ExpectedValues", "array_digest", "content_digest", "expected_values", "reference_available"]

CROSSCHECK_TOLERANCE = 1e-9
MEMO_ENTRIES = 50_000  # expected values remembered per grader process (a few per drawn case)


class InternalError(RuntimeError):
    """The grader's own engines disagree or fail: not the student's fault."""


def reference_available() -> bool:
    """Whether the reference engine's source is installed here."""
    try:
        return importlib.util.find_spec("reference") is not None
    except (ImportError, ValueError):  # blocked or half-removed
        return False


def _read_only(value):
    """``value`` with its arrays made read-only: remembered results are shared, never modified."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _read_only(item)
    return value


def _arrays(value) -> list:
    if isinstance(value, tuple):
        return [v for v in value if isinstance(v, np.ndarray)]
    return [value] if isinstance(value, np.ndarray) else []


class ExpectedValues:
    """Computes what a correct function returns.

    Parameters
    ----------
    engine : {"auto", "reference", "oracle"}
        ``"auto"`` uses the reference engine cross-checked by the oracle when
        the reference is installed, else the oracle alone.
    """

    def __init__(self, engine: str = "auto") -> None:
        if engine not in ("auto", "reference", "oracle"):
            raise ValueError(f"engine must be 'auto', 'reference' or 'oracle', got {engine!r}")
        if engine == "auto":
            engine = "reference" if reference_available() else "oracle"
        self.engine = engine
        self._memo: dict[str, tuple] = {}
        self._engines: tuple | None = None  # (primary, second): imported at the first value not remembered

    def _modules(self) -> tuple:
        """The primary engine and its cross-check (None for the oracle alone), imported on first use.

        Torch comes with the oracle: a process whose expected values all come
        from the store (:mod:`autograder.engine.store`) never imports it.
        """
        if self._engines is None:
            from . import oracle

            if self.engine == "reference":
                import reference

                self._engines = reference, oracle
            else:
                self._engines = oracle, None
        return self._engines

    def remembered(self) -> dict[str, tuple]:
        """The values computed or loaded so far: content digest of the call -> ``("returned", value)`` or ``("raised", error)``."""
        return self._memo

    def remember(self, entries: dict[str, tuple]) -> None:
        """Take values computed elsewhere (another process, an earlier run) as if computed here; arrays become read-only."""
        for key, (kind, value) in entries.items():
            self._remember(key, (kind, value if kind == "raised" else _read_only(value)))

    def __call__(self, op: str, *args, **kwargs):
        """``op(*args, **kwargs)`` in the primary engine, cross-checked; exceptions pass through.

        Results are remembered: every submission meets the same cases, so a
        grader process computes each expected value once. The arrays returned
        are shared and read-only.
        """
        key = content_digest((op, args, kwargs))
        if key in self._memo:
            kind, value = self._memo[key]
            if kind == "raised":
                raise value
            return value
        try:
            value = self._compute(op, *args, **kwargs)
        except (ValueError, TypeError) as error:
            self._remember(key, ("raised", error))
            raise
        self._remember(key, ("returned", _read_only(value)))
        return value

    def _remember(self, key: str, entry: tuple) -> None:
        if len(self._memo) >= MEMO_ENTRIES:
            self._memo.clear()
        self._memo[key] = entry

    def _compute(self, op: str, *args, **kwargs):
        primary_error = second_error = None
        primary, second = self._modules()
        try:
            result = getattr(primary, op)(*copy.deepcopy(args), **kwargs)
        except (ValueError, TypeError) as error:
            primary_error, result = error, None
        if second is None:
            if primary_error is not None:
                raise primary_error
            return result
        try:
            other = getattr(second, op)(*copy.deepcopy(args), **kwargs)
        except (ValueError, TypeError) as error:
            second_error, other = error, None
        if (primary_error is None) != (second_error is None):
            raise InternalError(
                f"{op}: the reference {'raised ' + repr(primary_error) if primary_error else 'returned a value'} "
                f"but the torch oracle {'raised ' + repr(second_error) if second_error else 'returned a value'}"
            )
        if primary_error is not None:
            raise primary_error
        self._crosscheck(op, result, other)
        return result

    def _crosscheck(self, op: str, ours, theirs) -> None:
        ours_arrays, theirs_arrays = _arrays(ours), _arrays(theirs)
        if not ours_arrays and not theirs_arrays:  # ints, shape tables (convnet_shapes): exact
            if ours != theirs:
                raise InternalError(f"{op}: the reference gives {ours!r}, the torch oracle {theirs!r}")
            return
        if len(ours_arrays) != len(theirs_arrays):
            raise InternalError(f"{op}: the reference returns {len(ours_arrays)} arrays, the torch oracle {len(theirs_arrays)}")
        for a, b in zip(ours_arrays, theirs_arrays):
            if a.shape != b.shape or normwise_error(a, b) > CROSSCHECK_TOLERANCE:
                raise InternalError(f"{op}: the reference and the torch oracle disagree (shapes {a.shape} and {b.shape})")


_SHARED: dict[str, ExpectedValues] = {}


def expected_values(engine: str = "auto") -> ExpectedValues:
    """The process-wide :class:`ExpectedValues` for ``engine``, so its memory serves every submission."""
    if engine not in _SHARED:
        _SHARED[engine] = ExpectedValues(engine)
    return _SHARED[engine]
