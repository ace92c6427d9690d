"""Comparing arrays the way the course does, and finite-difference gradients.

``rel_error`` is CS231n's ``max(|x - y| / max(1e-8, |x| + |y|))``; the
notebooks expect about 1e-8 or less for forward and gradient checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["rel_error", "normwise_error", "Discrepancy", "largest_discrepancy", "numerical_gradient"]


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """CS231n's relative error: ``max(|x - y| / max(1e-8, |x| + |y|))``.

    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    >>> round(rel_error(np.array([1.0]), np.array([1.1])), 4)
    0.0476
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def normwise_error(got: np.ndarray, expected: np.ndarray) -> float:
    """Largest difference relative to the largest expected magnitude: ``max|g - e| / max|e|``.

    Unlike :func:`rel_error`, an entry that should be 0 and is off by
    rounding (1e-17) does not count as a large error; the scale is the
    array's, which is what floating-point rounding is proportional to.

    >>> normwise_error(np.array([100.0, 1e-17]), np.array([100.0, 0.0])) < 1e-18
    True
    >>> normwise_error(np.array([2.0, 0.5]), np.array([2.0, 0.0]))
    0.25
    """
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.size == 0:
        return 0.0
    difference = float(np.max(np.abs(got - expected)))
    scale = float(np.max(np.abs(expected)))
    if difference == 0.0:
        return 0.0
    return difference / scale if scale > 0 else float("inf")


@dataclass(frozen=True)
class Discrepancy:
    """Where two same-shaped arrays differ most."""

    max_abs: float
    index: tuple[int, ...]  # position of the largest absolute difference
    got: float
    expected: float


def largest_discrepancy(got: np.ndarray, expected: np.ndarray) -> Discrepancy:
    """The largest absolute error between ``got`` and ``expected`` and where it is.

    NaN in ``got`` counts as an infinite error at its position.

    >>> d = largest_discrepancy(np.array([[1.0, 5.0]]), np.array([[1.0, 2.0]]))
    >>> d.index, d.max_abs
    ((0, 1), 3.0)
    """
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.size == 0:
        return Discrepancy(0.0, (), 0.0, 0.0)
    diff = np.abs(got - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)
    flat = int(np.argmax(diff))
    index = tuple(int(i) for i in np.unravel_index(flat, got.shape))
    return Discrepancy(
        max_abs=float(diff.flat[flat]),
        index=index,
        got=float(got.flat[flat]),
        expected=float(expected.flat[flat]),
    )


def numerical_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    CS231n's ``eval_numerical_gradient_array``: for each element,
    ``sum((f(x + h) - f(x - h)) * dout) / (2h)``. ``x`` is restored after use.

    >>> numerical_gradient(lambda v: v ** 2, np.array([3.0]), np.array([1.0])).round(6)
    array([6.])
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = original - h
        minus = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = original
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad
