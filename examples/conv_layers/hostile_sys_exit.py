"""Hostile example: calls sys.exit() halfway through the file.

The exit ends only this cell: the three functions defined above it are graded
(7 points), the four below it are never defined.
"""

import sys

import numpy as np


def zero_pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    span = dilation * (filter_size - 1) + 1
    room = in_size - span + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError("filter does not fit")
    return room // stride + 1


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    height, width = filter_size if isinstance(filter_size, tuple) else (filter_size, filter_size)
    return num_filters * (height * width * in_channels + (1 if bias else 0))


sys.exit("bye")


def conv_forward_naive(x, w, b, conv_param):
    raise AssertionError("never defined")
