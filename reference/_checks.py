"""Argument checks shared by the reference ops.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError``
(right kind, wrong value) with a message that names the argument, says what
was expected and what was got.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np


def as_pair(value, name: str, *, minimum: int) -> tuple[int, int]:
    """Read an int or an ``(h, w)`` pair of ints, each at least ``minimum``.

    >>> as_pair(2, "stride", minimum=1)
    (2, 2)
    >>> as_pair((1, 3), "pad", minimum=0)
    (1, 3)
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or an (h, w) pair, got a sequence of length {len(value)}: {value!r}"
            )
        pair = tuple(value)
    else:
        pair = (value, value)
    for item in pair:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def as_int(value, name: str, *, minimum: int) -> int:
    """Read a single int that is at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def array(value, name: str, *, ndim: int | tuple[int, ...], layout: str = "") -> np.ndarray:
    """Check that ``value`` is a numeric ndarray of the given number of dimensions."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if value.ndim not in allowed:
        wanted = " or ".join(str(n) for n in allowed)
        hint = f" {layout}" if layout else ""
        raise ValueError(f"{name} must have {wanted} dimensions{hint}, got shape {value.shape}")
    return value


def param(params, key: str, name: str):
    """Fetch ``params[key]`` from a parameter dict, naming the dict when it is missing."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(params).__name__}")
    if key not in params:
        raise ValueError(f"{name} is missing the key {key!r} (it has {sorted(params)})")
    return params[key]


def same_shape(value: np.ndarray, expected: tuple[int, ...], name: str, why: str) -> None:
    """Check that an upstream gradient has the shape of the output it belongs to."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} ({why}), got {value.shape}")


# --------------------------------------------------------------------------- checks, remembered

# Checking the arguments takes longer than convolving or pooling a small
# input. The checks read nothing but the arrays' types, dtypes and shapes and
# the parameter dicts' entries, so the vectorized ops remember the checks that
# passed, keyed by exactly those. Anything the key cannot tell apart from an
# accepted value (a bool, a float or a numpy integer where an int is expected,
# a list, another type) is checked every time, and a failed check raises as
# usual.
_PASSED_CHECKS: dict = {}
_MAX_PASSED_CHECKS = 256


def _is_plain(value) -> bool:
    return type(value) in (int, str) or (type(value) is tuple and all(type(item) is int for item in value))


def _check_key(values) -> tuple | None:
    """What the checks see of ``values``, hashable; None if there is anything unusual."""
    key = []
    for value in values:
        if type(value) is np.ndarray:
            key.append((value.dtype, value.shape))
        elif type(value) is dict and all(_is_plain(item) for item in value.values()):
            key.append(frozenset(value.items()))
        else:
            return None
    return tuple(key)


def remembered(check, *args):
    """``check(*args)``, or the result of an earlier call with arguments it cannot tell apart."""
    key = _check_key(args)
    if key is None:
        return check(*args)
    key = (check, *key)
    result = _PASSED_CHECKS.get(key)
    if result is None:
        result = check(*args)
        if len(_PASSED_CHECKS) >= _MAX_PASSED_CHECKS:
            _PASSED_CHECKS.clear()
        _PASSED_CHECKS[key] = result
    return result
