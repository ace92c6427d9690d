"""Correlation versus convolution on single 2-D arrays ('valid' mode).

The lecture's point: what CNN libraries call convolution is cross-correlation,
``out[i, j] = sum_{k,l} image[i + k, j + l] * kernel[k, l]``. Signal
processing's convolution flips the kernel first (``kernel[::-1, ::-1]``), so
the two agree exactly when the kernel is symmetric under a half turn.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import _checks
from .shapes import output_size

__all__ = ["correlate2d", "correlate2d_naive", "convolve2d", "convolve2d_naive"]


def _valid_shape(image, kernel) -> tuple[int, int]:
    _checks.array(image, "image", ndim=2, layout="(H, W)")
    _checks.array(kernel, "kernel", ndim=2, layout="(KH, KW)")
    try:
        return output_size(image.shape[0], kernel.shape[0]), output_size(image.shape[1], kernel.shape[1])
    except ValueError:
        raise ValueError(
            f"kernel {kernel.shape} is larger than image {image.shape}; 'valid' mode needs the kernel to fit"
        ) from None


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlation in 'valid' mode: slide ``kernel`` over ``image`` without flipping.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    kernel : ndarray, shape (KH, KW), KH <= H and KW <= W

    Returns
    -------
    ndarray, shape (H - KH + 1, W - KW + 1)

    >>> correlate2d(np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]]))
    array([[-4., -4.],
           [-4., -4.]])
    """
    _valid_shape(image, kernel)
    windows = sliding_window_view(image, kernel.shape)
    return np.tensordot(windows, kernel, axes=([2, 3], [0, 1]))


def correlate2d_naive(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Loop twin of :func:`correlate2d`."""
    out_h, out_w = _valid_shape(image, kernel)
    kh, kw = kernel.shape
    out = np.zeros((out_h, out_w), dtype=np.result_type(image, kernel))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolution in 'valid' mode: correlation with the kernel flipped on both axes.

    >>> convolve2d(np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]]))
    array([[4., 4.],
           [4., 4.]])
    """
    _valid_shape(image, kernel)
    return correlate2d(image, kernel[::-1, ::-1])


def convolve2d_naive(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Loop twin of :func:`convolve2d`: the flipped index written out."""
    out_h, out_w = _valid_shape(image, kernel)
    kh, kw = kernel.shape
    out = np.zeros((out_h, out_w), dtype=np.result_type(image, kernel))
    for i in range(out_h):
        for j in range(out_w):
            for k in range(kh):
                for l in range(kw):
                    out[i, j] += image[i + k, j + l] * kernel[kh - 1 - k, kw - 1 - l]
    return out
