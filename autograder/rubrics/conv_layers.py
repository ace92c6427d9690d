"""Rubric of the first assignment, ``conv_layers``: padding, sizes, convolution and max pooling.

CS231n names and conventions; ``stride`` and ``pad`` are plain ints (tuple
strides and dilated convolution belong to a later assignment), filters and
pool windows may be rectangular. Max pooling is drawn on distinct values, so
how a correct implementation breaks ties never costs points.
"""

from __future__ import annotations

from .. import hints
from .. import strategies as cases
from ..rubric import Assignment, Check, FunctionSpec

EXAMPLES = 100

ZERO_PAD = FunctionSpec(
    name="zero_pad",
    reference="zero_pad",
    signature="zero_pad(x, pad)",
    checks=(
        Check(
            kind="value",
            strategy=cases.pad_cases(),
            arguments=lambda c: (c.x, c.pad),
            points={"shape": 1, "values": 2, "inputs unchanged": 1},
            hints=hints.ZERO_PAD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

CONV_OUTPUT_SIZE = FunctionSpec(
    name="conv_output_size",
    reference="output_size",
    signature="conv_output_size(in_size, filter_size, stride, pad, dilation)",
    checks=(
        Check(
            kind="value",
            strategy=cases.output_size_args(max_dilation=3),
            arguments=lambda a: (a.in_size, a.filter_size, a.stride, a.pad, a.dilation),
            points={"value": 2},
            hints=hints.OUTPUT_SIZE_HINTS,
            examples=EXAMPLES,
            description="configurations that fit",
        ),
        Check(
            kind="raises",
            strategy=cases.unfit_output_size_args(max_dilation=3),
            arguments=lambda a: (a.in_size, a.filter_size, a.stride, a.pad, a.dilation),
            points={"raises ValueError": 1},
            error="ValueError",
            hints=hints.OUTPUT_SIZE_HINTS,
            examples=EXAMPLES,
            description="configurations that don't fit",
        ),
    ),
)

CONV_PARAM_COUNT = FunctionSpec(
    name="conv_param_count",
    reference="conv_param_count",
    signature="conv_param_count(in_channels, num_filters, filter_size, bias)",
    checks=(
        Check(
            kind="value",
            strategy=cases.param_count_args(),
            arguments=lambda a: (a.in_channels, a.num_filters, a.filter_size, a.bias),
            points={"value": 2},
            hints=hints.PARAM_COUNT_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

_CONV_CASES = cases.conv_cases(max_batch=2, max_channels=3, max_filters=3, max_filter_size=4, max_stride=3, max_pad=3)

CONV_FORWARD = FunctionSpec(
    name="conv_forward_naive",
    reference="conv_forward",
    signature="conv_forward_naive(x, w, b, conv_param)",
    checks=(
        Check(
            kind="forward",
            strategy=_CONV_CASES,
            arguments=lambda c: c.args,
            points={"output shape": 2, "output values": 4, "inputs unchanged": 1},
            hints=hints.CONV_FORWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

CONV_BACKWARD = FunctionSpec(
    name="conv_backward_naive",
    reference="conv_backward",
    signature="conv_backward_naive(dout, cache)",
    checks=(
        Check(
            kind="backward",
            strategy=_CONV_CASES,
            arguments=lambda c: (c.dout,),
            forward="conv_forward_naive",
            forward_arguments=lambda c: c.args,
            standard_cache=lambda c: (c.x, c.w, c.b, c.conv_param),
            outputs=("dx", "dw", "db"),
            points={"dx": 3, "dw": 3, "db": 2},
            hints=hints.CONV_BACKWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

_POOL_CASES = cases.pool_cases(max_batch=2, max_channels=3, max_window=3, max_stride=3, styles=("distinct",))

MAX_POOL_FORWARD = FunctionSpec(
    name="max_pool_forward_naive",
    reference="max_pool_forward",
    signature="max_pool_forward_naive(x, pool_param)",
    checks=(
        Check(
            kind="forward",
            strategy=_POOL_CASES,
            arguments=lambda c: c.args,
            points={"output shape": 1, "output values": 3, "inputs unchanged": 1},
            hints=hints.MAX_POOL_FORWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

MAX_POOL_BACKWARD = FunctionSpec(
    name="max_pool_backward_naive",
    reference="max_pool_backward",
    signature="max_pool_backward_naive(dout, cache)",
    checks=(
        Check(
            kind="backward",
            strategy=_POOL_CASES,
            arguments=lambda c: (c.dout,),
            forward="max_pool_forward_naive",
            forward_arguments=lambda c: c.args,
            standard_cache=lambda c: (c.x, c.pool_param),
            outputs=("dx",),
            points={"dx": 4},
            hints=hints.MAX_POOL_BACKWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

ASSIGNMENT = Assignment(
    name="conv_layers",
    version="1",
    title="Convolutional layers: padding, output size, parameters, convolution and max pooling",
    functions=(ZERO_PAD, CONV_OUTPUT_SIZE, CONV_PARAM_COUNT, CONV_FORWARD, CONV_BACKWARD, MAX_POOL_FORWARD, MAX_POOL_BACKWARD),
)
