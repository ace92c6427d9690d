"""The torch oracle keeps the reference's conventions, and importing reference does not import torch."""

import subprocess
import sys

import numpy as np
import pytest

import reference
from autograder.engine import oracle


def test_importing_reference_does_not_import_torch():
    code = "import sys, reference; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_oracle_has_every_vectorized_op_of_reference():
    threads = {"get_num_threads", "set_num_threads", "limited_threads"}  # the reference's settings, not ops
    vectorized = {name for name in reference.__all__ if not name.endswith("_naive")} - threads
    assert vectorized <= set(oracle.__all__)


def test_caches_are_the_course_tuples():
    x, w, b = np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)), np.zeros(2)
    param = {"stride": 1, "pad": 0}
    assert oracle.conv_forward(x, w, b, param)[1] == (x, w, b, param)
    pool = {"pool_height": 3, "pool_width": 3, "stride": 1}
    assert oracle.max_pool_forward(x, pool)[1] == (x, pool)


def test_either_engine_backward_accepts_the_other_engines_cache():
    x, w, b = np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2)), np.zeros(1)
    param = {"stride": 1, "pad": 1}
    dout = np.ones((1, 1, 4, 4))
    ours = reference.conv_backward(dout, oracle.conv_forward(x, w, b, param)[1])
    theirs = oracle.conv_backward(dout, reference.conv_forward(x, w, b, param)[1])
    for a, c in zip(ours, theirs):
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_oracle_rejects_unfit_convolution_that_torch_would_floor():
    with pytest.raises(ValueError, match="doesn't fit"):
        oracle.conv_forward(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 3, "pad": 0})


def test_results_are_float64_numpy_arrays():
    out, _ = oracle.relu_forward(np.array([1, -2]))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64


def _autograd_backward(make, inputs, dout):
    """The gradients of ``make(*inputs)`` by ``out.backward(dout)``, as torch's documentation writes it."""
    import torch

    tensors = [torch.tensor(value, dtype=torch.float64, requires_grad=True) for value in inputs]
    make(*tensors).backward(torch.tensor(dout, dtype=torch.float64))
    return [tensor.grad.numpy() for tensor in tensors]


def test_backwards_equal_torchs_own_backward_of_dout_bit_for_bit():
    # The oracle writes out.backward(dout) as the backward of (out * dout).sum(), which spares
    # importing sympy; the gradients must not differ in a single bit, signed zeros included.
    import torch.nn.functional as functional

    rng = np.random.default_rng(7)
    for _ in range(20):
        x, w, b = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(4, 3, 2, 2)), rng.normal(size=4)
        x[0, 0, 0, :2] = [0.0, -0.0]
        conv = {"stride": int(rng.integers(1, 3)), "pad": int(rng.integers(0, 3))}
        out, cache = oracle.conv_forward(x, w, b, conv)
        dout = rng.normal(size=out.shape) * rng.choice([0.0, -0.0, 1.0, 1e300], size=out.shape)
        want = _autograd_backward(lambda xt, wt, bt, conv=conv: functional.conv2d(xt, wt, bt, stride=conv["stride"], padding=conv["pad"]),
                                  (x, w, b), dout)
        for got, expected in zip(oracle.conv_backward(dout, cache), want):
            assert got.tobytes() == expected.tobytes()
        pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
        pooled, pool_cache = oracle.max_pool_forward(x, pool)
        dpool = rng.normal(size=pooled.shape)
        [want] = _autograd_backward(lambda xt: functional.max_pool2d(xt, 2, 2), (x,), dpool)
        assert oracle.max_pool_backward(dpool, pool_cache).tobytes() == want.tobytes()
        drelu = rng.normal(size=x.shape)
        [want] = _autograd_backward(lambda xt: xt.relu(), (x,), drelu)
        assert oracle.relu_backward(drelu, x).tobytes() == want.tobytes()


def test_a_dout_of_another_shape_is_refused_not_broadcast():
    out, cache = oracle.conv_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1), {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"dout must have shape \(1, 1, 2, 2\), got \(1, 1, 1, 1\)"):
        oracle.conv_backward(np.ones((1, 1, 1, 1)), cache)


def test_a_backward_does_not_import_sympy():
    # out.backward(dout) would import torch's symbolic shapes and sympy: 0.4 s of every first check.
    code = ("import sys, numpy as np; from autograder.engine import oracle; "
            "out, cache = oracle.conv_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1), {'stride': 1, 'pad': 0}); "
            "oracle.conv_backward(np.ones_like(out), cache); print('sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_convnet_shapes_do_not_import_dynamo():
    # Meta tensors through ReLU or Linear import TorchDynamo for their Python meta kernels: over a second.
    code = ("import sys; from autograder.engine import oracle; "
            "print(oracle.convnet_shapes((3, 8, 8), [{'type': 'conv', 'filters': 4, 'size': 3, 'stride': 1, 'pad': 1}, "
            "{'type': 'relu'}, {'type': 'pool', 'size': 2, 'stride': 2}, {'type': 'fc', 'units': 5}, {'type': 'softmax'}])); "
            "print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    shapes, imported = done.stdout.strip().splitlines()
    assert shapes == "[((4, 8, 8), 112), ((4, 8, 8), 0), ((4, 4, 4), 0), ((5,), 325), ((5,), 0)]"
    assert imported == "False"
