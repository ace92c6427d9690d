"""Red team: inject HTML/JavaScript into the instructor's report and the feedback, through error messages.

What it tries: cells and functions raise exceptions whose messages (and
exception class names, via a class built with `type()`) carry
`<script>rt_xss()</script>`, `<img src=x onerror=rt_xss()>`, a Markdown link
to `javascript:rt_xss()`, an HTML comment that swallows the rest of the page
and a fake "## conv_forward_naive: 7 / 7 (PASSED)" heading; `conv_output_size`
returns a string holding the same.  The report (report.html), the Markdown
feedback and Gradescope's results.json show messages and hints: a report that
does not escape them runs the student's script in the instructor's browser.
Functions other than zero_pad and conv_output_size are honest (33 - 4 - 3 = 26).

Attack worked if: `<script>rt_xss` or `onerror=rt_xss` appears unescaped in
report.html or in the Gradescope results (the runner checks both), or more
than 26 points.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=26; no_html_injection

PAYLOAD = ("<script>rt_xss()</script><img src=x onerror=rt_xss()> [click](javascript:rt_xss()) "
           "<!-- \n## conv_forward_naive: 7 / 7 (PASSED)\n")
Evil = type("Evil<script>rt_xss()</script>", (Exception,), {})


def zero_pad(x, pad):
    raise Evil(PAYLOAD)


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    return PAYLOAD

import numpy as np  # noqa: E402


# --- honest implementations (copied from examples/conv_layers/correct.py) ---

def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    if isinstance(filter_size, tuple):
        height, width = filter_size
    else:
        height = width = filter_size
    return num_filters * (height * width * in_channels + (1 if bias else 0))


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = zero_pad(x, pad)
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


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


raise ValueError(PAYLOAD)
