"""Shape arithmetic: the lecture's worked examples, and agreement with torch's shape inference."""

import numpy as np
import pytest
from hypothesis import given

import reference
from autograder import oracle
from autograder import strategies as cases


def test_7x7_input_3x3_filter_stride_1_pad_1_gives_7():
    assert reference.output_size(7, 3, stride=1, pad=1) == 7


def test_7x7_input_3x3_filter_stride_3_does_not_fit():
    with pytest.raises(ValueError, match=r"doesn't fit.*\(7 - 3 \+ 2\*0\)/3 \+ 1 = 2\.33"):
        reference.output_size(7, 3, stride=3)


def test_7x7_input_3x3_filter_stride_2_gives_3():
    assert reference.output_size(7, 3, stride=2) == 3


def test_cifar_layer_32x32x3_ten_5x5_filters_stride_1_pad_2():
    x = np.zeros((1, 3, 32, 32))
    w = np.zeros((10, 3, 5, 5))
    out, _ = reference.conv_forward(x, w, np.zeros(10), {"stride": 1, "pad": 2})
    assert out.shape == (1, 10, 32, 32)
    assert reference.conv_param_count(3, 10, 5) == 760  # 5*5*3 + 1 = 76 per filter


def test_1x1_convolution_mixes_56x56x64_into_56x56x32():
    x = np.ones((1, 64, 56, 56))
    w = np.ones((32, 64, 1, 1))
    out, _ = reference.conv_forward(x, w, np.zeros(32), {"stride": 1, "pad": 0})
    assert out.shape == (1, 32, 56, 56)
    assert np.all(out == 64.0)  # each output is a dot product over the 64 channels
    assert reference.conv_param_count(64, 32, 1) == 32 * 65


def test_fully_connected_on_32x32x3_to_10_classes():
    assert reference.fc_param_count(32 * 32 * 3, 10) == 30_730
    out, _ = reference.affine_forward(np.ones((2, 3, 32, 32)), np.ones((3072, 10)), np.zeros(10))
    assert out.shape == (2, 10)


@pytest.mark.parametrize(("filter_size", "pad"), [(1, 0), (3, 1), (5, 2), (7, 3)])
def test_same_pad_keeps_the_size(filter_size, pad):
    assert reference.same_pad(filter_size) == pad
    assert reference.output_size(32, filter_size, stride=1, pad=pad) == 32


def test_same_pad_rejects_even_filters():
    with pytest.raises(ValueError, match="even filter span 4"):
        reference.same_pad(4)


def test_rectangular_filters_count_height_times_width():
    assert reference.conv_param_count(3, 2, (3, 5)) == 2 * (3 * 5 * 3 + 1)
    assert reference.conv_param_count(3, 2, (3, 5), bias=False) == 2 * 3 * 5 * 3


@given(cases.output_size_args(max_dilation=3))
def test_output_size_agrees_with_torch(args):
    assert reference.output_size(**args.kwargs) == oracle.output_size(**args.kwargs)


@given(cases.unfit_output_size_args(max_dilation=3))
def test_unfit_sizes_raise_in_both_engines(args):
    with pytest.raises(ValueError, match="doesn't fit"):
        reference.output_size(**args.kwargs)
    with pytest.raises(ValueError, match="doesn't fit"):
        oracle.output_size(**args.kwargs)


@given(cases.conv_geometries(pairs=True, max_dilation=2))
def test_param_counts_agree_with_torch(g):
    assert reference.conv_param_count(g.channels, g.filters, g.filter_size) == oracle.conv_param_count(
        g.channels, g.filters, g.filter_size
    )
    assert reference.fc_param_count(g.channels, g.filters, bias=False) == oracle.fc_param_count(g.channels, g.filters, bias=False)


@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("filter_size", [1, 3, 5])
def test_same_pad_agrees_with_torch(filter_size, dilation):
    assert reference.same_pad(filter_size, dilation) == oracle.same_pad(filter_size, dilation)
