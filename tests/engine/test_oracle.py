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
