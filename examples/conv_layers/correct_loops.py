"""A correct conv_layers submission written with explicit loops, the way most students write it.

Grading this file must give full marks, and no hint may fire on what its functions return
(tests/rubrics/test_student_hints.py). The buggy_* files written as students would (not made
by mutants.py) are this file with one mistake found in real student code each.
"""

import numpy as np


def zero_pad(x, pad):
    N, C, H, W = x.shape
    out = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    out[:, :, pad:pad + H, pad:pad + W] = x
    return out


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    effective = dilation * (filter_size - 1) + 1
    if in_size + 2 * pad - effective < 0 or (in_size + 2 * pad - effective) % stride != 0:
        raise ValueError("the filter does not fit")
    return (in_size + 2 * pad - effective) // stride + 1


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    if type(filter_size) == tuple:
        fh, fw = filter_size
    else:
        fh, fw = filter_size, filter_size
    count = num_filters * in_channels * fh * fw
    if bias:
        count += num_filters
    return count


def conv_forward_naive(x, w, b, conv_param):
    out = None
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride = conv_param['stride']
    pad = conv_param['pad']
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    stride = conv_param['stride']
    pad = conv_param['pad']
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    dw[f] += window * dout[n, f, i, j]
                    dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    out = None
    N, C, H, W = x.shape
    pool_height = pool_param['pool_height']
    pool_width = pool_param['pool_width']
    stride = pool_param['stride']
    H_out = 1 + (H - pool_height) // stride
    W_out = 1 + (W - pool_width) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
                    out[n, c, i, j] = np.max(window)
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
    x, pool_param = cache
    N, C, H, W = x.shape
    pool_height = pool_param['pool_height']
    pool_width = pool_param['pool_width']
    stride = pool_param['stride']
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
                    row, col = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + row, j * stride + col] += dout[n, c, i, j]
    return dx
