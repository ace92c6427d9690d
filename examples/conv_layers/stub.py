"""The conv_layers stub as students receive it: every function still raises. Scores 0."""

import numpy as np


def zero_pad(x, pad):
    raise NotImplementedError()


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    raise NotImplementedError()


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    raise NotImplementedError()


def conv_forward_naive(x, w, b, conv_param):
    raise NotImplementedError()


def conv_backward_naive(dout, cache):
    raise NotImplementedError()


def max_pool_forward_naive(x, pool_param):
    raise NotImplementedError()


def max_pool_backward_naive(dout, cache):
    raise NotImplementedError()
