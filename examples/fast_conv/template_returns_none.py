"""The fast_conv template as CS231n hands it out, untouched: every function returns None where its result goes.

Forwards still return ``(None, cache)`` with the cache filled in, and leave their inputs
unchanged; none of that is work, so it earns nothing. Scores 0.
"""

import numpy as np


def conv_forward_im2col(x, w, b, conv_param):
    out = None
    ###########################################################################
    # TODO: Implement the im2col forward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_im2col(dout, cache):
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the im2col backward pass.
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return dx, dw, db
