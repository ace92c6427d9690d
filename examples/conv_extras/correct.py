"""A correct conv_extras submission, written the way a strong student does.

Grading this file must give full marks. The buggy_*.py files beside it are
this file with one known mistake each (see mutants.py).
"""

import numpy as np


def dilated_conv_forward(x, w, b, conv_param):
    stride, pad, dilation = conv_param["stride"], conv_param["pad"], conv_param["dilation"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    span_h, span_w = dilation * (HH - 1) + 1, dilation * (WW - 1) + 1
    H_out = 1 + (H + 2 * pad - span_h) // stride
    W_out = 1 + (W + 2 * pad - span_w) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + span_h : dilation, j * stride : j * stride + span_w : dilation]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


def dilated_conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad, dilation = conv_param["stride"], conv_param["pad"], conv_param["dilation"]
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + dilation * (HH - 1) + 1, dilation)
            cols = slice(j * stride, j * stride + dilation * (WW - 1) + 1, dilation)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, db


def same_pad(filter_size, dilation=1):
    span = dilation * (filter_size - 1) + 1
    if span % 2 == 0:
        raise ValueError(f"a filter spanning {span} inputs has no symmetric 'same' padding")
    return (span - 1) // 2


def conv1x1_forward(x, w, b):
    # w is (F, C): at every pixel, out = w @ (the C channels) + b
    return (x.transpose(0, 2, 3, 1) @ w.T).transpose(0, 3, 1, 2) + b[None, :, None, None]


def correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def convolve2d(image, kernel):
    kh, kw = kernel.shape
    flipped = kernel[::-1, ::-1]
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * flipped)
    return out


def avg_pool_forward(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw].mean(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def avg_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += dout[:, :, i, j][:, :, None, None] / (ph * pw)
    return dx


def global_avg_pool_forward(x):
    out = x.mean(axis=(2, 3))
    return out, x


def global_avg_pool_backward(dout, cache):
    x = cache
    H, W = x.shape[2:]
    return np.broadcast_to(dout[:, :, None, None] / (H * W), x.shape).copy()


def fc_param_count(in_features, out_features, bias=True):
    return out_features * (in_features + (1 if bias else 0))


def _fits(size, filter_size, stride, pad):
    room = size - filter_size + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError(f"a {filter_size}x{filter_size} filter with stride {stride} and pad {pad} doesn't fit {size}")
    return room // stride + 1


def convnet_shapes(input_shape, layers):
    shape = tuple(input_shape)
    summary = []
    for layer in layers:
        kind = layer["type"]
        params = 0
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(f"a {kind} layer needs a (C, H, W) volume, got {shape}")
            C, H, W = shape
            F, S = layer["size"], layer["stride"]
            P = layer.get("pad", 0)
            H2, W2 = _fits(H, F, S, P), _fits(W, F, S, P)
            if kind == "conv":
                K = layer["filters"]
                shape = (K, H2, W2)
                params = K * (F * F * C + 1)
            else:
                shape = (C, H2, W2)
        elif kind == "fc":
            D = int(np.prod(shape))
            M = layer["units"]
            shape = (M,)
            params = M * (D + 1)
        summary.append((shape, params))
    return summary
