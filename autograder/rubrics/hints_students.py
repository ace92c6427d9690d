"""Hints for mistakes found in real students' code, and for code that crashes on Python 3 / NumPy 2.

Like :mod:`autograder.engine.hints`, every hint here recomputes what a function with
its mistake returns on the failing case and fires only when that is what the
student returned (or, for a crash, when the exception raised is the one that
mistake raises). A variant that equals the expected value on the case is no
diagnosis, so each hint also checks that the mistake changes the result there.
The ``*_HINTS`` tuples at the end are what the rubrics attach to their checks:
the older hints of :mod:`autograder.engine.hints` first, then these, then the crash hints.
Where each mistake was seen is in the docstring of its example,
``examples/<assignment>/buggy_*.py``.
"""

from __future__ import annotations

import re

import numpy as np

from ..engine import hints as known
from ..engine.hints import EVERY_PROPERTY, Hint, HintContext, same

__all__ = [
    "CONV_FORWARD_HINTS", "CONV_BACKWARD_HINTS", "MAX_POOL_FORWARD_HINTS", "MAX_POOL_BACKWARD_HINTS",
    "IM2COL_FORWARD_HINTS", "IM2COL_BACKWARD_HINTS", "CRASH_HINTS", "with_crash_hints",
]


def _mistaken(context: HintContext, variant) -> bool:
    """The student returned ``variant`` for the failing property, and ``variant`` is not the right answer."""
    key = context.property if context.property in context.want else "out"  # "output shape"/"output values" judge out
    return variant is not None and same(context.got.get(key), variant) and not same(variant, context.want.get(key))


def _grad_of(context: HintContext, grads) -> np.ndarray | None:
    """The gradient of the failing property ("dx", "dw" or "db") among a conv backward's ``grads``."""
    return None if grads is None else dict(zip(("dx", "dw", "db"), grads)).get(context.property)


