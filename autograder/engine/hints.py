"""Known mistakes: when a minimal counterexample matches one, the student is told the likely fix.

Each :class:`Hint` recomputes what a function with that mistake would have
returned on the failing case (with the trusted engine) and compares it with
what the student returned. Hints run only on the one minimal failing case of
a property, so they cost nothing on passing submissions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compare import normwise_error

__all__ = ["EVERY_PROPERTY", "Hint", "HintContext", "first_matching_hint"]

EVERY_PROPERTY = ("*",)  # the properties of a hint that explains a crash: a call that raised fails them all


@dataclass
class HintContext:
    """The failing case, what the student returned and a way to compute variants."""

    case: Any
    property: str
    got: dict
    want: dict
    expected: Callable  # autograder.engine.expected.ExpectedValues

    def variant(self, op: str, *args):
        """``op(*args)`` in the trusted engine, or None where that variant does not even fit."""
        try:
            return self.expected(op, *args)
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Hint:
    """A known mistake: the properties it explains, how to spot it, what to tell the student."""

    name: str
    properties: tuple[str, ...]
    matches: Callable[[HintContext], bool]
    text: str | Callable[[HintContext], str]

    def message(self, context: HintContext) -> str:
        return self.text(context) if callable(self.text) else self.text


def first_matching_hint(hints, context: HintContext) -> str:
    """The text of the first hint that explains this failure, or ``""``.

    None when the value the property judges is the expected one (the
    property failed for another reason, e.g. the input was modified): a
    mistake's variant can coincide with the right answer on a case (a stride
    that changes nothing, a 1x1 window), and must not be blamed then. When a
    second mistake gives the same result on this (small) case, it is named
    too: one case cannot tell them apart.
    """
    if _answered_right(context):
        return ""
    texts: list[str] = []
    for hint in hints:
        if context.property in hint.properties or hint.properties == EVERY_PROPERTY:
            try:
                text = hint.message(context) if hint.matches(context) else ""
            except Exception:  # a hint must never break grading; it is only advice
                continue
            if text and text not in texts:
                texts.append(text)
                if len(texts) == 2:
                    break
    if len(texts) == 2:
        return f"{texts[0]}\nThis small case fits another mistake too, which it cannot tell apart: {texts[1]}"
    return texts[0] if texts else ""


def _answered_right(context: HintContext) -> bool:
    key = context.property if context.property in context.want else next((k for k in ("out", "value") if k in context.want), None)
    if key is None or key not in context.got:
        return False
    got, want = context.got[key], context.want[key]
    if isinstance(want, np.ndarray):
        return same(got, want)
    return isinstance(got, (int, np.integer)) and not isinstance(got, bool) and got == want  # a float 3.0 is no size


def same(got, target, tolerance: float = 1e-6) -> bool:
    """Does the student's array equal ``target`` (same shape, values to ``tolerance``)?"""
    return (
        isinstance(got, np.ndarray)
        and isinstance(target, np.ndarray)
        and got.shape == target.shape
        and got.dtype.kind in "biuf"
        and normwise_error(got, target) <= tolerance
    )


def _explained_by(mistakes, context: HintContext) -> str:
    """The text of the first ``(text, value)`` whose value is the student's answer and not the right one.

    A slip that changes nothing on this case (its value is the right one) explains nothing.
    """
    got, want = context.got.get("value"), context.want["value"]
    return next((text for text, value in mistakes if value == got and value != want), "")


# --------------------------------------------------------------------------- convolution forward


def _conv_out(context: HintContext, x=None, **changes):
    case = context.case
    param = {**case.conv_param, **changes}
    result = context.variant("conv_forward", case.x if x is None else x, case.w, case.b, param)
    return None if result is None else result[0]


def _pads(case) -> tuple[int, int]:
    pad = case.conv_param["pad"]
    return pad if isinstance(pad, tuple) else (pad, pad)


def _one_sided_pad(context: HintContext) -> bool:
    case, got = context.case, context.got.get("out")
    ph, pw = _pads(case)
    if ph == pw == 0:
        return False
    for widths in (((ph, 0), (pw, 0)), ((0, ph), (0, pw)), ((ph, ph), (0, 0)), ((0, 0), (pw, pw))):
        x = np.pad(case.x, ((0, 0), (0, 0), *widths))
        if same(got, _conv_out(context, x=x, pad=0)):
            return True
    return False


