"""Hypothesis strategies for layer configurations and their inputs.

Geometry is built, not filtered: each strategy draws the output size, filter,
stride, padding and dilation first and works the input size out from them,
so every drawn configuration fits the lecture's formula
``H' = (H - F' + 2P)/S + 1`` exactly. ``unfit_*`` strategies draw the
configurations that don't fit, for error-path checks.

Arrays are generated from a drawn seed, not element by element: a case costs
one integer and a value style, and it shrinks toward the smallest shapes,
seed 0 and the simplest style ("small integers": whole numbers in [-3, 3],
which read well in a counterexample; "normal": standard normal draws;
"distinct": a shuffled ramp with no ties, for finite-difference checks).
The cases themselves are the dataclasses of :mod:`autograder.rubrics.cases`.

Every builder checks its arguments when it is called
(:mod:`autograder.rubrics.strategy_arguments`): ``conv_cases(max_filter_size=0)`` or
a misspelt bound raises Hypothesis's ``InvalidArgument`` at the rubric's line.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .cases import (
    VALUE_STYLES,
    AffineCase,
    ArchitectureCase,
    ArrayCase,
    Conv1x1Case,
    ConvCase,
    ConvGeometry,
    CorrelationCase,
    FcCountArgs,
    PadCase,
    ParamCountArgs,
    PoolCase,
    SamePadArgs,
    SizeArgs,
    arrays_from_seed,
)
from .strategy_arguments import checked_arguments

__all__ = [
    "ConvCase",
    "PoolCase",
    "AffineCase",
    "ArrayCase",
    "CorrelationCase",
    "PadCase",
    "SizeArgs",
    "VALUE_STYLES",
    "arrays_from_seed",
    "conv_geometries",
    "conv_cases",
    "unfit_conv_cases",
    "pool_cases",
    "unfit_pool_cases",
    "global_pool_cases",
    "affine_cases",
    "relu_cases",
    "correlation_cases",
    "pad_cases",
    "output_size_args",
    "unfit_output_size_args",
    "ParamCountArgs",
    "param_count_args",
    "FcCountArgs",
    "fc_param_count_args",
    "SamePadArgs",
    "same_pad_args",
    "Conv1x1Case",
    "conv1x1_cases",
    "ArchitectureCase",
    "convnet_architectures",
    "unfit_convnet_architectures",
]


def _fitting_axis(out: int, filter_size: int, stride: int, pad: int, dilation: int) -> tuple[int, int]:
    """Input size giving exactly ``out`` outputs; raises ``out`` just enough to keep the input >= 1."""
    span = dilation * (filter_size - 1) + 1
    in_size = (out - 1) * stride + span - 2 * pad
    if in_size < 1:
        out += -(-(1 - in_size) // stride)  # ceil division
        in_size = (out - 1) * stride + span - 2 * pad
    return in_size, out


@checked_arguments(least={"max_pad": 0})
@st.composite
def conv_geometries(
    draw,
    *,
    min_batch: int = 1,
    max_batch: int = 2,
    max_channels: int = 3,
    max_filters: int = 3,
    max_filter_size: int = 4,
    max_stride: int = 3,
    max_pad: int = 3,
    max_dilation: int = 1,
    max_out: int = 4,
    pairs: bool = False,
    square: bool = False,
) -> ConvGeometry:
    """Convolution geometries that fit.

    ``pairs=False`` shares one stride, pad and dilation between height and
    width (plain ints, as in the course); ``square=True`` also makes the
    filter and input square. Stride may exceed the filter, and pad may reach
    or exceed it.
    """
    shared = not pairs

    def per_axis(strategy):
        first = draw(strategy)
        return (first, first) if shared else (first, draw(strategy))

    stride = per_axis(st.integers(1, max_stride))
    pad = per_axis(st.integers(0, max_pad))
    dilation = per_axis(st.integers(1, max_dilation))
    kernel_h = draw(st.integers(1, max_filter_size))
    kernel_w = kernel_h if square else draw(st.integers(1, max_filter_size))
    out_h = draw(st.integers(1, max_out))
    out_w = out_h if square else draw(st.integers(1, max_out))
    height, out_h = _fitting_axis(out_h, kernel_h, stride[0], pad[0], dilation[0])
    width, out_w = _fitting_axis(out_w, kernel_w, stride[1], pad[1], dilation[1])
    if square and (height, out_h) != (width, out_w):  # per-axis bumps differ only with pairs
        width, out_w = height, out_h
    return ConvGeometry(
        batch=draw(st.integers(min_batch, max_batch)),
        channels=draw(st.integers(1, max_channels)),
        filters=draw(st.integers(1, max_filters)),
        in_size=(height, width),
        filter_size=(kernel_h, kernel_w),
        stride=stride,
        pad=pad,
        dilation=dilation,
        out_size=(out_h, out_w),
    )


def _seeded(draw, styles):
    return draw(st.integers(0, 2**32 - 1)), draw(st.sampled_from(styles))


def _conv_case(geometry: ConvGeometry, seed: int, style: str, *, pairs: bool, dilation_key: bool = False) -> ConvCase:
    g = geometry
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**32, size=4)
    return ConvCase(
        x=arrays_from_seed((g.batch, g.channels, *g.in_size), int(seeds[0]), style),
        w=arrays_from_seed((g.filters, g.channels, *g.filter_size), int(seeds[1]), style),
        b=arrays_from_seed((g.filters,), int(seeds[2]), style),
        conv_param=g.conv_param(pairs=pairs, dilation_key=dilation_key),
        dout=arrays_from_seed((g.batch, g.filters, *g.out_size), int(seeds[3]), style),
        seed=seed,
        style=style,
    )


@checked_arguments(forwards_to=conv_geometries)
@st.composite
def conv_cases(draw, *, styles: tuple[str, ...] = ("small integers", "normal"), dilation_key: bool = False, **bounds) -> ConvCase:
    """Convolution calls that fit; ``bounds`` go to :func:`conv_geometries`.

    ``dilation_key=True`` puts ``dilation`` in every ``conv_param``, 1 included
    (for functions whose signature promises the key).
    """
    geometry = draw(conv_geometries(**bounds))
    seed, style = _seeded(draw, styles)
    return _conv_case(geometry, seed, style, pairs=bounds.get("pairs", False), dilation_key=dilation_key)


@checked_arguments(forwards_to=conv_geometries)
@st.composite
def unfit_conv_cases(draw, *, pairs: bool = False, **bounds) -> ConvCase:
    """Convolution calls where the filter doesn't fit the height or the width.

    Either the stride does not divide ``H - F' + 2P`` (the input is a little
    too big), or the filter spans more than the padded input.
    """
    g = draw(conv_geometries(pairs=pairs, **bounds))
    axis = draw(st.sampled_from((0, 1)))
    span = g.dilation[axis] * (g.filter_size[axis] - 1) + 1
    too_big = span - 2 * g.pad[axis] - 1  # largest input the filter cannot fit in
    options = []
    if g.stride[axis] > 1:
        options.append(g.in_size[axis] + draw(st.integers(1, g.stride[axis] - 1)))
    if too_big >= 1:
        options.append(too_big)
    if not options:  # stride 1 and the pads alone hold the filter: widen the filter past them
        sizes = list(g.filter_size)
        sizes[axis] = g.in_size[axis] + 2 * g.pad[axis] + 1
        g = ConvGeometry(**{**g.__dict__, "filter_size": tuple(sizes)})
        options.append(g.in_size[axis])
    new_in = list(g.in_size)
    new_in[axis] = draw(st.sampled_from(options))
    g = ConvGeometry(**{**g.__dict__, "in_size": tuple(new_in), "out_size": (1, 1)})
    seed, style = _seeded(draw, ("small integers",))
    return _conv_case(g, seed, style, pairs=pairs)


@checked_arguments()
@st.composite
def pool_cases(
    draw,
    *,
    min_batch: int = 1,
    max_batch: int = 2,
    max_channels: int = 3,
    max_window: int = 3,
    max_stride: int = 3,
    max_out: int = 4,
    pairs: bool = False,
    styles: tuple[str, ...] = ("small integers", "normal"),
) -> PoolCase:
    """Pooling calls that fit (no padding): windows may overlap, tile, or skip inputs."""
    window = (draw(st.integers(1, max_window)), draw(st.integers(1, max_window)))
    stride = draw(st.integers(1, max_stride))
    stride_pair = (stride, draw(st.integers(1, max_stride)) if pairs else stride)
    out = (draw(st.integers(1, max_out)), draw(st.integers(1, max_out)))
    in_size = tuple((o - 1) * s + k for o, s, k in zip(out, stride_pair, window))
    batch, channels = draw(st.integers(min_batch, max_batch)), draw(st.integers(1, max_channels))
    seed, style = _seeded(draw, styles)
    seeds = np.random.default_rng(seed).integers(0, 2**32, size=2)
    return PoolCase(
        x=arrays_from_seed((batch, channels, *in_size), int(seeds[0]), style),
        pool_param={
            "pool_height": window[0],
            "pool_width": window[1],
            "stride": stride_pair if stride_pair[0] != stride_pair[1] else stride,
        },
        dout=arrays_from_seed((batch, channels, *out), int(seeds[1]), style),
        seed=seed,
        style=style,
    )


@checked_arguments(forwards_to=pool_cases)
@st.composite
def unfit_pool_cases(draw, **bounds) -> PoolCase:
    """Pooling calls whose window doesn't fit: stride not dividing ``H - F``, or window too big."""
    case = draw(pool_cases(**bounds))
    p = dict(case.pool_param)
    height = case.x.shape[2]
    stride_h = p["stride"][0] if isinstance(p["stride"], tuple) else p["stride"]
    if stride_h > 1 and draw(st.booleans()):
        height += draw(st.integers(1, stride_h - 1))
    else:
        p["pool_height"] = height + draw(st.integers(1, 2))
    x = arrays_from_seed((*case.x.shape[:2], height, case.x.shape[3]), case.seed, case.style)
    return PoolCase(x=x, pool_param=p, dout=case.dout, seed=case.seed, style=case.style)


