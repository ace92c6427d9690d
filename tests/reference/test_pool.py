"""Pooling: vectorized == naive == torch, forward and backward, ties included."""

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as functional
from helpers import check_engines
from hypothesis import given

import reference
from autograder.engine.compare import normwise_error, numerical_gradient
from autograder.rubrics import strategies as cases

# max_pool_backward takes one of two routes by input size (reference/pool.py):
# "windows" (argmax and bincount, small inputs) or "taps" (blocks of planes).
MAX_POOL_PATHS = ("windows", "taps")


@contextmanager
def max_pool_path(path: str):
    """Make max_pool_backward take ``path`` for every input it can."""
    previous = reference.pool._SMALL_INPUT_BYTES
    reference.pool._SMALL_INPUT_BYTES = {"windows": 1 << 62, "taps": -1}[path]
    try:
        yield
    finally:
        reference.pool._SMALL_INPUT_BYTES = previous


@given(cases.pool_cases(pairs=True))
def test_max_pool_forward(case):
    out = check_engines("max_pool_forward", *case.args, describe=case.describe())[0]
    assert out.shape == case.dout.shape


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
@given(case=cases.pool_cases(pairs=True))
def test_max_pool_backward_including_ties(path, case):
    # "small integers" makes ties common: all engines send the gradient to the first maximum.
    with max_pool_path(path):
        check_engines("max_pool_backward", case.dout, (case.x, case.pool_param), describe=case.describe())


def test_small_inputs_take_the_windows_path_and_large_ones_the_taps():
    p = {"pool_height": 2, "pool_width": 2, "stride": 2}
    small, large = np.ones((2, 3, 8, 8)), np.ones((8, 16, 32, 32))
    with mock.patch.object(reference.pool, "_max_pool_backward_small", wraps=reference.pool._max_pool_backward_small) as spy:
        reference.max_pool_backward(np.ones((2, 3, 4, 4)), (small, p))
        assert spy.call_count == 1
        reference.max_pool_backward(np.ones((8, 16, 16, 16)), (large, p))
        assert spy.call_count == 1


NAN = float("nan")


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
@pytest.mark.parametrize(
    "window, expected",
    [
        ([[1.0, NAN], [NAN, 0.0]], [[0.0, 1.0], [0.0, 0.0]]),  # the first NaN in row-major order
        ([[1.0, 3.0], [NAN, 0.0]], [[0.0, 0.0], [1.0, 0.0]]),  # a NaN beats a larger number
        ([[NAN, NAN], [NAN, NAN]], [[1.0, 0.0], [0.0, 0.0]]),
    ],
)
def test_max_pool_sends_a_window_with_nans_to_its_first_nan_like_argmax(path, window, expected):
    x = np.array([[window]])
    p = {"pool_height": 2, "pool_width": 2, "stride": 2}
    with max_pool_path(path):
        dx = reference.max_pool_backward(np.ones((1, 1, 1, 1)), (x, p))
    np.testing.assert_array_equal(dx[0, 0], expected)
    np.testing.assert_array_equal(dx, reference.max_pool_backward_naive(np.ones((1, 1, 1, 1)), (x, p)))


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
def test_max_pool_with_nans_agrees_with_the_loops_on_overlapping_windows(path):
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=(2, 3, 9, 9)).astype(np.float64)
    x[rng.random(x.shape) < 0.1] = NAN
    p = {"pool_height": 3, "pool_width": 3, "stride": 2}
    dout = rng.standard_normal((2, 3, 4, 4))
    with max_pool_path(path):
        dx = reference.max_pool_backward(dout, (x, p))
    np.testing.assert_allclose(dx, reference.max_pool_backward_naive(dout, (x, p)), rtol=1e-12, atol=0)
    # torch agrees wherever no window holds a NaN (it routes those to the last NaN)
    xt = torch.from_numpy(x).requires_grad_(True)
    functional.max_pool2d(xt, 3, 2).backward(torch.from_numpy(dout))
    out = reference.max_pool_forward(x, p)[0]
    nan_free = ~np.isnan(out)
    free_dx = reference.max_pool_backward(np.where(nan_free, dout, 0.0), (x, p))
    xt.grad = None
    functional.max_pool2d(xt, 3, 2).backward(torch.from_numpy(np.where(nan_free, dout, 0.0)))
    np.testing.assert_allclose(free_dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pools_take_an_empty_batch(path, kind):
    x, p = np.zeros((0, 2, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2}
    with max_pool_path(path):
        out, cache = getattr(reference, f"{kind}_pool_forward")(x, p)
        dx = getattr(reference, f"{kind}_pool_backward")(np.zeros(out.shape), cache)
    assert out.shape == (0, 2, 2, 2) and dx.shape == x.shape


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
def test_max_pool_backward_keeps_the_dtype_of_the_loops(path):
    p = {"pool_height": 2, "pool_width": 2, "stride": 2}
    for x, dout in (
        (np.ones((1, 1, 4, 4), np.float32), np.ones((1, 1, 2, 2), np.float32)),
        (np.arange(16).reshape(1, 1, 4, 4), np.ones((1, 1, 2, 2), np.int64)),
    ):
        with max_pool_path(path):
            dx = reference.max_pool_backward(dout, (x, p))
        naive = reference.max_pool_backward_naive(dout, (x, p))
        assert dx.dtype == naive.dtype
        np.testing.assert_array_equal(dx, naive)


def test_avg_pool_backward_gives_float64_for_float32_like_the_loops():
    x, dout = np.ones((1, 1, 4, 4), np.float32), np.full((1, 1, 2, 2), 0.1, np.float32)
    p = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dx = reference.avg_pool_backward(dout, (x, p))
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, reference.avg_pool_backward_naive(dout, (x, p)))


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


@pytest.mark.parametrize("path", MAX_POOL_PATHS)
@given(case=cases.pool_cases(pairs=True, max_batch=1, max_out=3, styles=("distinct",)))
def test_pool_backwards_match_finite_differences(path, case):
    x = case.x.copy()
    for forward, backward in (
        (reference.max_pool_forward, reference.max_pool_backward),
        (reference.avg_pool_forward, reference.avg_pool_backward),
    ):
        with max_pool_path(path):
            analytic = backward(case.dout, (x, case.pool_param))
        numeric = numerical_gradient(lambda v, forward=forward: forward(v, case.pool_param)[0], x, case.dout)
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
