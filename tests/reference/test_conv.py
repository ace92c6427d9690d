"""Convolution: vectorized == naive == torch, forward and every gradient, plus finite differences."""

import numpy as np
import pytest
from helpers import check_engines
from hypothesis import given

import reference
from autograder.engine.compare import normwise_error, numerical_gradient
from autograder.rubrics import strategies as cases


@given(cases.conv_cases(max_dilation=2))
def test_forward_agrees_with_naive_and_torch(case):
    out, cache = check_engines("conv_forward", *case.args, describe=case.describe())
    assert cache[3] is case.conv_param or cache[3] == case.conv_param
    assert out.shape == case.dout.shape


@given(cases.conv_cases(pairs=True, max_dilation=3))
def test_forward_with_per_axis_stride_pad_dilation(case):
    check_engines("conv_forward", *case.args, describe=case.describe())


@given(cases.conv_cases(pairs=True, max_dilation=2))
def test_backward_agrees_with_naive_and_torch(case):
    _, cache = reference.conv_forward(*case.args)
    dx, dw, db = check_engines("conv_backward", case.dout, cache, describe=case.describe())
    assert (dx.shape, dw.shape, db.shape) == (case.x.shape, case.w.shape, case.b.shape)


@given(cases.conv_cases(pairs=True, max_dilation=2, max_batch=1, max_out=3, styles=("normal",)))
def test_backward_matches_finite_differences(case):
    x, w, b = (a.copy() for a in case.args[:3])
    conv_param = case.conv_param
    dx, dw, db = reference.conv_backward(case.dout, reference.conv_forward(x, w, b, conv_param)[1])
    forward = lambda: reference.conv_forward(x, w, b, conv_param)[0]  # noqa: E731
    assert normwise_error(dx, numerical_gradient(lambda _: forward(), x, case.dout)) < 1e-8
    assert normwise_error(dw, numerical_gradient(lambda _: forward(), w, case.dout)) < 1e-8
    assert normwise_error(db, numerical_gradient(lambda _: forward(), b, case.dout)) < 1e-8


@given(cases.pad_cases(pairs=True))
def test_zero_pad_agrees_with_naive_and_torch(case):
    padded = check_engines("zero_pad", *case.args, tolerance=0.0)
    ph, pw = case.pad if isinstance(case.pad, tuple) else (case.pad, case.pad)
    height, width = case.x.shape[2:]
    assert padded.shape == (*case.x.shape[:2], height + 2 * ph, width + 2 * pw)
    np.testing.assert_array_equal(padded[:, :, ph : ph + height, pw : pw + width], case.x)
    assert np.count_nonzero(padded) == np.count_nonzero(case.x)


def test_stride_and_bias_on_a_hand_worked_case():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out, _ = reference.conv_forward(x, w, np.array([10.0]), {"stride": 2, "pad": 0})
    np.testing.assert_array_equal(out, [[[[5.0, 5.0], [5.0, 5.0]]]])  # x[i,j] - x[i+1,j+1] = -5, plus 10


def test_dilation_spreads_the_taps():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.ones((1, 1, 2, 2))
    out, _ = reference.conv_forward(x, w, np.zeros(1), {"stride": 1, "pad": 0, "dilation": 2})
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0, 0, 0] == x[0, 0, 0, 0] + x[0, 0, 0, 2] + x[0, 0, 2, 0] + x[0, 0, 2, 2]


@given(cases.conv1x1_cases(max_channels=8, max_filters=8))
def test_conv1x1_agrees_with_naive_and_torch(case):
    out = check_engines("conv1x1_forward", *case.args, describe=case.describe())
    assert out.shape == (case.x.shape[0], case.w.shape[0], *case.x.shape[2:])


@given(cases.conv1x1_cases())
def test_conv1x1_is_a_convolution_with_1x1_filters(case):
    out, _ = reference.conv_forward(case.x, case.w[:, :, None, None], case.b, {"stride": 1, "pad": 0})
    np.testing.assert_allclose(reference.conv1x1_forward(*case.args), out, rtol=1e-12, atol=1e-12)


def test_conv1x1_mixes_56x56x64_into_56x56x32():
    x = np.random.default_rng(0).standard_normal((2, 64, 56, 56))
    w = np.ones((32, 64))
    w[1] = 0.0
    out = reference.conv1x1_forward(x, w, np.arange(32.0))
    assert out.shape == (2, 32, 56, 56)
    np.testing.assert_allclose(out[:, 0], x.sum(axis=1), rtol=1e-12)  # each output is a dot product over the 64 channels
    np.testing.assert_array_equal(out[:, 1], 1.0)  # a zero row leaves only the bias


def test_conv1x1_rejects_w_transposed():
    with pytest.raises(ValueError, match=r"w must be \(F, C\)"):
        reference.conv1x1_forward(np.zeros((1, 64, 2, 2)), np.zeros((64, 32)), np.zeros(32))