@checked_arguments()
@st.composite
def global_pool_cases(draw, *, max_batch: int = 2, max_channels: int = 3, max_size: int = 5, styles=("small integers", "normal")) -> ArrayCase:
    """Global average pooling calls: x ``(N, C, H, W)``, dout ``(N, C)``."""
    shape = (
        draw(st.integers(1, max_batch)),
        draw(st.integers(1, max_channels)),
        draw(st.integers(1, max_size)),
        draw(st.integers(1, max_size)),
    )
    seed, style = _seeded(draw, styles)
    return ArrayCase(x=arrays_from_seed(shape, seed, style), dout=arrays_from_seed(shape[:2], seed + 1, style))


@checked_arguments()
@st.composite
def relu_cases(draw, *, max_ndim: int = 4, max_side: int = 4, styles=("small integers", "normal")) -> ArrayCase:
    """ReLU calls on arrays of 1 to ``max_ndim`` dimensions (zeros included in "small integers")."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_ndim)))
    seed, style = _seeded(draw, styles)
    return ArrayCase(x=arrays_from_seed(shape, seed, style), dout=arrays_from_seed(shape, seed + 1, style))


@checked_arguments()
@st.composite
def affine_cases(draw, *, max_batch: int = 3, max_side: int = 4, max_extra_dims: int = 3, max_out: int = 5, styles=("small integers", "normal")) -> AffineCase:
    """Fully connected calls: x ``(N, d_1, ..., d_k)``, w ``(D, M)``, b ``(M,)``."""
    batch = draw(st.integers(1, max_batch))
    feature_shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_extra_dims)))
    outputs = draw(st.integers(1, max_out))
    features = int(np.prod(feature_shape))
    seed, style = _seeded(draw, styles)
    return AffineCase(
        x=arrays_from_seed((batch, *feature_shape), seed, style),
        w=arrays_from_seed((features, outputs), seed + 1, style),
        b=arrays_from_seed((outputs,), seed + 2, style),
        dout=arrays_from_seed((batch, outputs), seed + 3, style),
    )


@checked_arguments()
@st.composite
def correlation_cases(draw, *, max_kernel: int = 4, max_out: int = 5, styles=("small integers", "normal")) -> CorrelationCase:
    """'valid' 2-D correlation calls: the kernel always fits the image."""
    kernel_shape = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    image_shape = tuple(k + draw(st.integers(0, max_out - 1)) for k in kernel_shape)
    seed, style = _seeded(draw, styles)
    return CorrelationCase(image=arrays_from_seed(image_shape, seed, style), kernel=arrays_from_seed(kernel_shape, seed + 1, style))


@checked_arguments(least={"max_pad": 0})
@st.composite
def pad_cases(draw, *, max_batch: int = 2, max_channels: int = 3, max_size: int = 5, max_pad: int = 3, pairs: bool = False) -> PadCase:
    """Zero-padding calls on ``(N, C, H, W)`` arrays; ``pairs`` allows ``(pad_h, pad_w)``."""
    shape = (
        draw(st.integers(1, max_batch)),
        draw(st.integers(1, max_channels)),
        draw(st.integers(1, max_size)),
        draw(st.integers(1, max_size)),
    )
    pad_h = draw(st.integers(0, max_pad))
    pad = (pad_h, draw(st.integers(0, max_pad))) if pairs else pad_h
    seed, style = _seeded(draw, ("small integers", "normal"))
    return PadCase(x=arrays_from_seed(shape, seed, style), pad=pad)


@checked_arguments(least={"max_pad": 0})
@st.composite
def output_size_args(draw, *, max_filter_size: int = 7, max_stride: int = 4, max_pad: int = 4, max_dilation: int = 1, max_out: int = 40) -> SizeArgs:
    """Arguments of ``output_size`` that fit, up to CIFAR-like sizes."""
    stride, pad = draw(st.integers(1, max_stride)), draw(st.integers(0, max_pad))
    dilation, filter_size = draw(st.integers(1, max_dilation)), draw(st.integers(1, max_filter_size))
    in_size, _ = _fitting_axis(draw(st.integers(1, max_out)), filter_size, stride, pad, dilation)
    return SizeArgs(in_size, filter_size, stride, pad, dilation)


@checked_arguments(forwards_to=output_size_args)
@st.composite
def unfit_output_size_args(draw, **bounds) -> SizeArgs:
    """Arguments of ``output_size`` where the filter doesn't fit (the formula gives a fraction or < 1)."""
    args = draw(output_size_args(**bounds))
    span = args.dilation * (args.filter_size - 1) + 1
    too_big = span - 2 * args.pad - 1
    if args.stride > 1 and (too_big < 1 or draw(st.booleans())):
        in_size = args.in_size + draw(st.integers(1, args.stride - 1))
    elif too_big >= 1:
        in_size = draw(st.integers(1, too_big))
    else:  # stride 1 and padding covers the filter: make the filter wider than the padded input
        return SizeArgs(args.in_size, args.in_size + 2 * args.pad + 1, args.stride, args.pad, args.dilation)
    return SizeArgs(in_size, args.filter_size, args.stride, args.pad, args.dilation)


