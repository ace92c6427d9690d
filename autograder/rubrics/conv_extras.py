"""Rubric of ``conv_extras``: dilated and 1x1 convolution, "same" padding, correlation vs
convolution, average pooling, parameter counts and the shapes of a whole ConvNet.

``conv_param`` and ``pool_param`` hold plain ints, and ``conv_param`` always
has ``dilation`` (1 included). Everything is judged against the reference
engine cross-checked by torch, on 100 drawn cases per check.
"""

from __future__ import annotations

from ..engine import hints
from ..engine.rubric import Assignment, backward_check, forward_check, function, raises_check, value_check
from . import strategies as cases
from .conv_layers import CONV_BACKWARD_POINTS, CONV_FORWARD_POINTS
from .hints_students import with_crash_hints

_DILATED_CASES = cases.conv_cases(
    max_batch=2, max_channels=3, max_filters=3, max_filter_size=3, max_stride=3, max_pad=3, max_dilation=3, dilation_key=True
)
_CORRELATION_CASES = cases.correlation_cases()
_POOL_CASES = cases.pool_cases(max_batch=2, max_channels=3, max_window=3, max_stride=3)
_GLOBAL_CASES = cases.global_pool_cases()
_ARRAY_POINTS = {"shape": 1, "values": 2, "inputs unchanged": 1}

DILATED_CONV_FORWARD = function(
    "dilated_conv_forward(x, w, b, conv_param)",
    "conv_forward",
    forward_check(_DILATED_CASES, CONV_FORWARD_POINTS, hints=with_crash_hints(hints.DILATED_FORWARD_HINTS)),
)

DILATED_CONV_BACKWARD = function(
    "dilated_conv_backward(dout, cache)",
    "conv_backward",
    backward_check(_DILATED_CASES, "dilated_conv_forward", CONV_BACKWARD_POINTS, hints=with_crash_hints(hints.DILATED_BACKWARD_HINTS)),
)

SAME_PAD = function(
    "same_pad(filter_size, dilation)",
    "same_pad",
    value_check(cases.same_pad_args(), {"value": 1}, description="filters with an odd span", hints=hints.SAME_PAD_HINTS),
    raises_check(cases.same_pad_args(odd_span=False), {"raises ValueError": 1}, description="filters with an even span",
                 hints=hints.SAME_PAD_HINTS),
)

CONV1X1_FORWARD = function(
    "conv1x1_forward(x, w, b)",
    "conv1x1_forward",
    value_check(cases.conv1x1_cases(), {"shape": 1, "values": 3, "inputs unchanged": 1}, hints=with_crash_hints(hints.CONV1X1_HINTS)),
)

CORRELATE2D = function(
    "correlate2d(image, kernel)",
    "correlate2d",
    value_check(_CORRELATION_CASES, _ARRAY_POINTS, hints=with_crash_hints(hints.CORRELATE2D_HINTS)),
)

CONVOLVE2D = function(
    "convolve2d(image, kernel)",
    "convolve2d",
    value_check(_CORRELATION_CASES, _ARRAY_POINTS, hints=with_crash_hints(hints.CONVOLVE2D_HINTS)),
)

AVG_POOL_FORWARD = function(
    "avg_pool_forward(x, pool_param)",
    "avg_pool_forward",
    forward_check(_POOL_CASES, {"output shape": 1, "output values": 3, "inputs unchanged": 1}, hints=with_crash_hints(hints.AVG_POOL_FORWARD_HINTS)),
)

AVG_POOL_BACKWARD = function(
    "avg_pool_backward(dout, cache)",
    "avg_pool_backward",
    backward_check(_POOL_CASES, "avg_pool_forward", {"dx": 4}, hints=with_crash_hints(hints.AVG_POOL_BACKWARD_HINTS)),
)

GLOBAL_AVG_POOL_FORWARD = function(
    "global_avg_pool_forward(x)",
    "global_avg_pool_forward",
    forward_check(_GLOBAL_CASES, {"output shape": 1, "output values": 2, "inputs unchanged": 1}, hints=with_crash_hints(hints.GLOBAL_POOL_FORWARD_HINTS)),
)

GLOBAL_AVG_POOL_BACKWARD = function(
    "global_avg_pool_backward(dout, cache)",
    "global_avg_pool_backward",
    backward_check(_GLOBAL_CASES, "global_avg_pool_forward", {"dx": 3}, hints=with_crash_hints(hints.GLOBAL_POOL_BACKWARD_HINTS)),
)

FC_PARAM_COUNT = function(
    "fc_param_count(in_features, out_features, bias)",
    "fc_param_count",
    value_check(cases.fc_param_count_args(), {"value": 2}, hints=with_crash_hints(hints.FC_PARAM_COUNT_HINTS)),
)

CONVNET_SHAPES = function(
    "convnet_shapes(input_shape, layers)",
    "convnet_shapes",
    value_check(
        cases.convnet_architectures(),
        {"shapes": 3, "parameter counts": 3},
        hints=with_crash_hints(hints.CONVNET_HINTS),
        description="networks that fit",
    ),
    raises_check(cases.unfit_convnet_architectures(), {"raises ValueError": 1}, description="a layer that doesn't fit"),
)

ASSIGNMENT = Assignment(
    name="conv_extras",
    title="More convolutional layers: dilation, 1x1 convolution, correlation vs convolution, average pooling, network shapes",
    functions=(
        DILATED_CONV_FORWARD,
        DILATED_CONV_BACKWARD,
        SAME_PAD,
        CONV1X1_FORWARD,
        CORRELATE2D,
        CONVOLVE2D,
        AVG_POOL_FORWARD,
        AVG_POOL_BACKWARD,
        GLOBAL_AVG_POOL_FORWARD,
        GLOBAL_AVG_POOL_BACKWARD,
        FC_PARAM_COUNT,
        CONVNET_SHAPES,
    ),
)