BIAS_FORGOTTEN = Hint(
    "bias forgotten",
    ("output values",),
    lambda c: np.any(c.case.b != 0) and same(c.got.get("out"), c.want["out"] - c.case.b[None, :, None, None]),
    "Your output is exactly the expected one minus the bias: add b[f] to every output of filter f.",
)
NHWC = Hint(
    "NHWC instead of NCHW",
    ("output shape", "output values"),
    lambda c: isinstance(c.got.get("out"), np.ndarray) and c.got["out"].shape == c.want["out"].transpose(0, 2, 3, 1).shape
    and c.got["out"].shape != c.want["out"].shape,
    "Your output has shape (N, H', W', F), channels last (NHWC). This course uses NCHW: "
    "out has shape (N, F, H', W'), with out[n, f, i, j].",
)
ONE_SIDED_PAD = Hint(
    "padding on one side only",
    ("output shape", "output values"),
    _one_sided_pad,
    "Your output matches padding on one side only. Zero padding adds `pad` rows above AND below and `pad` "
    "columns left AND right: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).",
)
PAD_TWICE = Hint(
    "padding applied twice",
    ("output shape", "output values"),
    lambda c: any(_pads(c.case)) and same(c.got.get("out"), _conv_out(c, pad=tuple(2 * p for p in _pads(c.case)))),
    "Your output matches a padding of 2*pad: the input seems to be padded twice (e.g. padding x, then "
    "padding the padded array again, or adding 2*pad on each side). Pad once, `pad` zeros per side.",
)
def _stride_ignored(context: HintContext, unit_stride_output) -> bool:
    """The output is the stride-1 output, whole or cut to the right size (windows moved by 1)."""
    got, want = context.got.get("out"), context.want["out"]
    if unit_stride_output is None or not isinstance(got, np.ndarray):
        return False
    return same(got, unit_stride_output) or same(got, unit_stride_output[..., : want.shape[2], : want.shape[3]])


STRIDE_IGNORED = Hint(
    "stride ignored",
    ("output shape", "output values"),
    lambda c: c.case.conv_param["stride"] not in (1, (1, 1)) and _stride_ignored(c, _conv_out(c, stride=1)),
    "Your output matches stride 1: the stride was ignored. Output (i, j) reads the window starting at "
    "row i*stride and column j*stride, and H' = 1 + (H + 2*pad - HH) // stride.",
)
CONV_FORWARD_HINTS = (NHWC, BIAS_FORGOTTEN, ONE_SIDED_PAD, PAD_TWICE, STRIDE_IGNORED)


# --------------------------------------------------------------------------- convolution backward


def _conv_grads_with_ones(context: HintContext):
    case = context.case
    return context.variant("conv_backward", np.ones_like(case.dout), (case.x, case.w, case.b, case.conv_param))


DOUT_UNUSED = Hint(
    "dout not used",
    ("dx", "dw", "db"),
    lambda c: not np.all(c.case.dout == 1)
    and same(c.got.get(c.property), dict(zip(("dx", "dw", "db"), _conv_grads_with_ones(c)))[c.property]),
    "Your gradient is what dout = 1 everywhere would give: multiply by the upstream gradient dout[n, f, i, j] "
    "(chain rule) when you send it back.",
)


def _dw_rearranged(context: HintContext) -> bool:
    got, want = context.got.get("dw"), context.want["dw"]
    if not isinstance(got, np.ndarray):
        return False
    swapped_shapes = {want.transpose(0, 1, 3, 2).shape, want.transpose(1, 0, 2, 3).shape} - {want.shape}
    if got.shape in swapped_shapes:
        return True
    candidates = [want[:, :, ::-1, ::-1], want.transpose(0, 1, 3, 2)] if want.shape[2] == want.shape[3] else [want[:, :, ::-1, ::-1]]
    if want.shape[0] == want.shape[1]:
        candidates.append(want.transpose(1, 0, 2, 3))
    return any(same(got, candidate) for candidate in candidates)