def _even_span_possible(values: dict) -> str:
    if not values["odd_span"] and values["max_filter_size"] < 2:
        return "an even span needs an even filter size: max_filter_size must be at least 2 with odd_span=False"
    return ""


@checked_arguments(also=_even_span_possible)
@st.composite
def same_pad_args(draw, *, odd_span: bool = True, max_filter_size: int = 31, max_dilation: int = 24) -> SamePadArgs:
    """Arguments of ``same_pad`` whose span ``D(F - 1) + 1`` is odd (a "same" padding exists), or even.

    An even span needs an even ``F`` and an odd ``D``; odd spans shrink toward
    the lecture's ``F = 1, 3, 5, 7`` at ``D = 1``. The bounds (large kernels,
    DeepLab's dilations up to 24) leave more than 100 distinct cases of each kind.
    """
    if odd_span:
        dilation = draw(st.integers(1, max_dilation))
        sizes = range(1, max_filter_size + 1) if dilation % 2 == 0 else range(1, max_filter_size + 1, 2)
    else:
        dilation = draw(st.sampled_from(range(1, max_dilation + 1, 2)))
        sizes = range(2, max_filter_size + 1, 2)
    return SamePadArgs(filter_size=draw(st.sampled_from(list(sizes))), dilation=dilation)


