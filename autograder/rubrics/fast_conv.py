"""Rubric of ``fast_conv``: a fast (im2col) convolution, forward and backward.

Correctness is judged as for ``conv_layers``' convolution (the same cases and
hints); the cache is the student's own business, since the backward always
gets the cache of the student's forward. Speed is judged on the shapes of
one fixed case (new values on every timed call), against the reference's
vectorized op (see the ``speed`` kind in :mod:`autograder.rubric`).
"""

from __future__ import annotations

from .. import hints
from .. import strategies as cases
from ..rubric import Assignment, Check, backward_check, forward_check, function
from .conv_layers import CONV_BACKWARD_POINTS, CONV_CASES, CONV_FORWARD_POINTS

MAX_RATIO = 5.0  # the student's time over the reference's, at most
SPEED_POINTS = 2


def _timing_case() -> cases.ConvCase:
    """The fixed speed case: N=8, C=16, 16x16 inputs, 16 filters of 3x3, stride 1, pad 1; seeded normal arrays."""
    seeds = (11, 12, 13, 14)
    return cases.ConvCase(
        x=cases.arrays_from_seed((8, 16, 16, 16), seeds[0], "normal"),
        w=cases.arrays_from_seed((16, 16, 3, 3), seeds[1], "normal"),
        b=cases.arrays_from_seed((16,), seeds[2], "normal"),
        conv_param={"stride": 1, "pad": 1},
        dout=cases.arrays_from_seed((8, 16, 16, 16), seeds[3], "normal"),
        seed=seeds[0],
        style="normal",
    )


TIMING_CASE = _timing_case()
TIMING_DESCRIPTION = "timed on x (8, 16, 16, 16), w (16, 16, 3, 3), stride 1, pad 1"

CONV_FORWARD_IM2COL = function(
    "conv_forward_im2col(x, w, b, conv_param)",
    "conv_forward",
    forward_check(CONV_CASES, CONV_FORWARD_POINTS, hints=hints.CONV_FORWARD_HINTS),
    Check(
        kind="speed",
        case=TIMING_CASE,
        arguments=lambda c: c.args,
        points={"speed": SPEED_POINTS},
        max_ratio=MAX_RATIO,
        hints=hints.SPEED_HINTS,
        description=TIMING_DESCRIPTION,
    ),
)

CONV_BACKWARD_IM2COL = function(
    "conv_backward_im2col(dout, cache)",
    "conv_backward",
    backward_check(CONV_CASES, "conv_forward_im2col", CONV_BACKWARD_POINTS, hints=hints.CONV_BACKWARD_HINTS),
    Check(
        kind="speed",
        case=TIMING_CASE,
        arguments=lambda c: (c.dout,),
        forward="conv_forward_im2col",
        forward_arguments=lambda c: c.args,
        standard_cache=lambda c: c.cache,
        outputs=("dx", "dw", "db"),
        points={"speed": SPEED_POINTS},
        max_ratio=MAX_RATIO,
        hints=hints.SPEED_HINTS,
        description=TIMING_DESCRIPTION,
    ),
)

ASSIGNMENT = Assignment(
    name="fast_conv",
    version="3",  # 3: an error charged once, side conditions only alongside an output, no forward-to-backward cascade
    title="Fast convolution: im2col forward and backward, correct and within 5x the reference's time",
    functions=(CONV_FORWARD_IM2COL, CONV_BACKWARD_IM2COL),
)