DW_TRANSPOSED = Hint(
    "gradient wrt w transposed",
    ("dw",),
    _dw_rearranged,
    "Your dw holds the right numbers in the wrong places (transposed, flipped, or filters and channels "
    "swapped). dw has the shape of w, (F, C, HH, WW): dw[f, c, k, l] += dout[n, f, i, j] * "
    "x_pad[n, c, i*stride + k, j*stride + l]. No flip: the layer is cross-correlation.",
)
CONV_BACKWARD_HINTS = (DW_TRANSPOSED, DOUT_UNUSED)


# --------------------------------------------------------------------------- shapes


def _formula(args, *, in_size=None, pad_factor=2, stride=None, plus_one=1, dilation=None):
    n = args.in_size if in_size is None else in_size
    d = args.dilation if dilation is None else dilation
    s = args.stride if stride is None else stride
    span = d * (args.filter_size - 1) + 1
    return (n - span + pad_factor * args.pad) / s + plus_one


def _size_mistake(context: HintContext) -> str:
    got, args = context.got.get("value"), context.case
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        return ""
    mistakes = (
        ("the padding is missing: use N - F + 2P", _formula(args, pad_factor=0)),
        ("the padding is counted once: zeros go on both sides, so add 2P", _formula(args, pad_factor=1)),
        ("the + 1 is missing: (N - F + 2P)/S + 1", _formula(args, plus_one=0)),
        ("the stride is ignored: divide by S", _formula(args, stride=1)),
        ("the dilation is ignored: a dilated filter spans D*(F - 1) + 1 inputs", _formula(args, dilation=1)),
    )
    return _explained_by(mistakes, context)


SIZE_FORMULA = Hint(
    "output-size formula",
    ("value",),
    lambda c: bool(_size_mistake(c)),
    lambda c: f"Your answer matches a formula where {_size_mistake(c)}.",
)


def _floored_text(context: HintContext) -> str:
    args = context.case
    exact = _formula(args)
    if exact < 1:
        return (
            f"The filter doesn't fit: it spans {args.dilation * (args.filter_size - 1) + 1} but the padded input is "
            f"{args.in_size + 2 * args.pad}, so (N - F + 2P)/S + 1 = {exact:.3g} < 1. Raise ValueError when N - F + 2P < 0."
        )
    return (
        f"Here (N - F + 2P)/S + 1 = {exact:.3g} is not a whole number: the filter doesn't fit. Raise ValueError "
        "instead of rounding (// floors silently); check (N - F + 2P) % S != 0."
    )


FLOORED = Hint("output size floored", ("raises ValueError",), lambda c: "value" in c.got, _floored_text)
OUTPUT_SIZE_HINTS = (SIZE_FORMULA, FLOORED)


def _count_mistake(context: HintContext) -> str:
    args = context.case
    height, width = args.filter_size if isinstance(args.filter_size, tuple) else (args.filter_size,) * 2
    k, c = args.num_filters, args.in_channels
    mistakes = []
    if args.bias:
        mistakes.append(("the biases are missing: each filter has one bias, + 1 per filter", k * height * width * c))
    else:
        mistakes.append(("biases are counted although bias=False", k * (height * width * c + 1)))
    mistakes += [
        ("the input channels are missing: each filter spans all C channels, HH*WW*C weights", k * (height * width + int(args.bias))),
        ("the filter is taken as square: HH*WW, not HH*HH", k * (height * height * c + int(args.bias))),
    ]
    return _explained_by(mistakes, context)


PARAM_COUNT = Hint(
    "parameter count",
    ("value",),
    lambda c: bool(_count_mistake(c)),
    lambda c: f"Your count matches one where {_count_mistake(c)}.",
)
PARAM_COUNT_HINTS = (PARAM_COUNT,)


# --------------------------------------------------------------------------- padding and pooling


def _pad_shape_mistake(context: HintContext) -> str:
    got, x, pad = context.got.get("value"), context.case.x, context.case.pad
    if not isinstance(got, np.ndarray):
        return ""
    n, c, h, w = x.shape
    if got.shape == (n + 2 * pad, c + 2 * pad, h + 2 * pad, w + 2 * pad) and pad:
        return "every axis was padded, N and C too: pad only H and W, ((0, 0), (0, 0), (pad, pad), (pad, pad))"
    if got.shape == (n, c, h + pad, w + pad) and pad:
        return "only one side was padded: add pad zeros on both sides of H and of W"
    return ""


