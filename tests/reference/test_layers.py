"""ReLU and fully connected layers; correlation vs convolution."""

import numpy as np
from helpers import check_engines
from hypothesis import given

import reference
from autograder.engine.compare import normwise_error, numerical_gradient
from autograder.rubrics import strategies as cases


@given(cases.relu_cases())
def test_relu_forward_and_backward(case):
    out, cache = check_engines("relu_forward", case.x, describe=case.describe())
    assert (out >= 0).all()
    check_engines("relu_backward", case.dout, cache, describe=case.describe())


@given(cases.affine_cases())
def test_affine_forward_and_backward(case):
    out, cache = check_engines("affine_forward", *case.args, describe=case.describe())
    assert out.shape == case.dout.shape
    dx, dw, db = check_engines("affine_backward", case.dout, cache, describe=case.describe())
    assert (dx.shape, dw.shape, db.shape) == (case.x.shape, case.w.shape, case.b.shape)


@given(cases.affine_cases(max_batch=2, max_side=3, styles=("normal",)))
def test_affine_backward_matches_finite_differences(case):
    x, w, b = (a.copy() for a in case.args)
    dx, dw, db = reference.affine_backward(case.dout, (x, w, b))
    forward = lambda: reference.affine_forward(x, w, b)[0]  # noqa: E731
    for analytic, variable in ((dx, x), (dw, w), (db, b)):
        assert normwise_error(analytic, numerical_gradient(lambda _: forward(), variable, case.dout)) < 1e-8


@given(cases.relu_cases(styles=("normal",)))
def test_relu_backward_matches_finite_differences(case):
    x = case.x.copy()
    numeric = numerical_gradient(lambda v: reference.relu_forward(v)[0], x, case.dout)
    assert normwise_error(reference.relu_backward(case.dout, x), numeric) < 1e-8


@given(cases.correlation_cases())
def test_correlate2d_and_convolve2d(case):
    correlated = check_engines("correlate2d", *case.args, describe=case.describe())
    convolved = check_engines("convolve2d", *case.args, describe=case.describe())
    np.testing.assert_allclose(convolved, reference.correlate2d(case.image, case.kernel[::-1, ::-1]), rtol=1e-12, atol=1e-12)
    assert correlated.shape == tuple(np.subtract(case.image.shape, case.kernel.shape) + 1)


def test_convolution_is_correlation_with_a_flipped_kernel():
    image = np.arange(16.0).reshape(4, 4)
    edge = np.array([[1.0, 0.0, -1.0]] * 3)  # not symmetric: the two differ by sign
    np.testing.assert_array_equal(reference.convolve2d(image, edge), -reference.correlate2d(image, edge))
    symmetric = np.ones((2, 2))
    np.testing.assert_array_equal(reference.convolve2d(image, symmetric), reference.correlate2d(image, symmetric))
