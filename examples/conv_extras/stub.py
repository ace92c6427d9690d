"""The conv_extras stub as students receive it: every function still raises. Scores 0."""

import numpy as np


def dilated_conv_forward(x, w, b, conv_param):
    raise NotImplementedError()


def dilated_conv_backward(dout, cache):
    raise NotImplementedError()


def same_pad(filter_size, dilation=1):
    raise NotImplementedError()


def conv1x1_forward(x, w, b):
    raise NotImplementedError()


def correlate2d(image, kernel):
    raise NotImplementedError()


def convolve2d(image, kernel):
    raise NotImplementedError()


def avg_pool_forward(x, pool_param):
    raise NotImplementedError()


def avg_pool_backward(dout, cache):
    raise NotImplementedError()


def global_avg_pool_forward(x):
    raise NotImplementedError()


def global_avg_pool_backward(dout, cache):
    raise NotImplementedError()


def fc_param_count(in_features, out_features, bias=True):
    raise NotImplementedError()


def convnet_shapes(input_shape, layers):
    raise NotImplementedError()