def _padded(case) -> np.ndarray:
    pad = case.conv_param["pad"]
    return np.pad(case.x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


# --------------------------------------------------------------------------- convolution backward


def _empty_pad_slice(context: HintContext) -> bool:
    got, want = context.got.get("dx"), context.want["dx"]
    return (
        context.case.conv_param["pad"] == 0
        and isinstance(got, np.ndarray)
        and got.shape == (*want.shape[:2], 0, 0)
    )


PAD_SLICE_EMPTY = Hint(
    "padding cut with pad:-pad",
    ("dx",),
    _empty_pad_slice,
    "Your dx is empty, shape (N, C, 0, 0), on a case with pad = 0: dx_pad[:, :, pad:-pad, pad:-pad] is "
    "dx_pad[:, :, 0:0, 0:0] then (-0 is 0). Cut the padding with explicit ends: dx = dx_pad[:, :, pad:pad + H, pad:pad + W].",
)


PAD_SLICE_EMPTY_CRASH = Hint(
    "padding cut with pad:-pad, then reshaped or used",
    EVERY_PROPERTY,
    lambda c: c.case.conv_param["pad"] == 0 and bool(re.search(r"array of size 0|\(\d+, ?\d+, ?0, ?0\)|shape \(\d+,\d+,0,0\)",
                                                               c.got.get("error", ""))),
    "Your code failed on an empty array on a case with pad = 0: dx_pad[:, :, pad:-pad, pad:-pad] is "
    "dx_pad[:, :, 0:0, 0:0] then (-0 is 0), so dx is empty. Cut the padding with explicit ends: "
    "dx = dx_pad[:, :, pad:pad + H, pad:pad + W].",
)


def _padded_dx(context: HintContext) -> bool:
    case = context.case
    if case.conv_param["pad"] == 0:
        return False
    grads = context.variant("conv_backward", case.dout, (_padded(case), case.w, case.b, {**case.conv_param, "pad": 0}))
    return grads is not None and same(context.got.get("dx"), grads[0])


PADDED_DX = Hint(
    "padded dx returned",
    ("dx",),
    _padded_dx,
    "Your dx is the gradient of the padded input x_pad, shape (N, C, H + 2*pad, W + 2*pad). The padding "
    "is not an input of the layer: return dx = dx_pad[:, :, pad:pad + H, pad:pad + W].",
)


def _windows(case):
    """Every (i, j) window of the conv case, in row-major order: (i, j, rows, cols) of x_pad."""
    stride = case.conv_param["stride"]
    hh, ww = case.w.shape[2:]
    for i in range(case.dout.shape[2]):
        for j in range(case.dout.shape[3]):
            yield i, j, slice(i * stride, i * stride + hh), slice(j * stride, j * stride + ww)


def _overwritten_dx(case, filters_outer: bool) -> list[np.ndarray]:
    """dx when each window's gradient is assigned (=) into dx_pad: loops over n and f (in one order), and over windows only."""
    xp = _padded(case)
    dxp = np.zeros(xp.shape)
    pad, (height, width) = case.conv_param["pad"], case.x.shape[2:]
    windows = list(_windows(case))
    if filters_outer:  # for n, for f, for i, for j: dx_pad[n, :, window] = w[f] * dout[n, f, i, j]
        steps = [(f, window) for f in range(case.w.shape[0]) for window in windows]
    else:  # for n, for i, for j, for f
        steps = [(f, window) for window in windows for f in range(case.w.shape[0])]
    for n in range(case.x.shape[0]):
        for f, (i, j, rows, cols) in steps:
            dxp[n, :, rows, cols] = case.w[f] * case.dout[n, f, i, j]
    summed = np.zeros(xp.shape)  # for i, for j: dx_pad[:, :, window] = sum over f (vectorized)
    for i, j, rows, cols in windows:
        summed[:, :, rows, cols] = np.tensordot(case.dout[:, :, i, j], case.w, axes=([1], [0]))
    return [d[:, :, pad : pad + height, pad : pad + width] for d in (dxp, summed)]


def _overwritten_dw(case) -> list[np.ndarray]:
    """dw when each window's gradient is assigned (=): only the last window (and last n, or all n at once) stays."""
    xp, (i, j, rows, cols) = _padded(case), list(_windows(case))[-1]
    last_n = case.dout[-1, :, i, j][:, None, None, None] * xp[-1, :, rows, cols][None]
    all_n = np.tensordot(case.dout[:, :, i, j], xp[:, :, rows, cols], axes=([0], [0]))
    return [last_n, all_n]


def _conv_overwrites(context: HintContext) -> bool:
    case = context.case
    if context.property == "dx":
        variants = [*_overwritten_dx(case, True), *_overwritten_dx(case, False)]
    else:
        variants = _overwritten_dw(case)
    return any(_mistaken(context, variant) for variant in variants)


CONV_OVERWRITES = Hint(
    "gradient assigned instead of accumulated (conv)",
    ("dx", "dw"),
    _conv_overwrites,
    lambda c: f"Your {c.property} keeps only the last window's gradient where several windows share an entry: it is "
    f"assigned (=) where it must be accumulated (+=). Every window an input (or weight) took part in sends it a share: "
    + ("dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]." if c.property == "dx"
       else "dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j], summed over n, i and j."),
)


def _batch_averaged(context: HintContext) -> bool:
    n = context.case.x.shape[0]
    return n > 1 and _mistaken(context, context.want[context.property] / n)


GRADIENT_AVERAGED = Hint(
    "gradient averaged over the batch",
    ("dx", "dw", "db"),
    _batch_averaged,
    lambda c: f"Your {c.property} is the right one divided by N = {c.case.x.shape[0]}: it was averaged over the batch. "
    "The layer's output does not average anything, so each gradient is a plain sum of its contributions (chain rule): "
    "db[f] = sum of dout[:, f], dw sums over n, i, j. Any averaging belongs to the loss, not to the layer.",
)


_DB_AXES = ((0,), (2, 3), (0, 2), (0, 3), (1, 2, 3), (0, 1, 2, 3), (1,), (0, 1))


def _db_axes(context: HintContext) -> str:
    dout, got = context.case.dout, context.got.get("db")
    if isinstance(got, (float, np.floating)) and dout.shape[1] > 1 and np.isclose(got, dout.sum(), rtol=1e-9, atol=0):
        return "np.sum(dout), one number"
    for axes in _DB_AXES:
        if _mistaken(context, np.asarray(dout.sum(axis=axes))):
            return f"dout.sum(axis={axes})"
    return ""


DB_AXES = Hint(
    "db summed over the wrong axes",
    ("db",),
    lambda c: bool(_db_axes(c)),
    lambda c: f"Your db matches {_db_axes(c)}: b[f] is added to every output of filter f, for every image and position, "
    "so db[f] sums dout[n, f, i, j] over n, i and j: db = dout.sum(axis=(0, 2, 3)), shape (F,).",
)


def _flipped_filter(context: HintContext) -> bool:
    case = context.case
    if case.w.shape[2] * case.w.shape[3] == 1:
        return False
    grads = context.variant("conv_backward", case.dout, (case.x, case.w[:, :, ::-1, ::-1], case.b, case.conv_param))
    return _mistaken(context, _grad_of(context, grads))


DX_FLIPPED_FILTER = Hint(
    "filter flipped in dx",
    ("dx",),
    _flipped_filter,
    "Your dx matches the filter flipped (rotated 180 degrees). When each output sends its gradient back to the "
    "window it read, no flip is needed: dx_pad[n, :, i*stride:i*stride + HH, j*stride:j*stride + WW] += "
    "w[f] * dout[n, f, i, j]. (The flip appears only if you write dx as a full convolution of dout.)",
)


def _im2col_swapped_backward(context: HintContext) -> bool:
    case = context.case
    n, f, h, w = case.dout.shape
    if n == 1 or f == 1:
        return False
    # dout.reshape(F, -1) read as the (F, N*H'*W') matrix: the gradient of outputs taken in the wrong order
    scrambled = case.dout.reshape(f, n, h, w).transpose(1, 0, 2, 3)
    grads = context.variant("conv_backward", scrambled, (case.x, case.w, case.b, case.conv_param))
    return _mistaken(context, _grad_of(context, grads))


_NF_TEXT = (
    "The product w_row @ cols is (F, N*H'*W'), filters first: reshape it to (F, N, H', W') and transpose to "
    "(N, F, H', W'): out = (w.reshape(F, -1) @ cols + b[:, None]).reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3); "
    "in the backward, dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)."
)
IM2COL_NF_SWAPPED = Hint(
    "im2col reshape with N and F swapped",
    ("output values",),
    lambda c: c.want["out"].shape[0] > 1 and c.want["out"].shape[1] > 1
    and _mistaken(c, c.want["out"].transpose(1, 0, 2, 3).reshape(c.want["out"].shape)),
    "Your output holds the right numbers in the wrong places: the (F, N*H'*W') product was reshaped straight to "
    "(N, F, H', W'). " + _NF_TEXT,
)
IM2COL_NF_SWAPPED_BACKWARD = Hint(
    "im2col backward with dout reshaped as (F, -1)",
    ("dx", "dw"),
    _im2col_swapped_backward,
    "Your gradient matches dout.reshape(F, -1): that mixes images and filters, since dout is (N, F, H', W'). " + _NF_TEXT,
)
NOT_TIMED = Hint(
    "speed not measured",
    ("speed",),
    lambda c: "ratio" not in c.got,
    "The speed is measured only once your function returns the right output on the timing case: fix the failing "
    "correctness properties above first (their minimal cases are easier to debug); the speed points follow.",
)


# --------------------------------------------------------------------------- max pooling


def _pool_windows(case, swapped: bool = False):
    ph, pw, stride = (case.pool_param[k] for k in ("pool_height", "pool_width", "stride"))
    if swapped:
        ph, pw = pw, ph
    for i in range(case.dout.shape[2]):
        for j in range(case.dout.shape[3]):
            yield i, j, slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)


