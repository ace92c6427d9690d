"""Pooling: vectorized == naive == torch, forward and backward, ties included."""

import numpy as np
from helpers import check_engines
from hypothesis import given

import reference
from autograder import strategies as cases
from autograder.compare import normwise_error, numerical_gradient


@given(cases.pool_cases(pairs=True))
def test_max_pool_forward(case):
    out = check_engines("max_pool_forward", *case.args, describe=case.describe())[0]
    assert out.shape == case.dout.shape


@given(cases.pool_cases(pairs=True))
def test_max_pool_backward_including_ties(case):
    # "small integers" makes ties common: all engines send the gradient to the first maximum.
    check_engines("max_pool_backward", case.dout, (case.x, case.pool_param), describe=case.describe())


@given(cases.pool_cases(pairs=True))
def test_avg_pool_forward(case):
    check_engines("avg_pool_forward", *case.args, describe=case.describe())


@given(cases.pool_cases(pairs=True))
def test_avg_pool_backward(case):
    check_engines("avg_pool_backward", case.dout, (case.x, case.pool_param), describe=case.describe())


@given(cases.global_pool_cases())
def test_global_avg_pool_forward_and_backward(case):
    out, cache = check_engines("global_avg_pool_forward", case.x)
    assert out.shape == case.x.shape[:2]
    check_engines("global_avg_pool_backward", case.dout, cache)


@given(cases.pool_cases(pairs=True, max_batch=1, max_out=3, styles=("distinct",)))
def test_pool_backwards_match_finite_differences(case):
    x = case.x.copy()
    for forward, backward in (
        (reference.max_pool_forward, reference.max_pool_backward),
        (reference.avg_pool_forward, reference.avg_pool_backward),
    ):
        analytic = backward(case.dout, (x, case.pool_param))
        numeric = numerical_gradient(lambda v: forward(v, case.pool_param)[0], x, case.dout)
        assert normwise_error(analytic, numeric) < 1e-8


@given(cases.global_pool_cases(styles=("normal",)))
def test_global_avg_pool_matches_finite_differences(case):
    x = case.x.copy()
    numeric = numerical_gradient(lambda v: reference.global_avg_pool_forward(v)[0], x, case.dout)
    assert normwise_error(reference.global_avg_pool_backward(case.dout, x), numeric) < 1e-8


def test_max_pool_tie_goes_to_the_first_maximum_like_torch():
    x = np.array([[[[2.0, 2.0], [2.0, 1.0]]]])
    dx = reference.max_pool_backward(np.ones((1, 1, 1, 1)), (x, {"pool_height": 2, "pool_width": 2, "stride": 2}))
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_overlapping_windows_add_their_gradients():
    x = np.array([[[[0.0, 5.0, 0.0]]]])
    p = {"pool_height": 1, "pool_width": 2, "stride": 1}
    np.testing.assert_array_equal(reference.max_pool_backward(np.ones((1, 1, 1, 2)), (x, p)), [[[[0.0, 2.0, 0.0]]]])
