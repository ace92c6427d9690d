"""The cases the checks draw: one frozen dataclass per kind of call, and the arrays they hold.

Each case knows its call's arguments (``args``), the course's cache for a
forward (``cache``) and how a student reads it (``describe()``: shapes and
parameters). Arrays are made from a seed (:func:`arrays_from_seed`) in one of
:data:`VALUE_STYLES`; the strategies that draw cases are in
:mod:`autograder.rubrics.strategies`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "VALUE_STYLES",
    "arrays_from_seed",
    "ConvCase",
    "PoolCase",
    "AffineCase",
    "ArrayCase",
    "CorrelationCase",
    "PadCase",
    "SizeArgs",
    "SamePadArgs",
    "ParamCountArgs",
    "FcCountArgs",
    "Conv1x1Case",
    "ArchitectureCase",
    "ConvGeometry",
]

VALUE_STYLES = ("small integers", "normal", "distinct")


def arrays_from_seed(shape: tuple[int, ...], seed: int, style: str) -> np.ndarray:
    """A float64 array of ``shape`` made from ``seed`` in one of :data:`VALUE_STYLES`.

    >>> arrays_from_seed((2, 2), 0, "small integers")
    array([[ 2.,  1.],
           [ 0., -2.]])
    """
    rng = np.random.default_rng(seed)
    if style == "small integers":
        return rng.integers(-3, 4, size=shape).astype(np.float64)
    if style == "normal":
        return rng.standard_normal(shape)
    if style == "distinct":
        size = int(np.prod(shape))
        return (rng.permutation(size) - size / 2).reshape(shape) / 4.0
    raise ValueError(f"unknown value style {style!r}; expected one of {VALUE_STYLES}")


def _shape_text(array: np.ndarray) -> str:
    return str(tuple(array.shape))


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class ConvCase:
    """One convolution call: inputs, parameters and an upstream gradient for the backward pass."""

    x: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)
    conv_param: dict
    dout: np.ndarray = field(repr=False)
    seed: int = 0
    style: str = "small integers"

    @property
    def args(self) -> tuple:
        return (self.x, self.w, self.b, self.conv_param)

    @property
    def cache(self) -> tuple:
        """The course's cache of this forward: ``(x, w, b, conv_param)``."""
        return (self.x, self.w, self.b, self.conv_param)

    def describe(self) -> str:
        """The call as a student reads it: shapes and the parameter dict."""
        return (
            f"x.shape={_shape_text(self.x)}, w.shape={_shape_text(self.w)}, "
            f"b.shape={_shape_text(self.b)}, conv_param={self.conv_param}"
        )


@dataclass(frozen=True)
class PoolCase:
    """One pooling call (max or average)."""

    x: np.ndarray = field(repr=False)
    pool_param: dict
    dout: np.ndarray = field(repr=False)
    seed: int = 0
    style: str = "small integers"

    @property
    def args(self) -> tuple:
        return (self.x, self.pool_param)

    @property
    def cache(self) -> tuple:
        """The course's cache of this forward: ``(x, pool_param)``."""
        return (self.x, self.pool_param)

    def describe(self) -> str:
        return f"x.shape={_shape_text(self.x)}, pool_param={self.pool_param}"


@dataclass(frozen=True)
class AffineCase:
    """One fully connected layer call."""

    x: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)
    dout: np.ndarray = field(repr=False)

    @property
    def args(self) -> tuple:
        return (self.x, self.w, self.b)

    def describe(self) -> str:
        return f"x.shape={_shape_text(self.x)}, w.shape={_shape_text(self.w)}, b.shape={_shape_text(self.b)}"


@dataclass(frozen=True)
class ArrayCase:
    """One elementwise or global op call on a single array (ReLU, global average pooling)."""

    x: np.ndarray = field(repr=False)
    dout: np.ndarray = field(repr=False)

    @property
    def args(self) -> tuple:
        return (self.x,)

    @property
    def cache(self) -> np.ndarray:
        """The cache of an op on one array (ReLU, global average pooling): ``x``."""
        return self.x

    def describe(self) -> str:
        return f"x.shape={_shape_text(self.x)}"


