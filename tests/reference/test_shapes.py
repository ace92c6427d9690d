"""Shape arithmetic: the lecture's worked examples, and agreement with torch's shape inference."""

import numpy as np
import pytest
from hypothesis import given

import reference
from autograder.engine import oracle
from autograder.rubrics import strategies as cases


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


CIFAR_LAYER = {"type": "conv", "filters": 10, "size": 5, "stride": 1, "pad": 2}


def test_convnet_cifar_layer_32x32x3_ten_5x5_filters_pad_2_gives_32x32x10_and_760_parameters():
    assert reference.convnet_shapes((3, 32, 32), [CIFAR_LAYER]) == [((10, 32, 32), 760)]


def test_convnet_shapes_through_the_lecture_pattern():
    layers = [
        CIFAR_LAYER,
        {"type": "relu"},
        {"type": "conv", "filters": 16, "size": 3, "stride": 1, "pad": 1},
        {"type": "relu"},
        {"type": "pool", "size": 2, "stride": 2},
        {"type": "fc", "units": 64},
        {"type": "relu"},
        {"type": "fc", "units": 10},
        {"type": "softmax"},
    ]
    assert reference.convnet_shapes((3, 32, 32), layers) == [
        ((10, 32, 32), 760),
        ((10, 32, 32), 0),
        ((16, 32, 32), 16 * (3 * 3 * 10 + 1)),
        ((16, 32, 32), 0),
        ((16, 16, 16), 0),  # pooling: no parameters
        ((64,), 64 * (16 * 16 * 16 + 1)),  # the first fc flattens 16x16x16
        ((64,), 0),
        ((10,), 10 * 65),
        ((10,), 0),
    ]


@given(cases.convnet_architectures())
def test_convnet_shapes_agree_with_torch_modules_on_meta(case):
    assert reference.convnet_shapes(*case.args) == oracle.convnet_shapes(*case.args)


@given(cases.unfit_convnet_architectures())
def test_convnet_that_does_not_fit_raises_in_both_engines(case):
    with pytest.raises(ValueError, match="doesn't fit"):
        reference.convnet_shapes(*case.args)
    with pytest.raises(ValueError, match="doesn't fit"):
        oracle.convnet_shapes(*case.args)


@pytest.mark.parametrize(
    ("input_shape", "layers", "message"),
    [
        ((3, 7, 7), [{"type": "conv", "filters": 1, "size": 3, "stride": 3, "pad": 0}], r"layers\[0\] \(conv 3x3, stride 3, pad 0\) doesn't fit the height 7"),
        ((3, 8, 8), [{"type": "pool", "size": 9, "stride": 1}], r"layers\[0\] \(pool 9x9.*doesn't fit"),
        ((3, 8, 8), [{"type": "fc", "units": 4}, {"type": "conv", "filters": 1, "size": 1, "stride": 1, "pad": 0}], "after the first fc|put conv and pool layers before"),
        ((3, 8, 8), [{"type": "dropout"}], "must be one of"),
        ((3, 8, 8), [{"type": "conv", "filters": 1, "size": 3, "stride": 1}], "missing the key 'pad'"),
        ((3, 8), [], r"input_shape must be \(C, H, W\)"),
    ],
    ids=["stride does not divide", "window too big", "conv after fc", "unknown type", "missing key", "input not 3-D"],
)
def test_convnet_shapes_bad_networks_say_which_layer(input_shape, layers, message):
    with pytest.raises(ValueError, match=message):
        reference.convnet_shapes(input_shape, layers)


def test_convnet_shapes_does_not_modify_its_arguments():
    layers = [dict(CIFAR_LAYER), {"type": "fc", "units": 3}]
    reference.convnet_shapes((3, 32, 32), layers)
    assert layers == [CIFAR_LAYER, {"type": "fc", "units": 3}]
