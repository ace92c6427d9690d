"""The conv_layers template as CS231n hands it out, untouched: every function returns None where its result goes.

Forwards still return ``(None, cache)`` with the cache filled in, and leave their inputs
unchanged; none of that is work, so it earns nothing. Scores 0.
"""

import numpy as np


def zero_pad(x, pad):
    x_pad = None
    ###########################################################################
    # TODO: Pad x with zeros on both sides of H and W.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return x_pad


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    size = None
    ###########################################################################
    # TODO: Compute the output size.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return size


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    count = None
    ###########################################################################
    # TODO: Count the parameters.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return count


def conv_forward_naive(x, w, b, conv_param):
    out = None
    ###########################################################################
    # TODO: Implement the convolutional forward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the convolutional backward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    out = None
    ###########################################################################
    # TODO: Implement the max-pooling forward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
    ###########################################################################
    # TODO: Implement the max-pooling backward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return dx