def _pool_backward(case, *, assign_window=False, assign_max=False, swapped=False, column_major=False) -> np.ndarray:
    """Max pooling backward as a loop writes it, with one of the mistakes switched on."""
    dx = np.zeros(case.x.shape)
    windows = list(_pool_windows(case, swapped))
    if column_major:
        windows.sort(key=lambda item: (item[1], item[0]))
    for n in range(case.x.shape[0]):
        for c in range(case.x.shape[1]):
            for i, j, rows, cols in windows:
                window = case.x[n, c, rows, cols]
                if window.size == 0:
                    continue
                mask = window == window.max()
                if assign_window:
                    dx[n, c, rows, cols] = mask * case.dout[n, c, i, j]
                elif assign_max:
                    r, k = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, rows.start + r, cols.start + k] = case.dout[n, c, i, j]
                else:
                    dx[n, c, rows, cols] += mask * case.dout[n, c, i, j]
    return dx


def _pool_overwrites(context: HintContext) -> bool:
    case = context.case
    if case.pool_param["stride"] >= max(case.pool_param["pool_height"], case.pool_param["pool_width"]):
        return False  # windows that do not overlap give the same dx either way
    variants = [_pool_backward(case, **{mode: True}, column_major=order) for mode in ("assign_window", "assign_max") for order in (False, True)]
    return any(_mistaken(context, variant) for variant in variants)


