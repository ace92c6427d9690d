"""The strategies draw what they promise: fitting geometry, the advertised variety, cheap arrays."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from autograder import strategies as cases


@given(cases.conv_geometries(pairs=True, max_dilation=3))
def test_every_drawn_geometry_fits_the_formula(g):
    for axis in (0, 1):
        size = reference.output_size(g.in_size[axis], g.filter_size[axis], g.stride[axis], g.pad[axis], g.dilation[axis])
        assert size == g.out_size[axis]


def test_geometries_cover_the_interesting_corners():
    seen = set()

    @settings(max_examples=400)
    @given(cases.conv_geometries(max_dilation=2))
    def collect(g):
        k, s, p = g.filter_size[0], g.stride[0], g.pad[0]
        seen.add("stride > filter" if s > k else None)
        seen.add("pad >= filter" if p >= k else None)
        seen.add("1x1" if g.filter_size == (1, 1) else None)
        seen.add("rectangular" if g.filter_size[0] != g.filter_size[1] else None)
        seen.add("dilated" if g.dilation[0] > 1 else None)
        seen.add("batch > 1" if g.batch > 1 else None)

    collect()
    assert {"stride > filter", "pad >= filter", "1x1", "rectangular", "dilated", "batch > 1"} <= seen


@given(cases.conv_cases())
def test_plain_int_params_by_default(case):
    assert all(isinstance(v, int) for v in case.conv_param.values())


def test_cases_shrink_to_the_smallest_configuration():
    from hypothesis import find

    smallest = find(cases.conv_cases(), lambda case: True)
    assert smallest.x.shape == (1, 1, 1, 1) and smallest.w.shape == (1, 1, 1, 1)
    assert smallest.conv_param == {"stride": 1, "pad": 0}
    assert smallest.style == "small integers"


def test_same_seed_same_arrays():
    a = cases.arrays_from_seed((2, 3), 7, "normal")
    np.testing.assert_array_equal(a, cases.arrays_from_seed((2, 3), 7, "normal"))
    assert not np.array_equal(a, cases.arrays_from_seed((2, 3), 8, "normal"))


@given(st.sampled_from(cases.VALUE_STYLES), st.integers(0, 100))
def test_distinct_style_has_no_ties(style, seed):
    values = cases.arrays_from_seed((3, 4, 5), seed, style)
    assert values.dtype == np.float64 and values.shape == (3, 4, 5)
    if style == "distinct":
        assert len(np.unique(values)) == values.size


def test_describe_reads_like_the_call():
    case = cases.ConvCase(
        x=np.zeros((1, 1, 3, 3)), w=np.zeros((1, 1, 2, 2)), b=np.zeros(1), conv_param={"stride": 2, "pad": 0}, dout=np.zeros(1)
    )
    assert case.describe() == "x.shape=(1, 1, 3, 3), w.shape=(1, 1, 2, 2), b.shape=(1,), conv_param={'stride': 2, 'pad': 0}"


def _pattern(layers) -> str:
    """A network as the lecture writes it: 'CONV RELU CONV RELU POOL FC RELU FC SOFTMAX'."""
    return " ".join(layer["type"].upper() for layer in layers)


@given(cases.convnet_architectures())
def test_drawn_networks_fit_and_follow_the_lecture_pattern(case):
    summary = reference.convnet_shapes(*case.args)  # raises if a layer doesn't fit
    assert len(summary) == len(case.layers)
    assert re.fullmatch(r"((CONV RELU ){1,2}(POOL )?){1,3}(FC RELU ){0,2}FC SOFTMAX", _pattern(case.layers))
    channels, height, width = case.input_shape
    assert channels <= 64 and height <= 32 and width <= 32
    assert all(layer.get("filters", 1) <= 64 and layer.get("units", 1) <= 64 for layer in case.layers)


def test_drawn_networks_cover_the_interesting_corners():
    seen = set()

    @settings(max_examples=300)
    @given(cases.convnet_architectures())
    def collect(case):
        types = [layer["type"] for layer in case.layers]
        seen.add("pool" if "pool" in types else None)
        seen.add("three convs" if types.count("conv") >= 3 else None)
        seen.add("hidden fc" if types.count("fc") > 1 else None)
        seen.add("stride 2" if any(layer.get("stride") == 2 for layer in case.layers if layer["type"] == "conv") else None)
        seen.add("rectangular input" if case.input_shape[1] != case.input_shape[2] else None)
        seen.add("flattens a volume" if reference.convnet_shapes(*case.args)[types.index("fc") - 1][0][1:] != (1, 1) else None)

    collect()
    assert {"pool", "three convs", "hidden fc", "stride 2", "rectangular input", "flattens a volume"} <= seen


@given(cases.unfit_convnet_architectures())
def test_unfit_networks_raise_that_a_layer_does_not_fit(case):
    with pytest.raises(ValueError, match="doesn't fit"):
        reference.convnet_shapes(*case.args)


def test_networks_shrink_to_one_conv_and_the_classifier():
    from hypothesis import find

    smallest = find(cases.convnet_architectures(), lambda case: True)
    assert smallest.input_shape == (1, 1, 1)
    assert _pattern(smallest.layers) == "CONV RELU FC SOFTMAX"


@given(cases.conv1x1_cases())
def test_conv1x1_cases_have_a_channel_mixer(case):
    assert case.w.shape == (case.b.shape[0], case.x.shape[1])


@given(cases.conv_cases(max_dilation=3, dilation_key=True))
def test_dilation_key_is_always_there_when_asked(case):
    assert set(case.conv_param) == {"stride", "pad", "dilation"}
    assert all(isinstance(v, int) for v in case.conv_param.values())


@given(cases.fc_param_count_args())
def test_fc_count_args_are_positive_ints(args):
    assert args.in_features >= 1 and args.out_features >= 1 and isinstance(args.bias, bool)


@given(cases.same_pad_args())
def test_same_pad_args_have_an_odd_span(args):
    assert (args.dilation * (args.filter_size - 1) + 1) % 2 == 1
    assert reference.same_pad(*args.args) >= 0


@given(cases.same_pad_args(odd_span=False))
def test_even_span_same_pad_args_have_no_same_padding(args):
    assert (args.dilation * (args.filter_size - 1) + 1) % 2 == 0
    with pytest.raises(ValueError, match="even filter span"):
        reference.same_pad(*args.args)