PAD_SHAPE = Hint("zero_pad axes", ("shape", "values"), lambda c: bool(_pad_shape_mistake(c)), lambda c: f"In your result {_pad_shape_mistake(c)}.")
ZERO_PAD_HINTS = (PAD_SHAPE,)


def _pool_variant(context: HintContext, op: str, **changes):
    case = context.case
    result = context.variant(op, case.x, {**case.pool_param, **changes})
    return None if result is None else result[0]


def _pool_other_kind(name: str, other_op: str, message: str) -> Hint:
    """A pooling forward whose output is that of the other kind of pooling, ``other_op``."""
    return Hint(name, ("output values",), lambda c: same(c.got.get("out"), _pool_variant(c, other_op)), message)


def _pool_stride_ignored(name: str, op: str) -> Hint:
    """A pooling forward ``op`` whose output matches stride 1."""
    return Hint(
        name,
        ("output shape", "output values"),
        lambda c: c.case.pool_param["stride"] not in (1, (1, 1)) and _stride_ignored(c, _pool_variant(c, op, stride=1)),
        "Your output matches stride 1: window (i, j) starts at row i*stride and column j*stride.",
    )


POOL_AVERAGED = _pool_other_kind(
    "average instead of max", "avg_pool_forward",
    "Your output is the average of each window; max pooling takes the largest value: np.max(window).",
)
POOL_STRIDE_IGNORED = _pool_stride_ignored("pool stride ignored", "max_pool_forward")
MAX_POOL_FORWARD_HINTS = (POOL_AVERAGED, POOL_STRIDE_IGNORED)


def _pool_grad_spread(context: HintContext) -> bool:
    case = context.case
    return same(context.got.get("dx"), context.variant("avg_pool_backward", case.dout, (case.x, case.pool_param)) * case.pool_param["pool_height"] * case.pool_param["pool_width"])


POOL_GRAD_SPREAD = Hint(
    "gradient to the whole window",
    ("dx",),
    _pool_grad_spread,
    "Your dx gives dout to every element of each window; only the maximum of the window gets it "
    "(the others did not affect the output): dx[window] += (window == window.max()) * dout[n, c, i, j].",
)
POOL_DOUT_UNUSED = Hint(
    "pool dout not used",
    ("dx",),
    lambda c: not np.all(c.case.dout == 1)
    and same(c.got.get("dx"), c.variant("max_pool_backward", np.ones_like(c.case.dout), (c.case.x, c.case.pool_param))),
    "Your dx is what dout = 1 everywhere would give: route dout[n, c, i, j] itself to the maximum of its window.",
)
MAX_POOL_BACKWARD_HINTS = (POOL_GRAD_SPREAD, POOL_DOUT_UNUSED)