@checked_arguments()
@st.composite
def param_count_args(draw, *, max_channels: int = 512, max_filters: int = 512, max_filter_size: int = 11, rectangular: bool = True) -> ParamCountArgs:
    """Arguments of ``conv_param_count``: square (an int) or rectangular (a pair) filters, with or without bias."""
    height = draw(st.integers(1, max_filter_size))
    filter_size = (height, draw(st.integers(1, max_filter_size))) if rectangular and draw(st.booleans()) else height
    return ParamCountArgs(
        in_channels=draw(st.integers(1, max_channels)),
        num_filters=draw(st.integers(1, max_filters)),
        filter_size=filter_size,
        bias=not draw(st.booleans()),  # shrinks toward bias=True, the common case
    )


@checked_arguments()
@st.composite
def fc_param_count_args(draw, *, max_features: int = 4096, max_units: int = 1000) -> FcCountArgs:
    """Arguments of ``fc_param_count``, up to a flattened CIFAR volume (3072) and ImageNet's 1000 classes."""
    return FcCountArgs(
        in_features=draw(st.integers(1, max_features)),
        out_features=draw(st.integers(1, max_units)),
        bias=not draw(st.booleans()),  # shrinks toward bias=True
    )


@checked_arguments()
@st.composite
def conv1x1_cases(draw, *, max_batch: int = 2, max_channels: int = 4, max_filters: int = 4, max_size: int = 4, styles=("small integers", "normal")) -> Conv1x1Case:
    """1x1 convolution calls; channels and filters are drawn independently (so F == C happens too)."""
    batch, channels, filters = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)), draw(st.integers(1, max_filters))
    height, width = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    seed, style = _seeded(draw, styles)
    seeds = np.random.default_rng(seed).integers(0, 2**32, size=3)
    return Conv1x1Case(
        x=arrays_from_seed((batch, channels, height, width), int(seeds[0]), style),
        w=arrays_from_seed((filters, channels), int(seeds[1]), style),
        b=arrays_from_seed((filters,), int(seeds[2]), style),
        seed=seed,
        style=style,
    )


def _dividing_strides(rooms: tuple[int, ...], max_stride: int) -> list[int]:
    """Strides that divide every ``room`` (``H - F + 2P``): 1 always does."""
    return [s for s in range(1, max_stride + 1) if all(room % s == 0 for room in rooms)]


@checked_arguments(least={"max_pad": 0, "max_fcs": 0})
@st.composite
def convnet_architectures(
    draw,
    *,
    max_blocks: int = 3,
    max_convs: int = 2,
    max_fcs: int = 2,
    max_channels: int = 64,
    max_units: int = 64,
    max_input: int = 32,
    max_filter_size: int = 5,
    max_pad: int = 2,
    max_stride: int = 2,
) -> ArchitectureCase:
    """Networks in the lecture's pattern that fit: ``[(CONV-RELU)*N - POOL?]*M - (FC-RELU)*K - FC - SOFTMAX``.

    ``1 <= M <= max_blocks``, ``1 <= N <= max_convs``, ``0 <= K <= max_fcs``;
    the last FC gives the class scores the softmax turns into probabilities.
    Each conv and pool is built to fit the volume it receives: pad first,
    then a filter no larger than the padded input, then a stride dividing
    ``H - F + 2P`` on both axes.
    """
    channels = draw(st.integers(1, max_channels))
    height, width = draw(st.integers(1, max_input)), draw(st.integers(1, max_input))
    layers: list[dict] = []
    size = (height, width)
    for _ in range(draw(st.integers(1, max_blocks))):
        for _ in range(draw(st.integers(1, max_convs))):
            pad = draw(st.integers(0, max_pad))
            filter_size = draw(st.integers(1, min(max_filter_size, min(size) + 2 * pad)))
            rooms = tuple(side - filter_size + 2 * pad for side in size)
            stride = draw(st.sampled_from(_dividing_strides(rooms, max_stride)))
            layers.append({"type": "conv", "filters": draw(st.integers(1, max_channels)), "size": filter_size, "stride": stride, "pad": pad})
            layers.append({"type": "relu"})
            size = tuple(room // stride + 1 for room in rooms)
        if min(size) >= 2 and draw(st.booleans()):
            window = draw(st.integers(2, min(3, *size)))
            rooms = tuple(side - window for side in size)
            stride = draw(st.sampled_from(_dividing_strides(rooms, max(max_stride, 2))[::-1]))  # prefers the largest
            layers.append({"type": "pool", "size": window, "stride": stride})
            size = tuple(room // stride + 1 for room in rooms)
    for _ in range(draw(st.integers(0, max_fcs))):
        layers.append({"type": "fc", "units": draw(st.integers(1, max_units))})
        layers.append({"type": "relu"})
    layers.append({"type": "fc", "units": draw(st.integers(1, 10))})
    layers.append({"type": "softmax"})
    return ArchitectureCase(input_shape=(channels, height, width), layers=tuple(layers))


def _volume_sizes(input_shape, layers) -> list[tuple[int, int]]:
    """The (H, W) each layer receives, for the conv and pool layers of a fitting network."""
    size, sizes = input_shape[1:], []
    for layer in layers:
        sizes.append(size)
        if layer["type"] in ("conv", "pool"):
            pad = layer.get("pad", 0)
            size = tuple((side - layer["size"] + 2 * pad) // layer["stride"] + 1 for side in size)
    return sizes


@checked_arguments(forwards_to=convnet_architectures)
@st.composite
def unfit_convnet_architectures(draw, **bounds) -> ArchitectureCase:
    """Networks with one conv or pool layer that doesn't fit the volume it receives.

    The layer's filter is made larger than its padded input, or (where the
    filter leaves room) its stride is made not to divide ``H - F + 2P``.
    """
    case = draw(convnet_architectures(**bounds))
    layers = [dict(layer) for layer in case.layers]
    sizes = _volume_sizes(case.input_shape, layers)
    index = draw(st.sampled_from([i for i, layer in enumerate(layers) if layer["type"] in ("conv", "pool")]))
    layer, (height, width) = layers[index], sizes[index]
    pad = layer.get("pad", 0)
    room = height - layer["size"] + 2 * pad
    if room >= 1 and draw(st.booleans()):
        layer["stride"] = room + 1  # 2 <= S and S does not divide H - F + 2P
    else:
        layer["size"] = min(height, width) + 2 * pad + 1
    return ArchitectureCase(input_shape=case.input_shape, layers=tuple(layers))
