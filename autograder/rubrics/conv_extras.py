"""Rubric of ``conv_extras``: dilated and 1x1 convolution, correlation vs convolution, average
pooling, parameter counts and the shapes of a whole ConvNet.

``conv_param`` and ``pool_param`` hold plain ints, and ``conv_param`` always
has ``dilation`` (1 included). Everything is judged against the reference
engine cross-checked by torch, on 100 drawn cases per check.
"""

from __future__ import annotations

from .. import hints
from .. import strategies as cases
from ..rubric import Assignment, Check, FunctionSpec

EXAMPLES = 100

_DILATED_CASES = cases.conv_cases(
    max_batch=2, max_channels=3, max_filters=3, max_filter_size=3, max_stride=3, max_pad=3, max_dilation=3, dilation_key=True
)

DILATED_CONV_FORWARD = FunctionSpec(
    name="dilated_conv_forward",
    reference="conv_forward",
    signature="dilated_conv_forward(x, w, b, conv_param)",
    checks=(
        Check(
            kind="forward",
            strategy=_DILATED_CASES,
            arguments=lambda c: c.args,
            points={"output shape": 2, "output values": 4, "inputs unchanged": 1},
            hints=hints.DILATED_FORWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

DILATED_CONV_BACKWARD = FunctionSpec(
    name="dilated_conv_backward",
    reference="conv_backward",
    signature="dilated_conv_backward(dout, cache)",
    checks=(
        Check(
            kind="backward",
            strategy=_DILATED_CASES,
            arguments=lambda c: (c.dout,),
            forward="dilated_conv_forward",
            forward_arguments=lambda c: c.args,
            standard_cache=lambda c: (c.x, c.w, c.b, c.conv_param),
            outputs=("dx", "dw", "db"),
            points={"dx": 3, "dw": 3, "db": 2},
            hints=hints.DILATED_BACKWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

CONV1X1_FORWARD = FunctionSpec(
    name="conv1x1_forward",
    reference="conv1x1_forward",
    signature="conv1x1_forward(x, w, b)",
    checks=(
        Check(
            kind="value",
            strategy=cases.conv1x1_cases(),
            arguments=lambda c: c.args,
            points={"shape": 1, "values": 3, "inputs unchanged": 1},
            hints=hints.CONV1X1_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

_CORRELATION_CASES = cases.correlation_cases()

CORRELATE2D = FunctionSpec(
    name="correlate2d",
    reference="correlate2d",
    signature="correlate2d(image, kernel)",
    checks=(
        Check(
            kind="value",
            strategy=_CORRELATION_CASES,
            arguments=lambda c: c.args,
            points={"shape": 1, "values": 2, "inputs unchanged": 1},
            hints=hints.CORRELATE2D_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

CONVOLVE2D = FunctionSpec(
    name="convolve2d",
    reference="convolve2d",
    signature="convolve2d(image, kernel)",
    checks=(
        Check(
            kind="value",
            strategy=_CORRELATION_CASES,
            arguments=lambda c: c.args,
            points={"shape": 1, "values": 2, "inputs unchanged": 1},
            hints=hints.CONVOLVE2D_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

_POOL_CASES = cases.pool_cases(max_batch=2, max_channels=3, max_window=3, max_stride=3)

AVG_POOL_FORWARD = FunctionSpec(
    name="avg_pool_forward",
    reference="avg_pool_forward",
    signature="avg_pool_forward(x, pool_param)",
    checks=(
        Check(
            kind="forward",
            strategy=_POOL_CASES,
            arguments=lambda c: c.args,
            points={"output shape": 1, "output values": 3, "inputs unchanged": 1},
            hints=hints.AVG_POOL_FORWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

AVG_POOL_BACKWARD = FunctionSpec(
    name="avg_pool_backward",
    reference="avg_pool_backward",
    signature="avg_pool_backward(dout, cache)",
    checks=(
        Check(
            kind="backward",
            strategy=_POOL_CASES,
            arguments=lambda c: (c.dout,),
            forward="avg_pool_forward",
            forward_arguments=lambda c: c.args,
            standard_cache=lambda c: (c.x, c.pool_param),
            outputs=("dx",),
            points={"dx": 4},
            hints=hints.AVG_POOL_BACKWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

_GLOBAL_CASES = cases.global_pool_cases()

GLOBAL_AVG_POOL_FORWARD = FunctionSpec(
    name="global_avg_pool_forward",
    reference="global_avg_pool_forward",
    signature="global_avg_pool_forward(x)",
    checks=(
        Check(
            kind="forward",
            strategy=_GLOBAL_CASES,
            arguments=lambda c: c.args,
            points={"output shape": 1, "output values": 2, "inputs unchanged": 1},
            hints=hints.GLOBAL_POOL_FORWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

GLOBAL_AVG_POOL_BACKWARD = FunctionSpec(
    name="global_avg_pool_backward",
    reference="global_avg_pool_backward",
    signature="global_avg_pool_backward(dout, cache)",
    checks=(
        Check(
            kind="backward",
            strategy=_GLOBAL_CASES,
            arguments=lambda c: (c.dout,),
            forward="global_avg_pool_forward",
            forward_arguments=lambda c: c.args,
            standard_cache=lambda c: c.x,
            outputs=("dx",),
            points={"dx": 3},
            hints=hints.GLOBAL_POOL_BACKWARD_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

FC_PARAM_COUNT = FunctionSpec(
    name="fc_param_count",
    reference="fc_param_count",
    signature="fc_param_count(in_features, out_features, bias)",
    checks=(
        Check(
            kind="value",
            strategy=cases.fc_param_count_args(),
            arguments=lambda a: a.args,
            points={"value": 2},
            hints=hints.FC_PARAM_COUNT_HINTS,
            examples=EXAMPLES,
        ),
    ),
)

CONVNET_SHAPES = FunctionSpec(
    name="convnet_shapes",
    reference="convnet_shapes",
    signature="convnet_shapes(input_shape, layers)",
    checks=(
        Check(
            kind="value",
            strategy=cases.convnet_architectures(),
            arguments=lambda a: a.args,
            points={"shapes": 3, "parameter counts": 3},
            hints=hints.CONVNET_HINTS,
            examples=EXAMPLES,
            description="networks that fit",
        ),
        Check(
            kind="raises",
            strategy=cases.unfit_convnet_architectures(),
            arguments=lambda a: a.args,
            points={"raises ValueError": 1},
            error="ValueError",
            examples=EXAMPLES,
            description="a layer that doesn't fit",
        ),
    ),
)

ASSIGNMENT = Assignment(
    name="conv_extras",
    version="1",
    title="More convolutional layers: dilation, 1x1 convolution, correlation vs convolution, average pooling, network shapes",
    functions=(
        DILATED_CONV_FORWARD,
        DILATED_CONV_BACKWARD,
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
