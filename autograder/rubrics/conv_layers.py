"""Rubric of the first assignment, ``conv_layers``: padding, sizes, convolution and max pooling.

CS231n names and conventions; ``stride`` and ``pad`` are plain ints (tuple
strides and dilated convolution belong to a later assignment), filters and
pool windows may be rectangular. Max pooling is drawn on distinct values, so
how a correct implementation breaks ties never costs points. Every check
draws 100 cases (the default of :class:`~autograder.engine.checks.SearchedCheck`).
"""

from __future__ import annotations

from ..engine import hints
from ..engine.rubric import Assignment, backward_check, forward_check, function, raises_check, value_check
from . import hints_students
from . import strategies as cases

CONV_CASES = cases.conv_cases(max_batch=2, max_channels=3, max_filters=3, max_filter_size=4, max_stride=3, max_pad=3)
CONV_FORWARD_POINTS = {"output shape": 2, "output values": 4, "inputs unchanged": 1}
CONV_BACKWARD_POINTS = {"dx": 3, "dw": 3, "db": 2}
_POOL_CASES = cases.pool_cases(max_batch=2, max_channels=3, max_window=3, max_stride=3, styles=("distinct",))
_SIZE_HINTS = hints_students.with_crash_hints(hints.OUTPUT_SIZE_HINTS, (hints_students.FLOAT_SIZE,))


def _size_arguments(a: cases.SizeArgs) -> tuple:
    return (a.in_size, a.filter_size, a.stride, a.pad, a.dilation)


def _count_arguments(a: cases.ParamCountArgs) -> tuple:
    return (a.in_channels, a.num_filters, a.filter_size, a.bias)


ZERO_PAD = function(
    "zero_pad(x, pad)",
    "zero_pad",
    value_check(cases.pad_cases(), {"shape": 1, "values": 2, "inputs unchanged": 1}, hints=hints_students.with_crash_hints(hints.ZERO_PAD_HINTS)),
)

CONV_OUTPUT_SIZE = function(
    "conv_output_size(in_size, filter_size, stride, pad, dilation)",
    "output_size",
    value_check(
        cases.output_size_args(max_dilation=3),
        {"value": 2},
        arguments=_size_arguments,
        hints=_SIZE_HINTS,
        description="configurations that fit",
    ),
    raises_check(
        cases.unfit_output_size_args(max_dilation=3),
        {"raises ValueError": 1},
        arguments=_size_arguments,
        hints=_SIZE_HINTS,
        description="configurations that don't fit",
    ),
)

CONV_PARAM_COUNT = function(
    "conv_param_count(in_channels, num_filters, filter_size, bias)",
    "conv_param_count",
    value_check(cases.param_count_args(), {"value": 2}, arguments=_count_arguments, hints=hints_students.with_crash_hints(hints.PARAM_COUNT_HINTS)),
)

CONV_FORWARD = function(
    "conv_forward_naive(x, w, b, conv_param)",
    "conv_forward",
    forward_check(CONV_CASES, CONV_FORWARD_POINTS, hints=hints_students.CONV_FORWARD_HINTS),
)

CONV_BACKWARD = function(
    "conv_backward_naive(dout, cache)",
    "conv_backward",
    backward_check(CONV_CASES, "conv_forward_naive", CONV_BACKWARD_POINTS, hints=hints_students.CONV_BACKWARD_HINTS),
)

MAX_POOL_FORWARD = function(
    "max_pool_forward_naive(x, pool_param)",
    "max_pool_forward",
    forward_check(_POOL_CASES, {"output shape": 1, "output values": 3, "inputs unchanged": 1}, hints=hints_students.MAX_POOL_FORWARD_HINTS),
)

MAX_POOL_BACKWARD = function(
    "max_pool_backward_naive(dout, cache)",
    "max_pool_backward",
    backward_check(_POOL_CASES, "max_pool_forward_naive", {"dx": 4}, hints=hints_students.MAX_POOL_BACKWARD_HINTS),
)

ASSIGNMENT = Assignment(
    name="conv_layers",
    title="Convolutional layers: padding, output size, parameters, convolution and max pooling",
    functions=(ZERO_PAD, CONV_OUTPUT_SIZE, CONV_PARAM_COUNT, CONV_FORWARD, CONV_BACKWARD, MAX_POOL_FORWARD, MAX_POOL_BACKWARD),
)
