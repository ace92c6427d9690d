"""Red team: cost the child nothing and the grader gigabytes, with zero-stride views as results.

What it tries: every `conv_forward_naive` call returns, as `out`, a
`np.lib.stride_tricks.as_strided` view of one float with 20 MB of logical
size (shape `(N, F, 1250, 1000)`-ish: wrong shape, but the parent must receive
it to know), and `conv_backward_naive` returns three such views.  The child
holds 8 bytes per result; a grader that materialises each reply and keeps
all values of a check until the check ends holds 100 x 20 MB.
Everything else is honest (33 - 15 + 1 for the forward's unchanged inputs = 19 at most).

Attack worked if: the grader's own processes grow past 1 GiB, an internal
error, or the victim graded after it loses points.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=19; victim_ok; parent_rss<=1024
# redteam-setup: victim

import numpy as np

_ONE = np.zeros(1)


def _huge(lead):
    return np.lib.stride_tricks.as_strided(_ONE, shape=(lead, 2_500_000 // lead), strides=(0, 0))


def conv_forward_naive(x, w, b, conv_param):
    return _huge(x.shape[0] * w.shape[0]), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _huge(1), _huge(2), _huge(4)

# --- honest implementations (copied from examples/conv_layers/correct.py) ---

def zero_pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    span = dilation * (filter_size - 1) + 1
    room = in_size - span + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError(f"filter does not fit: ({in_size} - {span} + 2*{pad}) / {stride} + 1")
    return room // stride + 1


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    if isinstance(filter_size, tuple):
        height, width = filter_size
    else:
        height = width = filter_size
    return num_filters * (height * width * in_channels + (1 if bias else 0))


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

