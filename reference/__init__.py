"""The trusted NumPy engine: convolution, pooling and friends, in NCHW and float64.

Importing this package imports NumPy only. Every op has a vectorized version
and a plain-loop twin named ``<op>_naive``; both take and return what the
CS231n assignment does (``(out, cache)`` forwards, gradient tuples backwards).
"""

from ._parallel import get_num_threads, limited_threads, set_num_threads
from .conv import (
    conv1x1_forward,
    conv1x1_forward_naive,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
    zero_pad,
    zero_pad_naive,
)
from .correlation import convolve2d, convolve2d_naive, correlate2d, correlate2d_naive
from .layers import (
    affine_backward,
    affine_backward_naive,
    affine_forward,
    affine_forward_naive,
    relu_backward,
    relu_backward_naive,
    relu_forward,
    relu_forward_naive,
)
from .pool import (
    avg_pool_backward,
    avg_pool_backward_naive,
    avg_pool_forward,
    avg_pool_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_backward_naive,
    global_avg_pool_forward,
    global_avg_pool_forward_naive,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from .shapes import conv_param_count, convnet_shapes, fc_param_count, output_size, same_pad

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"conv", "correlation", "layers", "pool", "shapes"}]
