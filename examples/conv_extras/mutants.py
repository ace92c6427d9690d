"""One buggy conv_extras submission per known mistake, made from correct.py by a single edit.

Each mutant names the properties it must fail and a phrase of the hint they
must get. Run ``python examples/conv_extras/mutants.py`` to (re)write the
``buggy_*.py`` files beside this one; a test checks that they are in sync.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/mutation.py, shared by every assignment's mutants
from mutation import Mutant, write_all  # noqa: E402

_UNBOUND = (
    Mutant(
        "dilation_ignored",
        "the dilated convolution reads contiguous windows, as if the dilation were 1.",
        (
            (
                "x_pad[:, :, i * stride : i * stride + span_h : dilation, j * stride : j * stride + span_w : dilation]",
                "x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]",
            ),
        ),
        (("dilated_conv_forward", "output values"),),
        "dilation was ignored",
    ),
    Mutant(
        "dilation_ignored_backward",
        "the dilated convolution's backward sends gradients to contiguous windows.",
        (
            ("rows = slice(i * stride, i * stride + dilation * (HH - 1) + 1, dilation)", "rows = slice(i * stride, i * stride + HH)"),
            ("cols = slice(j * stride, j * stride + dilation * (WW - 1) + 1, dilation)", "cols = slice(j * stride, j * stride + WW)"),
        ),
        (("dilated_conv_backward", "dx"), ("dilated_conv_backward", "dw")),
        "ignored in the backward",
    ),
    Mutant(
        "conv1x1_w_transposed",
        "the 1x1 convolution uses the channel mixer w (F, C) as if it were (C, F).",
        (("@ w.T)", "@ w)"),),
        (("conv1x1_forward", "shape"), ("conv1x1_forward", "values"), ("conv1x1_forward", "inputs unchanged")),
        "w is (F, C)",
    ),
    Mutant(
        "convolve_not_flipped",
        "convolve2d forgets to flip the kernel (it is correlate2d).",
        (("    flipped = kernel[::-1, ::-1]", "    flipped = kernel"),),
        (("convolve2d", "values"),),
        "is the cross-correlation",
    ),
    Mutant(
        "correlate_flipped",
        "correlate2d flips the kernel (it is convolve2d).",
        (("np.sum(image[i : i + kh, j : j + kw] * kernel)", "np.sum(image[i : i + kh, j : j + kw] * kernel[::-1, ::-1])"),),
        (("correlate2d", "values"),),
        "is the convolution",
    ),
    Mutant(
        "avg_pool_max",
        "average pooling takes the maximum of each window.",
        (("j * stride : j * stride + pw].mean(axis=(2, 3))", "j * stride : j * stride + pw].max(axis=(2, 3))"),),
        (("avg_pool_forward", "output values"),),
        "the maximum of each window",
    ),
    Mutant(
        "avg_pool_gradient_not_divided",
        "average pooling backward gives each input of a window all of dout.",
        ((" / (ph * pw)", ""),),
        (("avg_pool_backward", "dx"),),
        "pool_height*pool_width times too large",
    ),
    Mutant(
        "global_pool_keepdims",
        "global average pooling returns (N, C, 1, 1) instead of (N, C).",
        (("out = x.mean(axis=(2, 3))", "out = x.mean(axis=(2, 3), keepdims=True)"),),
        (("global_avg_pool_forward", "output shape"), ("global_avg_pool_forward", "output values")),
        "(N, C, 1, 1)",
    ),
    Mutant(
        "global_pool_gradient_not_divided",
        "global average pooling backward forgets to divide by H*W.",
        (("dout[:, :, None, None] / (H * W)", "dout[:, :, None, None]"),),
        (("global_avg_pool_backward", "dx"),),
        "H*W times too large",
    ),
    Mutant(
        "fc_count_without_bias",
        "fc_param_count forgets the biases.",
        (("return out_features * (in_features + (1 if bias else 0))", "return out_features * in_features"),),
        (("fc_param_count", "value"),),
        "biases are missing",
    ),
    Mutant(
        "convnet_not_flattened",
        "convnet_shapes gives the first fc layer C inputs instead of C*H*W.",
        (("D = int(np.prod(shape))", "D = shape[0]"),),
        (("convnet_shapes", "parameter counts"),),
        "flattened",
    ),
    Mutant(
        "same_pad_dilation_ignored",
        "same_pad halves the filter size, not the span of the dilated filter.",
        (("    return (span - 1) // 2\n", "    return (filter_size - 1) // 2\n"),),
        (("same_pad", "value"),),
        "dilation is ignored",
    ),
    Mutant(
        "same_pad_even_span",
        "same_pad returns a padding for an even span instead of raising ValueError.",
        (("    if span % 2 == 0:\n        raise ValueError(f\"a filter spanning {span} inputs has no symmetric 'same' padding\")\n", ""),),
        (("same_pad", "raises ValueError"),),
        "no middle tap",
    ),
    Mutant(
        "convnet_pool_parameters",
        "convnet_shapes counts weights in the pooling layers.",
        (("                shape = (C, H2, W2)\n", "                shape = (C, H2, W2)\n                params = F * F * C\n"),),
        (("convnet_shapes", "parameter counts"),),
        "no parameters",
    ),
)
MUTANTS = tuple(mutant.bind(HERE) for mutant in _UNBOUND)


if __name__ == "__main__":
    write_all(MUTANTS)
