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

__all__ = ["Hint", "HintContext", "first_matching_hint"]


@dataclass
class HintContext:
    """The failing case, what the student returned and a way to compute variants."""

    case: Any
    property: str
    got: dict
    want: dict
    expected: Callable  # autograder.expected.ExpectedValues

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
    """The text of the first hint that explains this failure, or ``""``."""
    for hint in hints:
        if context.property in hint.properties:
            try:
                if hint.matches(context):
                    return hint.message(context)
            except Exception:  # a hint must never break grading; it is only advice
                continue
    return ""


def same(got, target, tolerance: float = 1e-6) -> bool:
    """Does the student's array equal ``target`` (same shape, values to ``tolerance``)?"""
    return (
        isinstance(got, np.ndarray)
        and isinstance(target, np.ndarray)
        and got.shape == target.shape
        and got.dtype.kind in "biuf"
        and normwise_error(got, target) <= tolerance
    )


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
    for text, value in mistakes:
        if value == got:
            return text
    return ""


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
    args, got = context.case, context.got.get("value")
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
    for text, value in mistakes:
        if value == got and value != context.want["value"]:
            return text
    return ""


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


POOL_AVERAGED = Hint(
    "average instead of max",
    ("output values",),
    lambda c: same(c.got.get("out"), _pool_variant(c, "avg_pool_forward")),
    "Your output is the average of each window; max pooling takes the largest value: np.max(window).",
)
POOL_STRIDE_IGNORED = Hint(
    "pool stride ignored",
    ("output shape", "output values"),
    lambda c: c.case.pool_param["stride"] not in (1, (1, 1)) and _stride_ignored(c, _pool_variant(c, "max_pool_forward", stride=1)),
    "Your output matches stride 1: window (i, j) starts at row i*stride and column j*stride.",
)
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
