"""Shape arithmetic from the lecture: output sizes, padding, parameter counts.

The formulas (CS231n lecture 5):

- output size of a conv or pool layer: ``(N - F + 2P) / S + 1``, where a
  dilated filter spans ``D*(F - 1) + 1`` inputs;
- "same" padding with stride 1: ``P = (F - 1) / 2``;
- parameters of a conv layer: ``K * (F*F*C + 1)`` for K filters of size F on C
  input channels (the +1 is each filter's bias).
"""

from __future__ import annotations

from ._checks import as_int, as_pair

__all__ = ["output_size", "same_pad", "conv_param_count", "fc_param_count", "dilated_size"]


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