def _pool_block_max(context: HintContext) -> bool:
    """dx when the loops run over windows only and the mask takes the maximum of the whole (N, C) block."""
    case = context.case
    if case.x.shape[0] * case.x.shape[1] == 1:
        return False
    dx = np.zeros(case.x.shape)
    for i, j, rows, cols in _pool_windows(case):
        window = case.x[:, :, rows, cols]
        dx[:, :, rows, cols] += (window == window.max()) * case.dout[:, :, i, j][:, :, None, None]
    return _mistaken(context, dx)


POOL_BLOCK_MAX = Hint(
    "pool mask from the maximum of all images and channels",
    ("dx",),
    _pool_block_max,
    "Your dx gives each window's gradient only where the largest value of the whole x[:, :, window] block is, across "
    "all images and channels: each (n, c) has its own maximum. Take it per image and channel: "
    "mask = window == window.max(axis=(2, 3), keepdims=True).",
)


POOL_OVERWRITES = Hint(
    "gradient assigned instead of accumulated (pool)",
    ("dx",),
    _pool_overwrites,
    "Your dx keeps only the last window's gradient where windows overlap (stride < pool size): it is assigned (=) "
    "where it must be accumulated (+=). An input that is the maximum of several windows gets dout from each of them: "
    "dx[n, c, i*stride + r, j*stride + k] += dout[n, c, i, j] (and never assign a whole window: that erases its "
    "neighbours' gradients).",
)


