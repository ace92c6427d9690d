"""Rubric of ``fast_conv``: a fast (im2col) convolution, forward and backward.

Correctness is judged as for ``conv_layers``' convolution (the same cases and
hints, plus im2col's own: N and F swapped in a reshape); the cache is the student's own business, since the backward always
gets the cache of the student's forward. Speed is judged on the shapes of
one fixed case (new values on every timed call), against the reference's
vectorized op (see :func:`autograder.engine.rubric.speed_check`).
"""

from __future__ import annotations

from ..engine.rubric import Assignment, backward_check, forward_check, function, speed_check
from . import hints_students
from . import strategies as cases
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
    forward_check(CONV_CASES, CONV_FORWARD_POINTS, hints=hints_students.IM2COL_FORWARD_HINTS),
    speed_check(TIMING_CASE, {"speed": SPEED_POINTS}, max_ratio=MAX_RATIO, hints=hints_students.SPEED_HINTS,
                description=TIMING_DESCRIPTION),
)

CONV_BACKWARD_IM2COL = function(
    "conv_backward_im2col(dout, cache)",
    "conv_backward",
    backward_check(CONV_CASES, "conv_forward_im2col", CONV_BACKWARD_POINTS, hints=hints_students.IM2COL_BACKWARD_HINTS),
    speed_check(TIMING_CASE, {"speed": SPEED_POINTS}, forward="conv_forward_im2col", outputs=tuple(CONV_BACKWARD_POINTS),
                max_ratio=MAX_RATIO, hints=hints_students.SPEED_HINTS, description=TIMING_DESCRIPTION),
)

ASSIGNMENT = Assignment(
    name="fast_conv",
    title="Fast convolution: im2col forward and backward, correct and within 5x the reference's time",
    functions=(CONV_FORWARD_IM2COL, CONV_BACKWARD_IM2COL),
)
