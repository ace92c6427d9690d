"""One buggy fast_conv submission per known mistake, made from correct.py by a single edit.

Each mutant names the properties it must fail and a phrase of the hint they
must get. A mistake that changes the result also fails the speed property
of its function, untimed ("not timed: the output is wrong on the timing case"). Run ``python examples/fast_conv/mutants.py`` to (re)write the
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
        "bias_forgotten",
        "the im2col forward forgets to add the bias.",
        (("out = w.reshape(F, -1) @ cols + b[:, None]", "out = w.reshape(F, -1) @ cols"),),
        (("conv_forward_im2col", "output values"), ("conv_forward_im2col", "speed")),
        "add b[f]",
    ),
    Mutant(
        "dw_transposed",
        "the im2col backward returns dw with its two spatial axes swapped.",
        (("    return dx, dw, db", "    return dx, dw.transpose(0, 1, 3, 2), db"),),
        (("conv_backward_im2col", "dw"), ("conv_backward_im2col", "speed")),
        "wrong places",
    ),
    Mutant(
        "dout_unused",
        "the im2col backward uses ones where dout belongs.",
        (("dout_rows = dout.transpose(1, 0, 2, 3)", "dout_rows = np.ones_like(dout).transpose(1, 0, 2, 3)"),),
        (("conv_backward_im2col", "dx"), ("conv_backward_im2col", "dw"), ("conv_backward_im2col", "speed")),
        "upstream gradient",
    ),
)
MUTANTS = tuple(mutant.bind(HERE) for mutant in _UNBOUND)


if __name__ == "__main__":
    write_all(MUTANTS)
