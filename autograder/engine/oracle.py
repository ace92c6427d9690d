"""The torch oracle: the reference engine's op set, computed with torch in float64.

Same names, signatures and return conventions as :mod:`reference`, so either
engine can stand in for the other: forwards return ``(out, cache)`` with the
CS231n caches, backwards take that cache and return NumPy gradients computed
by autograd. The grader cross-checks the NumPy engine against this one, and
``autograder check`` uses it where the reference source is not handed out.

Shape arithmetic is read off torch too (a convolution of zeros gives the
output size, ``nn.Conv2d`` on the ``meta`` device the parameter count); torch
floors where the lecture's formula says the filter doesn't fit, so the exactness check
``(H' - 1)*S + F' == H + 2P`` is made here.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as functional

# The oracle sees grading-size arrays, many shapes, one at a time. With more than one
# intra-op thread torch pays ~5 ms per new shape (measured: 5.4 ms vs 0.012 ms on
# 2 cores); one thread is also what a pool of grading workers wants.
torch.set_num_threads(1)

__all__ = [
    "output_size",
    "same_pad",
    "conv_param_count",
    "fc_param_count",
    "zero_pad",
    "conv_forward",
    "conv_backward",
    "conv1x1_forward",
    "convnet_shapes",
    "correlate2d",
    "convolve2d",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "global_avg_pool_forward",
    "global_avg_pool_backward",
    "relu_forward",
    "relu_backward",
    "affine_forward",
    "affine_backward",
]


def _tensor(array, *, grad: bool = False) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(array, dtype=np.float64))  # a copy: inputs stay untouched
    return tensor.requires_grad_(grad)


def _backward(out: torch.Tensor, dout) -> None:
    """Accumulate ``dout``'s vector-Jacobian product into the inputs' ``.grad``: ``out.backward(dout)``, exactly.

    Written as the backward of the scalar ``(out * dout).sum()``, whose
    gradient with respect to ``out`` is ``1.0 * dout``, bit for bit ``dout``:
    ``out.backward(dout)`` itself first imports torch's symbolic shapes, and
    with them sympy, to compare the two shapes (0.4 s on a grader's first
    expected value, or a first ``autograder check``).
    """
    dout_tensor = _tensor(dout)
    if dout_tensor.shape != out.shape:  # a product would broadcast where backward(dout) refuses
        raise ValueError(f"dout must have shape {tuple(out.shape)}, got {tuple(dout_tensor.shape)}")
    (out * dout_tensor).sum().backward()


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().numpy().copy()


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _conv_options(conv_param: dict) -> dict:
    return {
        "stride": _pair(conv_param["stride"]),
        "padding": _pair(conv_param["pad"]),
        "dilation": _pair(conv_param.get("dilation", 1)),
    }


# --------------------------------------------------------------------------- shapes


def output_size(in_size: int, filter_size: int, stride: int = 1, pad: int = 0, dilation: int = 1) -> int:
    """Output size along one axis, from torch's own shape inference; ValueError when it doesn't fit."""
    for name, value, minimum in (
        ("in_size", in_size, 1),
        ("filter_size", filter_size, 1),
        ("stride", stride, 1),
        ("pad", pad, 0),
        ("dilation", dilation, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    span = dilation * (filter_size - 1) + 1
    if span > in_size + 2 * pad:
        raise ValueError(f"the filter doesn't fit: it spans {span} but the padded input is {in_size + 2 * pad}")
    # Zeros on the CPU, not the meta device: the same shape inference, without the ~0.3 s torch spends
    # on its first meta convolution (registering the meta kernels); one such call takes ~10 us.
    probe = torch.zeros((1, 1, in_size))
    kernel = torch.zeros((1, 1, filter_size))
    size = functional.conv1d(probe, kernel, stride=stride, padding=pad, dilation=dilation).shape[-1]
    if (size - 1) * stride + span != in_size + 2 * pad:
        raise ValueError(
            f"the filter doesn't fit: (N - F + 2P)/S + 1 = ({in_size} - {span} + 2*{pad})/{stride} + 1 "
            "is not a whole number"
        )
    return int(size)


def same_pad(filter_size: int, dilation: int = 1) -> int:
    """Padding that keeps the size at stride 1, checked by running torch's conv (:func:`output_size`)."""
    span = dilation * (filter_size - 1) + 1
    if span % 2 == 0:
        raise ValueError(f"no symmetric 'same' padding for an even filter span {span}")
    pad = (span - 1) // 2
    if output_size(11, filter_size, 1, pad, dilation) != 11:  # torch agrees it is 'same'
        raise AssertionError("torch disagrees on same padding")
    return pad


