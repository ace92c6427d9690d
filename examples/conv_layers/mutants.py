"""One buggy submission per known mistake, made from correct.py by a single edit.

Each mutant names the hint it should trigger and what it should score. Run
``python examples/conv_layers/mutants.py`` to (re)write the ``buggy_*.py``
files beside this one; a test checks that they are in sync with this table.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/mutation.py, shared by every assignment's mutants
from mutation import Mutant, write_all  # noqa: E402

FORWARD_SHAPE = (
    "    H_out = 1 + (H + 2 * pad - HH) // stride\n    W_out = 1 + (W + 2 * pad - WW) // stride\n    x_pad = zero_pad(x, pad)"
)

_UNBOUND = (
    Mutant(
        "bias_forgotten",
        "the convolution forgets to add the bias.",
        (("axes=([1, 2, 3], [1, 2, 3])) + b", "axes=([1, 2, 3], [1, 2, 3]))"),),
        (("conv_forward_naive", "output values"),),
        "add b[f]",
    ),
    Mutant(
        "nhwc",
        "the convolution returns its output channels-last, (N, H', W', F).",
        (("    cache = (x, w, b, conv_param)\n    return out, cache", "    cache = (x, w, b, conv_param)\n    return out.transpose(0, 2, 3, 1), cache"),),
        (("conv_forward_naive", "output shape"), ("conv_forward_naive", "output values")),
        "NHWC",
    ),
    Mutant(
        "one_sided_pad",
        "the convolution pads only above and to the left.",
        (
            (
                FORWARD_SHAPE,
                "    H_out = 1 + (H + pad - HH) // stride\n    W_out = 1 + (W + pad - WW) // stride\n"
                "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))",
            ),
        ),
        (("conv_forward_naive", "output shape"), ("conv_forward_naive", "output values")),
        "one side only",
    ),
    Mutant(
        "pad_twice",
        "the convolution pads the already padded input again.",
        (
            (
                FORWARD_SHAPE,
                "    H_out = 1 + (H + 4 * pad - HH) // stride\n    W_out = 1 + (W + 4 * pad - WW) // stride\n"
                "    x_pad = zero_pad(zero_pad(x, pad), pad)",
            ),
        ),
        (("conv_forward_naive", "output shape"), ("conv_forward_naive", "output values")),
        "padded twice",
    ),
    Mutant(
        "stride_ignored",
        "the convolution slides its window by one whatever the stride.",
        (
            (
                "x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]",
                "x_pad[:, :, i : i + HH, j : j + WW]",
            ),
        ),
        (("conv_forward_naive", "output values"),),
        "stride was ignored",
    ),
    Mutant(
        "floored_size",
        "the output size is rounded down instead of raising ValueError when the filter doesn't fit.",
        (("    if room < 0 or room % stride != 0:\n        raise ValueError", "    if False:\n        raise ValueError"),),
        (("conv_output_size", "raises ValueError"),),
        "doesn't fit",
    ),
    Mutant(
        "dw_transposed",
        "the filter gradient comes back with its two spatial axes swapped.",
        (("    return dx, dw, db", "    return dx, dw.transpose(0, 1, 3, 2), db"),),
        (("conv_backward_naive", "dw"),),
        "wrong places",
    ),
    Mutant(
        "dout_unused",
        "the convolution backward ignores the upstream gradient dout.",
        (
            ("dw += np.tensordot(dout[:, :, i, j],", "dw += np.tensordot(np.ones_like(dout[:, :, i, j]),"),
            ("dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j],", "dx_pad[:, :, rows, cols] += np.tensordot(np.ones_like(dout[:, :, i, j]),"),
        ),
        (("conv_backward_naive", "dx"), ("conv_backward_naive", "dw")),
        "upstream gradient",
    ),
    Mutant(
        "pool_average",
        "max pooling averages each window instead of taking its maximum.",
        ((".max(axis=(2, 3))\n", ".mean(axis=(2, 3))\n"),),
        (("max_pool_forward_naive", "output values"),),
        "average",
    ),
    Mutant(
        "pool_gradient_spread",
        "max pooling backward gives dout to every element of the window.",
        (("mask = window == window.max(axis=(2, 3), keepdims=True)", "mask = np.ones_like(window)"),),
        (("max_pool_backward_naive", "dx"),),
        "only the maximum",
    ),
    Mutant(
        "backward_crashes_without_pad",
        "the convolution backward crops its padding with pad:-pad, so it raises when pad == 0 (right elsewhere).",
        (
            (
                "    dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]",
                "    dx = dx_pad[:, :, pad:-pad, pad:-pad].reshape(x.shape)",
            ),
        ),
        # The error is charged once: the points of dx, the most valuable gradient right where it returned.
        (("conv_backward_naive", "no error on valid input"), ("conv_backward_naive", "dx")),
        "",
    ),
    Mutant(
        "forward_cache_transposed",
        "the convolution forward returns out and caches x channels-last (NHWC); its backward is right.",
        (
            (
                "    cache = (x, w, b, conv_param)\n    return out, cache",
                "    cache = (x.transpose(0, 2, 3, 1), w, b, conv_param)\n    return out.transpose(0, 2, 3, 1), cache",
            ),
        ),
        # The backward is judged with the course's cache where this forward is wrong: no cascade.
        (("conv_forward_naive", "output shape"), ("conv_forward_naive", "output values")),
        "NHWC",
    ),
)
MUTANTS = tuple(mutant.bind(HERE) for mutant in _UNBOUND)


if __name__ == "__main__":
    write_all(MUTANTS)
