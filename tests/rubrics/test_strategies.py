"""The strategies draw what they promise: fitting geometry, the advertised variety, cheap arrays."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import reference
from autograder.rubrics import strategies as cases


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


# ---------------------------------------------------------------- arguments checked when a strategy is built

_BUILDERS = [name for name in cases.__all__ if callable(getattr(cases, name)) and getattr(getattr(cases, name), "known_arguments", None)]
_BAD_ARGUMENTS = {
    "conv_cases max_filter_size=0": (cases.conv_cases, {"max_filter_size": 0}, "conv_cases(max_filter_size=0): max_filter_size must be at least 1"),
    "conv_cases misspelt": (cases.conv_cases, {"max_fliter_size": 3},
                            "conv_cases() got an unexpected keyword 'max_fliter_size' (did you mean 'max_filter_size'?)"),
    "conv_cases max_pad=-1": (cases.conv_cases, {"max_pad": -1}, "max_pad must be at least 0"),
    "conv_cases max_stride=1.5": (cases.conv_cases, {"max_stride": 1.5}, "max_stride must be an int, got 1.5"),
    "conv_cases max_batch=True": (cases.conv_cases, {"max_batch": True}, "max_batch must be an int, got True"),
    "conv_cases unknown style": (cases.conv_cases, {"styles": ("normal", "nromal")}, "unknown value style 'nromal'"),
    "conv_cases styles a string": (cases.conv_cases, {"styles": "normal"}, "styles must be a non-empty tuple"),
    "conv_cases no styles": (cases.conv_cases, {"styles": ()}, "styles must be a non-empty tuple"),
    "conv_cases dilation_key=1": (cases.conv_cases, {"dilation_key": 1}, "dilation_key must be True or False, got 1"),
    "conv_geometries min_batch > max_batch": (cases.conv_geometries, {"min_batch": 3}, "min_batch=3 is larger than max_batch=2"),
    "conv_geometries max_out=0": (cases.conv_geometries, {"max_out": 0}, "max_out must be at least 1"),
    "conv_geometries square=None": (cases.conv_geometries, {"square": None}, "square must be True or False"),
    "unfit_conv_cases max_dilation=0": (cases.unfit_conv_cases, {"max_dilation": 0}, "unfit_conv_cases(max_dilation=0): max_dilation must be at least 1"),
    "unfit_conv_cases misspelt": (cases.unfit_conv_cases, {"pair": True}, "did you mean 'pairs'?"),
    "pool_cases max_window=0": (cases.pool_cases, {"max_window": 0}, "max_window must be at least 1"),
    "pool_cases misspelt": (cases.pool_cases, {"max_windows": 2}, "did you mean 'max_window'?"),
    "unfit_pool_cases max_stride=0": (cases.unfit_pool_cases, {"max_stride": 0}, "unfit_pool_cases(max_stride=0): max_stride must be at least 1"),
    "global_pool_cases max_size=0": (cases.global_pool_cases, {"max_size": 0}, "max_size must be at least 1"),
    "relu_cases max_ndim=0": (cases.relu_cases, {"max_ndim": 0}, "max_ndim must be at least 1"),
    "relu_cases unknown": (cases.relu_cases, {"zzz": 1}, "relu_cases() got an unexpected keyword 'zzz'; known: max_ndim, max_side, styles"),
    "affine_cases max_extra_dims=0": (cases.affine_cases, {"max_extra_dims": 0}, "max_extra_dims must be at least 1"),
    "correlation_cases max_kernel=0": (cases.correlation_cases, {"max_kernel": 0}, "max_kernel must be at least 1"),
    "pad_cases max_pad=-2": (cases.pad_cases, {"max_pad": -2}, "max_pad must be at least 0"),
    "pad_cases pairs='yes'": (cases.pad_cases, {"pairs": "yes"}, "pairs must be True or False"),
    "output_size_args max_stride=0": (cases.output_size_args, {"max_stride": 0}, "max_stride must be at least 1"),
    "unfit_output_size_args misspelt": (cases.unfit_output_size_args, {"max_dilations": 3}, "did you mean 'max_dilation'?"),
    "same_pad_args max_dilation=0": (cases.same_pad_args, {"max_dilation": 0}, "max_dilation must be at least 1"),
    "same_pad_args no even filter": (cases.same_pad_args, {"odd_span": False, "max_filter_size": 1}, "max_filter_size must be at least 2"),
    "param_count_args max_filters=0": (cases.param_count_args, {"max_filters": 0}, "max_filters must be at least 1"),
    "param_count_args rectangular=0": (cases.param_count_args, {"rectangular": 0}, "rectangular must be True or False"),
    "fc_param_count_args max_units=0": (cases.fc_param_count_args, {"max_units": 0}, "max_units must be at least 1"),
    "conv1x1_cases max_channels=0": (cases.conv1x1_cases, {"max_channels": 0}, "max_channels must be at least 1"),
    "convnet_architectures max_blocks=0": (cases.convnet_architectures, {"max_blocks": 0}, "max_blocks must be at least 1"),
    "convnet_architectures max_fcs=-1": (cases.convnet_architectures, {"max_fcs": -1}, "max_fcs must be at least 0"),
    "unfit_convnet_architectures misspelt": (cases.unfit_convnet_architectures, {"max_block": 2}, "did you mean 'max_blocks'?"),
}


@pytest.mark.parametrize(("builder", "arguments", "message"), _BAD_ARGUMENTS.values(), ids=_BAD_ARGUMENTS.keys())
def test_bad_strategy_arguments_fail_when_the_strategy_is_built(builder, arguments, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        builder(**arguments)


def test_every_strategy_builder_checks_its_arguments():
    tested = {builder.__name__ for builder, _, _ in _BAD_ARGUMENTS.values()}
    assert set(_BUILDERS) == tested
    for name in _BUILDERS:
        builder = getattr(cases, name)
        with pytest.raises(InvalidArgument, match="unexpected keyword"):
            builder(max_typo=1)
        with pytest.raises(InvalidArgument, match="keyword arguments only"):
            builder(1)


@pytest.mark.parametrize("name", _BUILDERS)
def test_the_least_allowed_bounds_still_draw(name):
    builder = getattr(cases, name)
    least = {key: (0 if key in ("max_pad", "max_fcs") else 1) for key in builder.known_arguments if key.startswith("max_")}
    if name == "same_pad_args":
        least["max_filter_size"] = 1
    strategy = builder(**least)

    @settings(max_examples=10, database=None)
    @given(strategy)
    def draw(case):
        assert case is not None

    draw()