# --------------------------------------------------------------------------- dilated convolution


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _undilated_crop(context: HintContext):
    """The padded input cut to what undilated windows read at the case's stride, for the expected H' x W'.

    A convolution that ignores the dilation but keeps the right output size
    reads the window ``xp[i*S : i*S + HH, j*S : j*S + WW]``: that is an
    ordinary convolution (no pad, no dilation) of this crop.
    """
    case = context.case
    (ph, pw), (sh, sw) = _pads(case), _pair(case.conv_param["stride"])
    kh, kw = case.w.shape[2:]
    oh, ow = case.dout.shape[2:]
    xp = np.pad(case.x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return xp, xp[:, :, : (oh - 1) * sh + kh, : (ow - 1) * sw + kw], {"stride": case.conv_param["stride"], "pad": 0}


def _dilated(case) -> bool:
    return _pair(case.conv_param.get("dilation", 1)) != (1, 1)


def _dilation_ignored_forward(context: HintContext) -> bool:
    if not _dilated(context.case):
        return False
    got = context.got.get("out")
    _, crop, param = _undilated_crop(context)
    cropped = context.variant("conv_forward", crop, context.case.w, context.case.b, param)
    return same(got, _conv_out(context, dilation=1)) or (cropped is not None and same(got, cropped[0]))


DILATION_IGNORED = Hint(
    "dilation ignored",
    ("output shape", "output values"),
    _dilation_ignored_forward,
    "Your output matches an undilated convolution: the dilation was ignored. With dilation D the filter taps "
    "are D apart: out[n, f, i, j] = b[f] + sum w[f, c, k, l] * x_pad[n, c, i*stride + k*D, j*stride + l*D] "
    "(a window x_pad[..., i*stride : i*stride + D*(HH - 1) + 1 : D, ...]), and the filter spans D*(HH - 1) + 1 "
    "inputs in the output-size formula.",
)


def _dilation_ignored_backward(context: HintContext) -> bool:
    case = context.case
    if not _dilated(case):
        return False
    xp, crop, param = _undilated_crop(context)
    grads = context.variant("conv_backward", case.dout, (crop, case.w, case.b, param))
    if grads is None:
        return False
    dxp = np.zeros(xp.shape)
    dxp[:, :, : crop.shape[2], : crop.shape[3]] = grads[0]
    (ph, pw), (height, width) = _pads(case), case.x.shape[2:]
    variants = {"dx": dxp[:, :, ph : ph + height, pw : pw + width], "dw": grads[1]}
    return context.property in variants and same(context.got.get(context.property), variants[context.property])


DILATION_IGNORED_BACKWARD = Hint(
    "dilation ignored in the backward",
    ("dx", "dw"),
    _dilation_ignored_backward,
    "Your gradient matches an undilated convolution: the dilation was ignored in the backward pass. Each output "
    "position read the taps x_pad[n, :, i*stride + k*D, j*stride + l*D]; send dout[n, f, i, j] back to exactly "
    "those: a window x_pad[..., i*stride : i*stride + D*(HH - 1) + 1 : D, ...] for dw and for dx_pad.",
)
DILATED_FORWARD_HINTS = (DILATION_IGNORED, *CONV_FORWARD_HINTS)
DILATED_BACKWARD_HINTS = (DILATION_IGNORED_BACKWARD, *CONV_BACKWARD_HINTS)


# --------------------------------------------------------------------------- 1x1 convolution

_SHAPE_ERRORS = ("shape", "mismatch", "broadcast", "align", "dimension")


def _w_transposed(context: HintContext) -> str:
    """How the result shows a channel mixer used as (C, F), or ``""``."""
    x, w = context.case.x, context.case.w
    filters, channels = w.shape
    got, error = context.got.get("value"), context.got.get("error", "")
    if filters == channels:
        transposed = context.variant("conv1x1_forward", x, w.T, context.case.b)
        return "Your output matches w transposed" if same(got, transposed) else ""
    if isinstance(got, np.ndarray) and got.shape == (x.shape[0], channels, *x.shape[2:]):
        return f"Your output has the input's C = {channels} channels where it should have F = {filters}"
    if error and any(word in error.lower() for word in _SHAPE_ERRORS):
        return f"Your code failed with a shape error where w has F = {filters} rows and x has C = {channels} channels"
    return ""


CONV1X1_W_TRANSPOSED = Hint(
    "1x1 convolution with w transposed",
    ("shape", "values", "inputs unchanged"),  # a call that raised fails every property
    lambda c: (c.property != "inputs unchanged" or "error" in c.got) and bool(_w_transposed(c)),
    lambda c: f"{_w_transposed(c)}: w is (F, C), one row of channel weights per output channel, so "
    "out[n, f, i, j] = b[f] + sum_c w[f, c] * x[n, c, i, j] (e.g. np.einsum('fc,nchw->nfhw', w, x)); "
    "a product with w used as (C, F) is w transposed.",
)
CONV1X1_HINTS = (CONV1X1_W_TRANSPOSED,)


# --------------------------------------------------------------------------- correlation and convolution


CONVOLVE_NOT_FLIPPED = Hint(
    "convolution without the flip",
    ("values",),
    lambda c: same(c.got.get("value"), c.variant("correlate2d", c.case.image, c.case.kernel)),
    "Your output is the cross-correlation: convolution flips the kernel first, "
    "out[i, j] = sum image[i + k, j + l] * kernel[KH - 1 - k, KW - 1 - l] (correlate with kernel[::-1, ::-1]).",
)
CORRELATE_FLIPPED = Hint(
    "correlation with a flip",
    ("values",),
    lambda c: same(c.got.get("value"), c.variant("convolve2d", c.case.image, c.case.kernel)),
    "Your output is the convolution (the kernel flipped). Cross-correlation, what CNN layers compute, slides "
    "the kernel as it is: out[i, j] = sum image[i + k, j + l] * kernel[k, l].",
)
CONVOLVE2D_HINTS = (CONVOLVE_NOT_FLIPPED,)
CORRELATE2D_HINTS = (CORRELATE_FLIPPED,)


# --------------------------------------------------------------------------- average pooling


AVG_POOL_MAXED = _pool_other_kind(
    "max instead of average", "max_pool_forward",
    "Your output is the maximum of each window; average pooling takes the mean: window.mean(axis=(2, 3)).",
)
AVG_POOL_STRIDE_IGNORED = _pool_stride_ignored("average pool stride ignored", "avg_pool_forward")
AVG_POOL_FORWARD_HINTS = (AVG_POOL_MAXED, AVG_POOL_STRIDE_IGNORED)


def _window_area(case) -> int:
    return case.pool_param["pool_height"] * case.pool_param["pool_width"]


AVG_POOL_NOT_DIVIDED = Hint(
    "average pool gradient not divided",
    ("dx",),
    lambda c: _window_area(c.case) > 1 and same(c.got.get("dx"), c.want["dx"] * _window_area(c.case)),
    "Your dx is pool_height*pool_width times too large: each output is the mean of its window, so each input of "
    "the window gets dout[n, c, i, j] / (pool_height*pool_width).",
)
AVG_POOL_BACKWARD_HINTS = (AVG_POOL_NOT_DIVIDED,)


# --------------------------------------------------------------------------- global average pooling

_AXES = ((1, 2), (0, 1), (2,), (3,), (1, 3), (0, 2), (0, 3), (1, 2, 3), (0, 2, 3), (0, 1, 2, 3))  # likeliest first


def _global_mistake(context: HintContext) -> str:
    x, got = context.case.x, context.got.get("out")
    if not isinstance(got, np.ndarray):
        return ""
    n, c = x.shape[:2]
    if got.shape == (n, c, 1, 1):
        return "keepdims"
    for axes in _AXES:
        if same(got, x.mean(axis=axes)):
            return f"x.mean(axis={axes})"
    return ""


GLOBAL_POOL_SHAPE = Hint(
    "global average pool shape or axes",
    ("output shape", "output values"),
    lambda c: bool(_global_mistake(c)),
    lambda c: (
        "Your output has shape (N, C, 1, 1): return (N, C), one number per activation map: x.mean(axis=(2, 3)) "
        "(without keepdims=True)."
        if _global_mistake(c) == "keepdims"
        else f"Your output matches {_global_mistake(c)}, a mean over the wrong axes: global average pooling averages "
        "each activation map over its height and width, the axes (2, 3): out[n, c] = x[n, c].mean()."
    ),
)
GLOBAL_POOL_FORWARD_HINTS = (GLOBAL_POOL_SHAPE,)

GLOBAL_POOL_NOT_DIVIDED = Hint(
    "global average pool gradient not divided",
    ("dx",),
    lambda c: c.case.x.shape[2] * c.case.x.shape[3] > 1 and same(c.got.get("dx"), c.want["dx"] * c.case.x.shape[2] * c.case.x.shape[3]),
    "Your dx is H*W times too large: out[n, c] is the mean of H*W inputs, so each gets dout[n, c] / (H*W).",
)
GLOBAL_POOL_BACKWARD_HINTS = (GLOBAL_POOL_NOT_DIVIDED,)


# --------------------------------------------------------------------------- same padding


def _same_pad_mistake(context: HintContext) -> str:
    args, got = context.case, context.got.get("value")
    f, d = args.filter_size, args.dilation
    span = d * (f - 1) + 1
    mistakes = [
        ("the dilation is ignored: a dilated filter spans F' = D*(F - 1) + 1 inputs, and F' takes the place of F", (f - 1) // 2),
        ("it is not halved: the padding goes on both sides, (F' - 1)/2 on each", span - 1),
        ("it rounds up: (F' + 1)/2 adds one row too many; (F' - 1)/2 is exact for an odd span", (span + 1) // 2),
        ("it is the span itself: the padding is (F' - 1)/2, not F'", span),
    ]
    return _explained_by(mistakes, context) if isinstance(got, (int, np.integer)) else ""


SAME_PAD_VALUE = Hint(
    "same padding",
    ("value",),
    lambda c: bool(_same_pad_mistake(c)),
    lambda c: f"Your padding matches one where {_same_pad_mistake(c)}. With stride 1 the output size is "
              "N - F' + 2P + 1, which is N when P = (F' - 1)/2 (F = 3, 5, 7 -> P = 1, 2, 3).",
)
SAME_PAD_EVEN = Hint(
    "same padding of an even span",
    ("raises ValueError",),
    lambda c: "value" in c.got,
    "An even span F' has no middle tap: (F' - 1)/2 is not a whole number, so no padding keeps the size "
    "with as many zeros on each side. Raise ValueError and say so, as conv_output_size does when a filter doesn't fit.",
)
SAME_PAD_HINTS = (SAME_PAD_VALUE, SAME_PAD_EVEN)


# --------------------------------------------------------------------------- fully connected parameters


def _fc_count_mistake(context: HintContext) -> str:
    args = context.case
    d, m = args.in_features, args.out_features
    mistakes = [
        ("the biases are missing: each of the out_features units has one, + 1 per unit", d * m)
        if args.bias
        else ("biases are counted although bias=False", m * (d + 1)),
        ("one bias is counted for the whole layer: there is one per unit", d * m + 1),
        ("in and out are swapped: the biases belong to the out_features units", d * (m + 1)),
    ]
    return _explained_by(mistakes, context)


FC_PARAM_COUNT = Hint(
    "fc parameter count",
    ("value",),
    lambda c: bool(_fc_count_mistake(c)),
    lambda c: f"Your count matches one where {_fc_count_mistake(c)}: out*(in + 1) with bias, out*in without.",
)
FC_PARAM_COUNT_HINTS = (FC_PARAM_COUNT,)


# --------------------------------------------------------------------------- whole networks


def _first_fc(context: HintContext) -> tuple[int, tuple, int] | None:
    """Index of the first fc layer, the volume it receives and its units; None without one."""
    layers, want = context.case.layers, context.want["value"]
    for index, layer in enumerate(layers):
        if layer["type"] == "fc":
            volume = want[index - 1][0] if index else context.case.input_shape
            return index, tuple(volume), layer["units"]
    return None


def _not_flattened(context: HintContext) -> bool:
    found, got = _first_fc(context), context.got.get("value")
    if found is None or not isinstance(got, (list, tuple)):
        return False
    index, volume, units = found
    if len(volume) != 3 or volume[1:] == (1, 1):
        return False
    shape, count = got[index]
    if context.property == "parameter counts":
        return count == units * (volume[0] + 1)
    return tuple(shape) == (units, *volume[1:])


CONVNET_NOT_FLATTENED = Hint(
    "fc input not flattened",
    ("shapes", "parameter counts"),
    _not_flattened,
    "The first fc layer sees the whole (C, H, W) volume flattened: D = C*H*W inputs per unit, so it has "
    "M*(C*H*W + 1) parameters and outputs (M,), not M*(C + 1) parameters or an (M, H, W) volume.",
)


def _pool_counted(context: HintContext) -> bool:
    got = context.got.get("value")
    if not isinstance(got, (list, tuple)):
        return False
    return any(layer["type"] == "pool" and got[i][1] != 0 for i, layer in enumerate(context.case.layers) if i < len(got))


CONVNET_POOL_PARAMETERS = Hint(
    "pool layer with parameters",
    ("parameter counts",),
    _pool_counted,
    "A pooling layer has no parameters: max pooling only picks the largest value of each window (ReLU and softmax "
    "have none either). Count 0 for it.",
)
CONVNET_HINTS = (CONVNET_NOT_FLATTENED, CONVNET_POOL_PARAMETERS)


# --------------------------------------------------------------------------- speed


TOO_SLOW = Hint(
    "too slow",
    ("speed",),
    lambda c: c.got.get("ratio", 0) > c.want.get("max_ratio", float("inf")),
    "Most of the time probably goes into Python loops. Build every window at once (im2col: "
    "np.lib.stride_tricks.as_strided or sliding_window_view of the padded input, reshaped to a "
    "(C*HH*WW, N*H'*W') matrix) and do one matrix product with w reshaped to (F, C*HH*WW); in the backward, "
    "dw and the column gradients are matrix products too, and col2im needs at most a loop over the HH*WW taps.",
)
SPEED_HINTS = (TOO_SLOW,)
