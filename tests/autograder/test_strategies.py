"""The strategies draw what they promise: fitting geometry, the advertised variety, cheap arrays."""

import numpy as np
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
