"""Red team: points for wrong answers, with result objects that lie when compared or inspected.

What it tries: `conv_output_size` returns an `int` subclass equal to
everything (`__eq__` True, `__ne__` False, `__index__`/`__int__` 0, hash 0);
`conv_param_count` a `float` subclass doing the same; `conv_forward_naive`
returns zeros of the right shape as an `ndarray` subclass whose `__eq__`,
`__sub__`, `__abs__`, `__array_ufunc__`, `tolist`, `tobytes`, `__reduce__`
all pretend to be the expected values (they compare equal and subtract to
zero); `zero_pad` returns a `dict` subclass claiming to be an array.  The
backward and pooling functions are honest (8 + 5 + 4 = 17), plus the
forward's shape points (2) and inputs-unchanged (1), plus the raises
property of conv_output_size (1): 21.

Attack worked if: more than 21/33 (sound grader: the parent builds its own
plain values and never calls a student's method).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=21

import numpy as np


class Anything(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


class AnyFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__
    __hash__ = float.__hash__


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(other), dtype=bool)

    def __sub__(self, other):
        return np.zeros(np.shape(other))

    __rsub__ = __sub__

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        others = [item for item in inputs if not isinstance(item, Liar)]
        return np.zeros(np.shape(others[0])) if others else np.zeros(self.shape)


class FakeArray(dict):
    shape = (1, 1, 1, 1)
    dtype = np.dtype("float64")

    def __array__(self, dtype=None):
        return np.zeros(self.shape)


def zero_pad(x, pad):
    return FakeArray()


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    span = dilation * (filter_size - 1) + 1
    room = in_size - span + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError("does not fit")
    return Anything(0)


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    return AnyFloat(0.0)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    shape = (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
             1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)
    return np.zeros(shape).view(Liar), (x, w, b, conv_param)

# --- honest implementations (copied from examples/conv_layers/correct.py) ---

def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    x_pad = zero_pad(x, pad)
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx

