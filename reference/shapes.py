"""Shape arithmetic from the lecture: output sizes, padding, parameter counts.

The formulas (CS231n lecture 5):

- output size of a conv or pool layer: ``(N - F + 2P) / S + 1``, where a
  dilated filter spans ``D*(F - 1) + 1`` inputs;
- "same" padding with stride 1: ``P = (F - 1) / 2``;
- parameters of a conv layer: ``K * (F*F*C + 1)`` for K filters of size F on C
  input channels (the +1 is each filter's bias);
- a whole network in the pattern ``[(CONV-RELU)*N - POOL?]*M - (FC-RELU)*K -
  SOFTMAX``, layer by layer (:func:`convnet_shapes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ._checks import as_int, as_pair, param

__all__ = ["output_size", "same_pad", "conv_param_count", "fc_param_count", "dilated_size", "convnet_shapes", "LAYER_TYPES"]

LAYER_TYPES = ("conv", "relu", "pool", "fc", "softmax")


def dilated_size(filter_size: int, dilation: int = 1) -> int:
    """Number of inputs a filter of ``filter_size`` taps spans with dilation ``dilation``.

    >>> dilated_size(3, 2)
    5
    """
    return dilation * (filter_size - 1) + 1


def output_size(in_size: int, filter_size: int, stride: int = 1, pad: int = 0, dilation: int = 1) -> int:
    """Spatial output size of a convolution or pooling layer along one axis.

    Parameters
    ----------
    in_size : int
        Input size N (height or width), >= 1.
    filter_size : int
        Filter size F along the same axis, >= 1.
    stride, pad, dilation : int
        Stride S >= 1, zero padding P >= 0 on each side, dilation D >= 1.

    Returns
    -------
    int
        ``(N - F' + 2P) / S + 1`` with ``F' = D*(F - 1) + 1``.

    Raises
    ------
    ValueError
        When the filter doesn't fit: the division is not exact, or the
        (dilated) filter is larger than the padded input.

    Notes
    -----
    ``H' = 1 + (H + 2*pad - HH) // stride`` in the CS231n code, which assumes
    the division is exact.

    Examples
    --------
    >>> output_size(7, 3, stride=1, pad=1)
    7
    >>> output_size(32, 5, stride=1, pad=2)
    32
    >>> output_size(7, 3, stride=3)
    Traceback (most recent call last):
    ...
    ValueError: the filter doesn't fit: (N - F + 2P)/S + 1 = (7 - 3 + 2*0)/3 + 1 = 2.33, not a whole number; change the stride or the padding so that S divides N - F + 2P = 4
    """
    in_size = as_int(in_size, "in_size", minimum=1)
    filter_size = as_int(filter_size, "filter_size", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    pad = as_int(pad, "pad", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    span = dilated_size(filter_size, dilation)
    f_text = f"{span}" if dilation == 1 else f"{span} (filter {filter_size} dilated by {dilation})"
    room = in_size - span + 2 * pad
    formula = f"(N - F + 2P)/S + 1 = ({in_size} - {f_text} + 2*{pad})/{stride} + 1"
    if room < 0:
        raise ValueError(
            f"the filter doesn't fit: {formula} = {room / stride + 1:.3g} < 1; "
            f"the filter spans {span} but the padded input is only {in_size + 2 * pad} wide; "
            "use a smaller filter or more padding"
        )
    if room % stride:
        raise ValueError(
            f"the filter doesn't fit: {formula} = {room / stride + 1:.3g}, not a whole number; "
            f"change the stride or the padding so that S divides N - F + 2P = {room}"
        )
    return room // stride + 1


def same_pad(filter_size: int, dilation: int = 1) -> int:
    """Zero padding that keeps the spatial size at stride 1: ``(F' - 1) / 2``.

    >>> [same_pad(f) for f in (1, 3, 5, 7)]
    [0, 1, 2, 3]
    >>> same_pad(3, dilation=2)
    2
    """
    filter_size = as_int(filter_size, "filter_size", minimum=1)
    dilation = as_int(dilation, "dilation", minimum=1)
    span = dilated_size(filter_size, dilation)
    if span % 2 == 0:
        raise ValueError(
            f"no symmetric 'same' padding for an even filter span {span}: (F - 1)/2 = {(span - 1) / 2}; "
            "use an odd filter size"
        )
    return (span - 1) // 2


def conv_param_count(in_channels: int, num_filters: int, filter_size, bias: bool = True) -> int:
    """Learnable parameters of a conv layer: ``K * (HH*WW*C + 1)``.

    ``filter_size`` is an int for square filters or ``(height, width)``.

    >>> conv_param_count(3, 10, 5)     # ten 5x5x3 filters: 76 each
    760
    >>> conv_param_count(64, 32, 1, bias=False)
    2048
    """
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    num_filters = as_int(num_filters, "num_filters", minimum=1)
    height, width = as_pair(filter_size, "filter_size", minimum=1)
    return num_filters * (height * width * in_channels + int(bool(bias)))


def fc_param_count(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable parameters of a fully connected layer: ``out*(in + 1)``.

    >>> fc_param_count(32 * 32 * 3, 10)
    30730
    """
    in_features = as_int(in_features, "in_features", minimum=1)
    out_features = as_int(out_features, "out_features", minimum=1)
    return out_features * (in_features + int(bool(bias)))


# --------------------------------------------------------------------------- whole networks


def _layer_int(layer: Mapping, key: str, where: str, minimum: int) -> int:
    return as_int(param(layer, key, where), f"{where}[{key!r}]", minimum=minimum)


def _fitted(where: str, axis: str, in_size: int, size: int, stride: int, pad: int = 0) -> int:
    try:
        return output_size(in_size, size, stride, pad)
    except ValueError as error:
        raise ValueError(f"{where} doesn't fit the {axis} {in_size}: {error}") from None


def convnet_shapes(input_shape, layers) -> list[tuple[tuple[int, ...], int]]:
    """Output shape and number of learnable parameters of every layer of a ConvNet.

    Parameters
    ----------
    input_shape : (C, H, W)
        One input volume (no batch axis), e.g. ``(3, 32, 32)`` for CIFAR-10.
    layers : list of dict
        In order, each one of

        - ``{"type": "conv", "filters": K, "size": F, "stride": S, "pad": P}``
          (square F x F filters spanning all input channels);
        - ``{"type": "pool", "size": F, "stride": S}`` (max pooling, no padding);
        - ``{"type": "fc", "units": M}`` (fully connected; the first one
          flattens its input volume to ``D = C*H*W`` features);
        - ``{"type": "relu"}``, ``{"type": "softmax"}`` (elementwise: the shape
          stays, no parameters).

    Returns
    -------
    list of (tuple, int)
        One ``(output_shape, param_count)`` per layer: ``(K, H', W')`` after a
        conv, ``(C, H', W')`` after a pool, ``(M,)`` after an fc.

    Raises
    ------
    ValueError
        When a conv or pool layer doesn't fit its input (the output-size
        formula gives a fraction or less than 1), a conv or pool layer comes
        after an fc layer, or a layer is malformed.

    Notes
    -----
    ``H' = (H - F + 2P)/S + 1``; a conv layer has ``K*(F*F*C + 1)`` parameters
    and an fc layer ``M*(D + 1)`` (the +1s are biases); pooling, ReLU and
    softmax have none.

    Examples
    --------
    The lecture's CIFAR-10 example: a 32x32x3 input and ten 5x5 filters with
    stride 1 and pad 2 give 32x32x10, with 5*5*3 + 1 = 76 parameters per
    filter, 760 in the layer.

    >>> convnet_shapes((3, 32, 32), [
    ...     {"type": "conv", "filters": 10, "size": 5, "stride": 1, "pad": 2},
    ...     {"type": "relu"},
    ...     {"type": "pool", "size": 2, "stride": 2},
    ...     {"type": "fc", "units": 10},
    ...     {"type": "softmax"},
    ... ])
    [((10, 32, 32), 760), ((10, 32, 32), 0), ((10, 16, 16), 0), ((10,), 25610), ((10,), 0)]
    """
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {input_shape!r}")
    shape = tuple(as_int(size, "input_shape", minimum=1) for size in input_shape)
    if not isinstance(layers, Sequence) or isinstance(layers, str):
        raise TypeError(f"layers must be a list of dicts, got {type(layers).__name__}")
    summary = []
    for index, layer in enumerate(layers):
        where = f"layers[{index}]"
        kind = param(layer, "type", where)
        if kind not in LAYER_TYPES:
            raise ValueError(f"{where}['type'] must be one of {LAYER_TYPES}, got {kind!r}")
        params = 0
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(
                    f"{where} ({kind}) needs a (C, H, W) volume, but an fc layer before it made the activations "
                    f"a vector of {shape[0]}; put conv and pool layers before the first fc"
                )
            channels, height, width = shape
            size = _layer_int(layer, "size", where, 1)
            stride = _layer_int(layer, "stride", where, 1)
            pad = _layer_int(layer, "pad", where, 0) if kind == "conv" else 0
            label = f"{where} ({kind} {size}x{size}, stride {stride}, pad {pad})"
            out = (_fitted(label, "height", height, size, stride, pad), _fitted(label, "width", width, size, stride, pad))
            if kind == "conv":
                filters = _layer_int(layer, "filters", where, 1)
                shape, params = (filters, *out), conv_param_count(channels, filters, size)
            else:
                shape = (channels, *out)
        elif kind == "fc":
            units = _layer_int(layer, "units", where, 1)
            params = fc_param_count(math.prod(shape), units)  # the first fc flattens (C, H, W) to C*H*W
            shape = (units,)
        summary.append((shape, params))
    return summary


def axis_output_size(axis: str, in_size, filter_size, stride, pad, dilation) -> int:
    """`output_size` along one axis, its error naming the axis (``"height: ..."``)."""
    try:
        return output_size(in_size, filter_size, stride, pad, dilation)
    except ValueError as error:
        raise ValueError(f"{axis}: {error}") from None