def _swapped_forward(case) -> list[np.ndarray]:
    """The output with pool_height along the width: at the right output size, and at the swapped one."""
    ph, pw, stride = (case.pool_param[k] for k in ("pool_height", "pool_width", "stride"))
    x, (height, width) = case.x, case.x.shape[2:]
    outputs = []
    for h_out, w_out in {(1 + (height - ph) // stride, 1 + (width - pw) // stride), (1 + (height - pw) // stride, 1 + (width - ph) // stride)}:
        if h_out < 1 or w_out < 1:
            continue
        out = np.full((*x.shape[:2], h_out, w_out), np.nan)
        for i in range(h_out):
            for j in range(w_out):
                window = x[:, :, i * stride : i * stride + pw, j * stride : j * stride + ph]
                if window.size:
                    out[:, :, i, j] = window.max(axis=(2, 3))
        if not np.isnan(out).any():
            outputs.append(out)
    return outputs


def _pool_swapped(context: HintContext) -> bool:
    case = context.case
    if case.pool_param["pool_height"] == case.pool_param["pool_width"]:
        return False
    if context.property == "dx":
        variants = [_pool_backward(case, swapped=True)]
    else:
        variants = _swapped_forward(case)
        got, want = context.got.get("out"), context.want["out"]
        ph, pw, stride = (case.pool_param[k] for k in ("pool_height", "pool_width", "stride"))
        swapped_shape = (*want.shape[:2], 1 + (case.x.shape[2] - pw) // stride, 1 + (case.x.shape[3] - ph) // stride)
        if "negative dimensions are not allowed" in context.got.get("error", ""):
            return min(swapped_shape[2:]) < 0  # np.zeros of the swapped output size
        if isinstance(got, np.ndarray) and got.shape == swapped_shape != want.shape:
            return True  # the output size alone shows it, even where a swapped window no longer fits
    return any(_mistaken(context, variant) for variant in variants)


POOL_WINDOW_SWAPPED = Hint(
    "pool height and width swapped",
    ("output shape", "output values", "inputs unchanged", "dx"),
    _pool_swapped,
    lambda c: ("Your output size is computed with pool_height and pool_width swapped (negative here). "
               if "error" in c.got else "Your result matches a pool_height x pool_width window laid the other way round. ")
    + "pool_height counts rows (axis 2, H) and pool_width columns (axis 3, W): window = x[n, c, "
    "i*stride:i*stride + pool_height, j*stride:j*stride + pool_width], and H' = 1 + (H - pool_height) // stride.",
)


# --------------------------------------------------------------------------- convolution forward


def _pad_ignored(context: HintContext) -> bool:
    case = context.case
    if case.conv_param["pad"] == 0:
        return False
    unpadded = context.variant("conv_forward", case.x, case.w, case.b, {**case.conv_param, "pad": 0})
    return unpadded is not None and _mistaken(context, unpadded[0])


FORWARD_FLIPPED = Hint(
    "filter flipped in the forward",
    ("output values",),
    lambda c: c.case.w.shape[2] * c.case.w.shape[3] > 1 and _mistaken(
        c, (c.variant("conv_forward", c.case.x, c.case.w[:, :, ::-1, ::-1], c.case.b, c.case.conv_param) or (None,))[0]),
    "Your output matches the filter flipped (rotated 180 degrees), signal processing's convolution. A CNN layer "
    "computes the cross-correlation: out[n, f, i, j] = b[f] + sum x_pad[n, :, i*stride + k, j*stride + l] * w[f, :, k, l], "
    "the window times w as it is.",
)


def _plus_one_forgotten(context: HintContext) -> bool:
    got, want = context.got.get("out"), context.want["out"]
    return (
        isinstance(got, np.ndarray)
        and got.shape == (*want.shape[:2], want.shape[2] - 1, want.shape[3] - 1)
        and (got.size == 0 or same(got, want[:, :, :-1, :-1]))  # the windows it has are the right ones
    )


PLUS_ONE_FORGOTTEN = Hint(
    "+ 1 forgotten in the output size",
    ("output shape", "output values"),
    _plus_one_forgotten,
    "Your output misses the last row and column of windows: the output size is (N - F + 2P)/S + 1, the + 1 counting "
    "the window at position 0: H' = 1 + (H + 2*pad - HH) // stride (for pooling, 1 + (H - pool_height) // stride).",
)


def _windows_from_x(context: HintContext) -> bool:
    """The padded output's positions, each window sliced from x itself (the padding forgotten).

    Replayed as NumPy runs it: a window past the border of x comes out cut
    (or empty), and its product with the filter broadcasts where it can; the
    case where it cannot is the crash that PAD_FORGOTTEN_CRASH explains.
    """
    case, got = context.case, context.got.get("out")
    if case.conv_param["pad"] == 0 or not isinstance(got, np.ndarray) or got.shape != context.want["out"].shape:
        return False
    stride, (hh, ww) = case.conv_param["stride"], case.w.shape[2:]
    out = np.empty(got.shape)
    try:
        for n, f, i, j in np.ndindex(*got.shape):
            window = case.x[n, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            out[n, f, i, j] = np.sum(window * case.w[f]) + case.b[f]
    except ValueError:
        return False
    return _mistaken(context, out)


PAD_FORGOTTEN = Hint(
    "windows read from the unpadded input",
    ("output values",),
    _windows_from_x,
    "Your output matches windows read from x itself, starting at its corner. The output size counts the padding, "
    "so the windows must be read from the padded input: x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), "
    "then window = x_pad[n, :, i*stride:i*stride + HH, j*stride:j*stride + WW].",
)


PAD_IGNORED = Hint(
    "padding ignored",
    ("output shape", "output values"),
    _pad_ignored,
    "Your output matches pad = 0: the input was not padded. Pad it first, x_pad = np.pad(x, ((0, 0), (0, 0), "
    "(pad, pad), (pad, pad))), read every window from x_pad, and H' = 1 + (H + 2*pad - HH) // stride.",
)

_SHAPES = re.compile(r"\(([\d, ]*)\)")


def _cut_window(context: HintContext) -> bool:
    """A broadcast error between a full filter and a window cut at the border of the unpadded input."""
    error, case = context.got.get("error", ""), context.case
    if case.conv_param["pad"] == 0:  # the minimal case needs padding to fail: the padding is where it goes wrong
        return False
    if "shape-mismatch for sum" in error:  # np.tensordot's words, without the shapes
        return True
    if "broadcast" not in error:
        return False
    hh, ww = case.w.shape[2:]
    shapes = [tuple(int(v) for v in group.split(",") if v.strip()) for group in _SHAPES.findall(error)]
    tails = {shape[-2:] for shape in shapes if len(shape) >= 2}
    return (hh, ww) in tails and any(h <= hh and w <= ww and (h, w) != (hh, ww) for h, w in tails)


PAD_FORGOTTEN_CRASH = Hint(
    "windows read from the unpadded input",
    EVERY_PROPERTY,
    _cut_window,
    "A window came out smaller than the HH x WW filter: it ran past the border of x. The output size counts the "
    "padding, so the windows must be read from the padded input: x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), "
    "(pad, pad))), then window = x_pad[n, :, i*stride:i*stride + HH, j*stride:j*stride + WW].",
)


PAD_FORGOTTEN_BACKWARD_CRASH = Hint(
    "backward windows in the unpadded input",
    EVERY_PROPERTY,
    _cut_window,
    "A window came out smaller than the HH x WW filter: it ran past the border of x. In the backward too the windows "
    "live in the padded input: read them from x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) for dw, "
    "add into dx_pad = np.zeros_like(x_pad) for dx, then cut the padding off: dx = dx_pad[:, :, pad:pad + H, pad:pad + W].",
)


def _backward_windows_unpadded(context: HintContext) -> bool:
    """dw summed over windows sliced from x itself (not x_pad), replayed as NumPy runs it (see `_windows_from_x`)."""
    case = context.case
    if context.property != "dw" or case.conv_param["pad"] == 0:
        return False
    stride, (hh, ww) = case.conv_param["stride"], case.w.shape[2:]
    dw = np.zeros(case.w.shape)
    try:
        for i in range(case.dout.shape[2]):
            for j in range(case.dout.shape[3]):
                window = case.x[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
                dw += np.tensordot(case.dout[:, :, i, j], window, axes=([0], [0]))
    except ValueError:
        return False  # the crash PAD_FORGOTTEN_BACKWARD_CRASH explains
    return _mistaken(context, dw)


PAD_FORGOTTEN_BACKWARD = Hint(
    "backward windows read from x",
    ("dw",),
    _backward_windows_unpadded,
    "Your dw matches windows read from x itself. In the backward too the windows live in the padded input: "
    "dw[f] += dout[n, f, i, j] * x_pad[n, :, i*stride:i*stride + HH, j*stride:j*stride + WW], with "
    "x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).",
)


def _backward_stride_ignored(context: HintContext) -> bool:
    case = context.case
    stride = case.conv_param["stride"]
    if stride == 1:
        return False
    xp = _padded(case)
    dxp, dw = np.zeros(xp.shape), np.zeros(case.w.shape)
    hh, ww = case.w.shape[2:]
    for i in range(case.dout.shape[2]):
        for j in range(case.dout.shape[3]):  # windows moved by 1, whatever the stride
            dw += np.tensordot(case.dout[:, :, i, j], xp[:, :, i : i + hh, j : j + ww], axes=([0], [0]))
            dxp[:, :, i : i + hh, j : j + ww] += np.tensordot(case.dout[:, :, i, j], case.w, axes=([1], [0]))
    pad, (height, width) = case.conv_param["pad"], case.x.shape[2:]
    variants = {"dx": dxp[:, :, pad : pad + height, pad : pad + width], "dw": dw}
    return context.property in variants and _mistaken(context, variants[context.property])


BACKWARD_STRIDE_IGNORED = Hint(
    "stride ignored in the backward",
    ("dx", "dw"),
    _backward_stride_ignored,
    "Your gradient matches windows moved by 1 whatever the stride: in the backward, output (i, j) read the window "
    "starting at row i*stride and column j*stride, so its gradient goes back to x_pad[n, :, i*stride:i*stride + HH, "
    "j*stride:j*stride + WW] (dx_pad) and comes from there (dw).",
)


ARRAY_INTO_ONE_OUTPUT = Hint(
    "an array assigned to one output",
    EVERY_PROPERTY,
    lambda c: "setting an array element with a sequence" in c.got.get("error", ""),
    "out[n, f, i, j] is one number, but your code assigned it an array. Add only filter f's bias, b[f], not the "
    "whole vector b (which holds all F biases), and sum the window's products into one number: "
    "out[n, f, i, j] = np.sum(x_pad[n, :, i*stride:i*stride + HH, j*stride:j*stride + WW] * w[f]) + b[f].",
)


# --------------------------------------------------------------------------- crashes (Python 3, NumPy 2)


def _raised(pattern: str):
    compiled = re.compile(pattern)
    return lambda context: bool(compiled.search(context.got.get("error", "")))


CRASH_HINTS = (
    Hint(
        "float size (Python 2 division)",
        EVERY_PROPERTY,
        _raised(r"TypeError: 'float' object cannot be interpreted as an integer|TypeError: slice indices must be integers"
                r"|IndexError: only integers, slices"),
        "A float was used as a size or an index. In Python 3, / always gives a float, even 4 / 2 = 2.0 (CS231n's "
        "H' = 1 + (H + 2 * pad - HH) / stride was Python 2's integer division): use // for output sizes and "
        "indices, H_out = 1 + (H + 2 * pad - HH) // stride (exact whenever the filter fits).",
    ),
    Hint(
        "xrange",
        EVERY_PROPERTY,
        _raised(r"NameError: name 'xrange' is not defined"),
        "xrange is Python 2: in Python 3, range(n) does the same (it no longer builds a list).",
    ),
    Hint(
        "np.lib.pad",
        EVERY_PROPERTY,
        _raised(r"module 'numpy\.lib' has no attribute 'pad'"),
        "np.lib.pad is gone in NumPy 2: call np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant').",
    ),
    Hint(
        "removed NumPy type alias",
        EVERY_PROPERTY,
        _raised(r"module 'numpy' has no attribute '(int|float|bool|object|complex|str|long|unicode)'"),
        lambda c: "np.{0} was removed in NumPy 1.24: use the builtin {0}(...) (or np.{0}64 for a dtype).".format(
            re.search(r"has no attribute '(\w+)'", c.got["error"]).group(1)),
    ),
    Hint(
        "int() of an array",
        EVERY_PROPERTY,
        _raised(r"TypeError: only (0-dimensional|length-1|size-1) arrays can be converted to Python scalars"),
        "int() or float() of an array with one element fails in NumPy 2: only a 0-d array converts. Take the "
        "element first: int(row[0]) or row.item(); or find the maximum with np.unravel_index(np.argmax(window), "
        "window.shape), which gives plain integers.",
    ),
)


FLOAT_SIZE = Hint(
    "size computed with /",
    ("value",),
    lambda c: isinstance(c.got.get("value"), (float, np.floating)) and c.got["value"] == c.want.get("value"),
    lambda c: f"Your size is the float {c.got['value']!r}: in Python 3, / gives a float even when the division is exact "
    "(CS231n's (H + 2*pad - HH) / stride + 1 was Python 2's integer division). Use //, exact whenever the filter fits, "
    "so the size can be used as a shape and in range().",
)


def with_crash_hints(*groups) -> tuple:
    """The hints of ``groups``, then the crash hints: a check's whole tuple."""
    return tuple(hint for group in groups for hint in group) + CRASH_HINTS


CONV_FORWARD_HINTS = with_crash_hints(known.CONV_FORWARD_HINTS, (
    PAD_IGNORED, FORWARD_FLIPPED, PLUS_ONE_FORGOTTEN, PAD_FORGOTTEN, PAD_FORGOTTEN_CRASH, ARRAY_INTO_ONE_OUTPUT))
CONV_BACKWARD_HINTS = with_crash_hints(
    known.CONV_BACKWARD_HINTS, (PAD_SLICE_EMPTY, PAD_SLICE_EMPTY_CRASH, PADDED_DX, CONV_OVERWRITES, GRADIENT_AVERAGED, DX_FLIPPED_FILTER, DB_AXES,
                                BACKWARD_STRIDE_IGNORED, PAD_FORGOTTEN_BACKWARD, PAD_FORGOTTEN_BACKWARD_CRASH))
MAX_POOL_FORWARD_HINTS = with_crash_hints(known.MAX_POOL_FORWARD_HINTS, (POOL_WINDOW_SWAPPED, PLUS_ONE_FORGOTTEN))
MAX_POOL_BACKWARD_HINTS = with_crash_hints(known.MAX_POOL_BACKWARD_HINTS, (POOL_OVERWRITES, POOL_WINDOW_SWAPPED, POOL_BLOCK_MAX))
IM2COL_FORWARD_HINTS = with_crash_hints(known.CONV_FORWARD_HINTS, (
    IM2COL_NF_SWAPPED, PAD_IGNORED, FORWARD_FLIPPED, PLUS_ONE_FORGOTTEN, PAD_FORGOTTEN, PAD_FORGOTTEN_CRASH))
IM2COL_BACKWARD_HINTS = with_crash_hints(known.CONV_BACKWARD_HINTS, (
    IM2COL_NF_SWAPPED_BACKWARD, PAD_SLICE_EMPTY, PAD_SLICE_EMPTY_CRASH, PADDED_DX, GRADIENT_AVERAGED, DX_FLIPPED_FILTER, DB_AXES,
    BACKWARD_STRIDE_IGNORED))
SPEED_HINTS = (NOT_TIMED, *known.SPEED_HINTS)