@dataclass(frozen=True)
class CorrelationCase:
    """One 2-D 'valid' correlation or convolution of an image with a kernel."""

    image: np.ndarray = field(repr=False)
    kernel: np.ndarray = field(repr=False)

    @property
    def args(self) -> tuple:
        return (self.image, self.kernel)

    def describe(self) -> str:
        return f"image.shape={_shape_text(self.image)}, kernel.shape={_shape_text(self.kernel)}"


@dataclass(frozen=True)
class PadCase:
    """One zero-padding call."""

    x: np.ndarray = field(repr=False)
    pad: int | tuple[int, int]

    @property
    def args(self) -> tuple:
        return (self.x, self.pad)

    def describe(self) -> str:
        return f"x.shape={_shape_text(self.x)}, pad={self.pad}"


@dataclass(frozen=True)
class SizeArgs:
    """Arguments of ``output_size`` along one axis."""

    in_size: int
    filter_size: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1

    @property
    def kwargs(self) -> dict:
        return {
            "in_size": self.in_size,
            "filter_size": self.filter_size,
            "stride": self.stride,
            "pad": self.pad,
            "dilation": self.dilation,
        }

    def describe(self) -> str:
        return f"in_size={self.in_size}, filter_size={self.filter_size}, stride={self.stride}, pad={self.pad}, dilation={self.dilation}"


@dataclass(frozen=True)
class SamePadArgs:
    """Arguments of ``same_pad``: a filter size and its dilation."""

    filter_size: int
    dilation: int = 1

    @property
    def args(self) -> tuple:
        return (self.filter_size, self.dilation)

    def describe(self) -> str:
        return f"filter_size={self.filter_size}, dilation={self.dilation}"


@dataclass(frozen=True)
class ParamCountArgs:
    """Arguments of ``conv_param_count``."""

    in_channels: int
    num_filters: int
    filter_size: int | tuple[int, int]
    bias: bool = True

    @property
    def args(self) -> tuple:
        return (self.in_channels, self.num_filters, self.filter_size)

    @property
    def kwargs(self) -> dict:
        return {"bias": self.bias}

    def describe(self) -> str:
        return f"in_channels={self.in_channels}, num_filters={self.num_filters}, filter_size={self.filter_size!r}, bias={self.bias}"


@dataclass(frozen=True)
class FcCountArgs:
    """Arguments of ``fc_param_count``."""

    in_features: int
    out_features: int
    bias: bool = True

    @property
    def args(self) -> tuple:
        return (self.in_features, self.out_features, self.bias)

    def describe(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias}"


@dataclass(frozen=True)
class Conv1x1Case:
    """One 1x1 convolution call: x ``(N, C, H, W)``, the channel mixer w ``(F, C)``, b ``(F,)``."""

    x: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)
    seed: int = 0
    style: str = "small integers"

    @property
    def args(self) -> tuple:
        return (self.x, self.w, self.b)

    def describe(self) -> str:
        return f"x.shape={_shape_text(self.x)}, w.shape={_shape_text(self.w)}, b.shape={_shape_text(self.b)}"


@dataclass(frozen=True)
class ArchitectureCase:
    """A ConvNet described layer by layer, as ``convnet_shapes(input_shape, layers)`` takes it."""

    input_shape: tuple[int, int, int]
    layers: tuple[dict, ...]

    @property
    def args(self) -> tuple:
        return (self.input_shape, [dict(layer) for layer in self.layers])

    def describe(self) -> str:
        return f"input_shape={self.input_shape}, layers={[dict(layer) for layer in self.layers]}"


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one convolution; every ``(h, w)`` pair fits the output-size formula."""

    batch: int
    channels: int
    filters: int
    in_size: tuple[int, int]
    filter_size: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    out_size: tuple[int, int]

    def conv_param(self, *, pairs: bool, dilation_key: bool = False) -> dict:
        """The CS231n dict; with ``pairs``, an axis pair appears only where the two differ.

        ``dilation`` appears when it is not 1, or always with ``dilation_key``.
        """

        def value(pair):
            return pair if pairs and pair[0] != pair[1] else pair[0]

        param = {"stride": value(self.stride), "pad": value(self.pad)}
        if dilation_key or self.dilation != (1, 1):
            param["dilation"] = value(self.dilation)
        return param
