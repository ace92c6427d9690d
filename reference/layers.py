"""The layers around the convolutions: ReLU and fully connected (affine)."""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = [
    "relu_forward",
    "relu_forward_naive",
    "relu_backward",
    "relu_backward_naive",
    "affine_forward",
    "affine_forward_naive",
    "affine_backward",
    "affine_backward_naive",
]


def _numeric(x, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    return x


# --------------------------------------------------------------------------- ReLU


def relu_forward(x: np.ndarray):
    """ReLU, ``max(0, x)`` elementwise; returns ``(out, cache)`` with ``cache = x``.

    >>> relu_forward(np.array([-1.0, 0.0, 2.0]))[0]
    array([0., 0., 2.])
    """
    _numeric(x, "x")
    return np.maximum(x, 0), x


def relu_forward_naive(x: np.ndarray):
    """Loop twin of :func:`relu_forward`."""
    _numeric(x, "x")
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        out[index] = x[index] if x[index] > 0 else 0
    return out, x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of ReLU: ``dout`` where ``x > 0``, else 0 (0 at x == 0, as torch).

    >>> relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    x = _numeric(cache, "cache (the input x)")
    _checks.same_shape(dout, x.shape, "dout", "the shape of x")
    return np.where(x > 0, dout, 0).astype(np.result_type(dout, x), copy=False)


def relu_backward_naive(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Loop twin of :func:`relu_backward`."""
    x = _numeric(cache, "cache (the input x)")
    _checks.same_shape(dout, x.shape, "dout", "the shape of x")
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for index in np.ndindex(x.shape):
        if x[index] > 0:
            dx[index] = dout[index]
    return dx


# --------------------------------------------------------------------------- fully connected


def _affine_inputs(x, w, b):
    _numeric(x, "x")
    _checks.array(w, "w", ndim=2, layout="(D, M)")
    _checks.array(b, "b", ndim=1, layout="(M,)")
    if x.ndim < 1:
        raise ValueError(f"x must have a batch axis, got shape {x.shape}")
    features = int(np.prod(x.shape[1:]))
    if features != w.shape[0]:
        raise ValueError(
            f"x has D={features} features per example (x.shape={x.shape}) but w expects D={w.shape[0]} "
            f"(w.shape={w.shape}); w must be (D, M)"
        )
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"b must have one bias per output: expected shape ({w.shape[1]},), got {b.shape}")


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """Fully connected layer: ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k), with D = d_1 * ... * d_k
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple ``(x, w, b)``

    >>> affine_forward(np.ones((1, 2, 2)), np.ones((4, 3)), np.arange(3.0))[0]
    array([[4., 5., 6.]])
    """
    _affine_inputs(x, w, b)
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """Loop twin of :func:`affine_forward`."""
    _affine_inputs(x, w, b)
    rows = x.reshape(x.shape[0], -1)
    out = np.zeros((x.shape[0], w.shape[1]), dtype=np.result_type(x, w, b))
    for n in range(rows.shape[0]):
        for m in range(w.shape[1]):
            out[n, m] = b[m] + sum(rows[n, d] * w[d, m] for d in range(w.shape[0]))
    return out, (x, w, b)


def _affine_backward_inputs(dout, cache):
    if not isinstance(cache, tuple) or len(cache) != 3:
        raise TypeError("cache must be the tuple (x, w, b) returned by affine_forward")
    x, w, b = cache
    _affine_inputs(x, w, b)
    _checks.same_shape(dout, (x.shape[0], w.shape[1]), "dout", "(N, M), the shape of the forward output")
    return x, w


def affine_backward(dout: np.ndarray, cache: tuple):
    """Backward pass of the fully connected layer; returns ``(dx, dw, db)``.

    ``dx = dout @ w.T`` reshaped like x, ``dw = x.reshape(N, D).T @ dout``, ``db = dout.sum(0)``.
    """
    x, w = _affine_backward_inputs(dout, cache)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def affine_backward_naive(dout: np.ndarray, cache: tuple):
    """Loop twin of :func:`affine_backward`."""
    x, w = _affine_backward_inputs(dout, cache)
    rows = x.reshape(x.shape[0], -1)
    dtype = np.result_type(dout, x, w)
    drows = np.zeros(rows.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(w.shape[1], dtype=dtype)
    for n in range(rows.shape[0]):
        for m in range(w.shape[1]):
            db[m] += dout[n, m]
            for d in range(w.shape[0]):
                drows[n, d] += dout[n, m] * w[d, m]
                dw[d, m] += rows[n, d] * dout[n, m]
    return drows.reshape(x.shape), dw, db