def conv_param_count(in_channels: int, num_filters: int, filter_size, bias: bool = True) -> int:
    """Parameters of ``nn.Conv2d(in_channels, num_filters, filter_size, bias=bias)``."""
    layer = torch.nn.Conv2d(in_channels, num_filters, _pair(filter_size), bias=bool(bias), device="meta")
    return sum(p.numel() for p in layer.parameters())


def fc_param_count(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(in_features, out_features, bias=bias)``."""
    layer = torch.nn.Linear(in_features, out_features, bias=bool(bias), device="meta")
    return sum(p.numel() for p in layer.parameters())


def zero_pad(x: np.ndarray, pad) -> np.ndarray:
    """Zeros around the last two axes, by ``torch.nn.functional.pad``."""
    ph, pw = _pair(pad)
    return _numpy(functional.pad(_tensor(x), (pw, pw, ph, ph)))


# --------------------------------------------------------------------------- convolution


def _check_conv_fits(x, w, conv_param) -> None:
    options = _conv_options(conv_param)
    for axis in (0, 1):
        output_size(
            x.shape[2 + axis], w.shape[2 + axis], options["stride"][axis], options["padding"][axis], options["dilation"][axis]
        )


def conv_forward(x, w, b, conv_param):
    """``torch.nn.functional.conv2d`` with the CS231n interface and cache."""
    _check_conv_fits(x, w, conv_param)
    out = functional.conv2d(_tensor(x), _tensor(w), _tensor(b), **_conv_options(conv_param))
    return _numpy(out), (x, w, b, conv_param)


def conv_backward(dout, cache):
    """Gradients of ``conv2d`` by autograd: ``(dx, dw, db)``."""
    x, w, b, conv_param = cache
    xt, wt, bt = _tensor(x, grad=True), _tensor(w, grad=True), _tensor(b, grad=True)
    _backward(functional.conv2d(xt, wt, bt, **_conv_options(conv_param)), dout)
    return _numpy(xt.grad), _numpy(wt.grad), _numpy(bt.grad)


def conv1x1_forward(x, w, b):
    """A 1x1 convolution: ``conv2d`` with the channel mixer ``w`` (F, C) as filters ``w[:, :, None, None]``."""
    if np.ndim(w) != 2 or np.ndim(x) != 4 or np.shape(w)[1] != np.shape(x)[1]:
        raise ValueError(f"conv1x1_forward needs x (N, C, H, W) and w (F, C), got {np.shape(x)} and {np.shape(w)}")
    return _numpy(functional.conv2d(_tensor(x), _tensor(w)[:, :, None, None], _tensor(b)))


def correlate2d(image, kernel):
    """'valid' cross-correlation: torch's conv2d on one image and one filter."""
    return _numpy(functional.conv2d(_tensor(image)[None, None], _tensor(kernel)[None, None])[0, 0])


def convolve2d(image, kernel):
    """'valid' convolution: torch's conv2d with the kernel flipped by ``torch.flip``."""
    flipped = torch.flip(_tensor(kernel), dims=(0, 1))
    return _numpy(functional.conv2d(_tensor(image)[None, None], flipped[None, None])[0, 0])


# --------------------------------------------------------------------------- whole networks


def _layer_value(layer, key: str, index: int):
    if not isinstance(layer, dict) or key not in layer:
        raise ValueError(f"layers[{index}] must be a dict with the key {key!r}, got {layer!r}")
    return layer[key]


def convnet_shapes(input_shape, layers):
    """Shapes and parameter counts per layer, read off torch: its modules and its own shape inference.

    Each layer becomes its ``torch.nn`` module (``Conv2d``, ``MaxPool2d``,
    ``Linear`` on the flattened activations, ``ReLU``, ``Softmax``), built on
    the ``meta`` device (no memory), whose parameters' ``numel`` are
    counted. A batch of *no* images, shape ``(0, C, H, W)``, runs through
    the layers on the CPU, so torch infers each output shape without any
    arithmetic (a convolution gets an uninitialised weight of its module's
    shape, a linear layer a zero-stride one). Running meta tensors through
    the modules instead would import torch's Python meta kernels and
    TorchDynamo (over a second before the first value). Torch floors where
    a filter doesn't fit, so conv and pool layers are checked first with
    :func:`output_size`.
    """
    channels, height, width = (int(size) for size in input_shape)
    activations = torch.empty((0, channels, height, width))
    summary = []
    for index, layer in enumerate(layers):
        kind = _layer_value(layer, "type", index)
        if kind in ("conv", "pool"):
            if activations.dim() != 4:
                raise ValueError(f"layers[{index}] ({kind}) comes after an fc layer: there is no (C, H, W) volume left")
            size, stride = _layer_value(layer, "size", index), _layer_value(layer, "stride", index)
            pad = _layer_value(layer, "pad", index) if kind == "conv" else 0
            for axis in (2, 3):
                output_size(activations.shape[axis], size, stride, pad)
            if kind == "conv":
                module = torch.nn.Conv2d(activations.shape[1], _layer_value(layer, "filters", index), size, stride=stride, padding=pad, device="meta")
                activations = functional.conv2d(activations, torch.empty(module.weight.shape), stride=module.stride, padding=module.padding)
            else:
                module = torch.nn.MaxPool2d(size, stride=stride)
                activations = module(activations)
        elif kind == "fc":
            activations = activations.flatten(1)
            module = torch.nn.Linear(activations.shape[1], _layer_value(layer, "units", index), device="meta")
            activations = functional.linear(activations, torch.zeros(()).expand(module.weight.shape))
        elif kind in ("relu", "softmax"):
            module = torch.nn.ReLU() if kind == "relu" else torch.nn.Softmax(dim=1)
            activations = module(activations)
        else:
            raise ValueError(f"layers[{index}]['type'] {kind!r} is not a layer the oracle knows")
        summary.append((tuple(activations.shape[1:]), sum(p.numel() for p in module.parameters())))
    return summary


# --------------------------------------------------------------------------- pooling


def _pool_options(x, pool_param) -> dict:
    window = (pool_param["pool_height"], pool_param["pool_width"])
    stride = _pair(pool_param["stride"])
    for axis in (0, 1):
        output_size(x.shape[2 + axis], window[axis], stride[axis])
    return {"kernel_size": window, "stride": stride}


def max_pool_forward(x, pool_param):
    """``max_pool2d`` with the CS231n interface; cache ``(x, pool_param)``."""
    return _numpy(functional.max_pool2d(_tensor(x), **_pool_options(x, pool_param))), (x, pool_param)


def _pool_backward(pool, dout, cache):
    """Gradient of the torch pooling ``pool`` by autograd, from a CS231n pooling cache ``(x, pool_param)``."""
    x, pool_param = cache
    xt = _tensor(x, grad=True)
    _backward(pool(xt, **_pool_options(x, pool_param)), dout)
    return _numpy(xt.grad)


def max_pool_backward(dout, cache):
    """Gradient of ``max_pool2d`` by autograd."""
    return _pool_backward(functional.max_pool2d, dout, cache)


def avg_pool_forward(x, pool_param):
    """``avg_pool2d`` with the CS231n interface; cache ``(x, pool_param)``."""
    return _numpy(functional.avg_pool2d(_tensor(x), **_pool_options(x, pool_param))), (x, pool_param)


def avg_pool_backward(dout, cache):
    """Gradient of ``avg_pool2d`` by autograd."""
    return _pool_backward(functional.avg_pool2d, dout, cache)


def global_avg_pool_forward(x):
    """``adaptive_avg_pool2d(x, 1)`` flattened to ``(N, C)``; cache ``x``."""
    return _numpy(functional.adaptive_avg_pool2d(_tensor(x), 1).flatten(1)), x


def global_avg_pool_backward(dout, cache):
    """Gradient of ``adaptive_avg_pool2d(x, 1)`` by autograd."""
    xt = _tensor(cache, grad=True)
    _backward(functional.adaptive_avg_pool2d(xt, 1).flatten(1), dout)
    return _numpy(xt.grad)


# --------------------------------------------------------------------------- ReLU and fully connected


def relu_forward(x):
    """``torch.relu``; cache ``x``."""
    return _numpy(torch.relu(_tensor(x))), x


def relu_backward(dout, cache):
    """Gradient of ``torch.relu`` by autograd (0 at x == 0)."""
    xt = _tensor(cache, grad=True)
    _backward(torch.relu(xt), dout)
    return _numpy(xt.grad)


def affine_forward(x, w, b):
    """``torch.nn.functional.linear`` on ``x`` flattened to ``(N, D)``; ``w`` is ``(D, M)``."""
    out = functional.linear(_tensor(x).flatten(1), _tensor(w).T, _tensor(b))
    return _numpy(out), (x, w, b)


def affine_backward(dout, cache):
    """Gradients of ``linear`` by autograd: ``(dx, dw, db)``."""
    x, w, b = cache
    xt, wt, bt = _tensor(x, grad=True), _tensor(w, grad=True), _tensor(b, grad=True)
    _backward(functional.linear(xt.flatten(1), wt.T, bt), dout)
    return _numpy(xt.grad), _numpy(wt.grad), _numpy(bt.grad)
