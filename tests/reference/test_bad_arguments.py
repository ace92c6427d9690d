"""Bad arguments: one table, each row naming what the message must say."""

import numpy as np
import pytest
from hypothesis import given

import reference
from autograder.rubrics import strategies as cases

X = np.zeros((2, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
B = np.zeros(4)
CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 1}

BAD_CALLS = [
    ("x 3-D", reference.conv_forward, (np.zeros((3, 5, 5)), W, B, CONV), ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(3, 5, 5\)"),
    ("x a list", reference.conv_forward, (X.tolist(), W, B, CONV), TypeError, "x must be a numpy array, got list"),
    ("x of strings", reference.conv_forward, (X.astype(str), W, B, CONV), TypeError, "x must hold real numbers"),
    ("channel mismatch", reference.conv_forward, (X, np.zeros((4, 2, 3, 3)), B, CONV), ValueError, "channel mismatch: x has C=3 .* w expects C=2"),
    ("b wrong length", reference.conv_forward, (X, W, np.zeros(3), CONV), ValueError, r"one bias per filter: expected shape \(4,\), got \(3,\)"),
    ("b 2-D", reference.conv_forward, (X, W, np.zeros((4, 1)), CONV), ValueError, "b must have 1 dimensions"),
    ("stride 0", reference.conv_forward, (X, W, B, {"stride": 0, "pad": 1}), ValueError, r"conv_param\['stride'\] must be >= 1, got 0"),
    ("stride float", reference.conv_forward, (X, W, B, {"stride": 1.5, "pad": 1}), TypeError, r"conv_param\['stride'\] must be an int"),
    ("stride bool", reference.conv_forward, (X, W, B, {"stride": True, "pad": 1}), TypeError, "must be an int"),
    ("pad negative", reference.conv_forward, (X, W, B, {"stride": 1, "pad": -1}), ValueError, r"conv_param\['pad'\] must be >= 0, got -1"),
    ("pad triple", reference.conv_forward, (X, W, B, {"stride": 1, "pad": (1, 1, 1)}), ValueError, "an int or an \\(h, w\\) pair"),
    ("dilation 0", reference.conv_forward, (X, W, B, {"stride": 1, "pad": 1, "dilation": 0}), ValueError, "dilation'\\] must be >= 1"),
    ("missing pad", reference.conv_forward, (X, W, B, {"stride": 1}), ValueError, "conv_param is missing the key 'pad'"),
    ("conv_param a list", reference.conv_forward, (X, W, B, [1, 1]), TypeError, "conv_param must be a dict"),
    ("filter doesn't fit", reference.conv_forward, (np.zeros((1, 3, 7, 7)), W, B, {"stride": 3, "pad": 0}), ValueError, "height: the filter doesn't fit"),
    ("filter larger than input", reference.conv_forward, (np.zeros((1, 3, 2, 2)), W, B, {"stride": 1, "pad": 0}), ValueError, "the filter spans 3 but the padded input is only 2"),
    ("dout wrong shape", reference.conv_backward, (np.zeros((2, 4, 4, 4)), (X, W, B, CONV)), ValueError, r"dout must have shape \(2, 4, 5, 5\)"),
    ("cache not a tuple", reference.conv_backward, (np.zeros((2, 4, 5, 5)), [X, W, B, CONV]), TypeError, r"cache must be the tuple \(x, w, b, conv_param\)"),
    ("pad x 1-D", reference.zero_pad, (np.zeros(3), 1), ValueError, "x must have 2 or 3 or 4 dimensions"),
    ("pad negative (zero_pad)", reference.zero_pad, (X, -2), ValueError, "pad must be >= 0"),
    ("pool missing key", reference.max_pool_forward, (X, {"pool_height": 2, "stride": 1}), ValueError, "pool_param is missing the key 'pool_width'"),
    ("pool window 0", reference.max_pool_forward, (X, {**POOL, "pool_width": 0}), ValueError, r"pool_param\['pool_width'\] must be >= 1"),
    ("pool doesn't fit", reference.max_pool_forward, (X, {"pool_height": 2, "pool_width": 2, "stride": 2}), ValueError, "height: the filter doesn't fit"),
    ("pool x 2-D", reference.avg_pool_forward, (np.zeros((5, 5)), POOL), ValueError, "x must have 4 dimensions"),
    ("pool dout shape", reference.max_pool_backward, (np.zeros((2, 3, 5, 5)), (X, POOL)), ValueError, r"dout must have shape \(2, 3, 4, 4\)"),
    ("global pool dout", reference.global_avg_pool_backward, (np.zeros((2, 4)), X), ValueError, r"dout must have shape \(2, 3\)"),
    ("affine mismatch", reference.affine_forward, (X, np.zeros((10, 2)), np.zeros(2)), ValueError, "x has D=75 features .* w expects D=10"),
    ("affine b", reference.affine_forward, (X, np.zeros((75, 2)), np.zeros(3)), ValueError, r"one bias per output: expected shape \(2,\)"),
    ("relu dout shape", reference.relu_backward, (np.zeros(3), np.zeros(4)), ValueError, r"dout must have shape \(4,\)"),
    ("kernel bigger than image", reference.correlate2d, (np.zeros((2, 2)), np.zeros((3, 1))), ValueError, "larger than image"),
    ("output_size stride 0", reference.output_size, (7, 3, 0), ValueError, "stride must be >= 1, got 0"),
    ("output_size float input", reference.output_size, (7.0, 3), TypeError, "in_size must be an int, got 7.0"),
    ("param count 0 filters", reference.conv_param_count, (3, 0, 3), ValueError, "num_filters must be >= 1"),
]


@pytest.mark.parametrize(("function", "args", "error", "message"), [row[1:] for row in BAD_CALLS], ids=[row[0] for row in BAD_CALLS])
def test_bad_argument_is_named_in_the_error(function, args, error, message):
    with pytest.raises(error, match=message):
        function(*args)


@given(cases.unfit_conv_cases(pairs=True, max_dilation=2))
def test_unfit_convolutions_raise(case):
    with pytest.raises(ValueError, match="doesn't fit"):
        reference.conv_forward(*case.args)
    with pytest.raises(ValueError, match="doesn't fit"):
        reference.conv_forward_naive(*case.args)


@given(cases.unfit_pool_cases())
def test_unfit_pools_raise(case):
    for op in (reference.max_pool_forward, reference.avg_pool_forward, reference.max_pool_forward_naive):
        with pytest.raises(ValueError, match="doesn't fit"):
            op(*case.args)
