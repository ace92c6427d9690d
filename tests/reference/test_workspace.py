"""Scratch arrays are reused between calls, and what an op returns never shares memory with them."""

import threading

import numpy as np
import pytest

import reference
from reference import _workspace
from reference._workspace import scratch


def test_the_same_purpose_shape_and_dtype_get_the_same_array():
    first = scratch("test", (3, 4), np.float64)
    assert scratch("test", (3, 4), np.float64) is first
    assert scratch("test", (4, 3), np.float64) is not first
    assert scratch("other test", (3, 4), np.float64) is not first


def test_zero_clears_a_reused_array():
    first = scratch("test zero", (5,), np.float64)
    first[:] = 7.0
    assert np.array_equal(scratch("test zero", (5,), np.float64, zero=True), np.zeros(5))


def test_each_thread_has_its_own_arrays():
    mine = scratch("test thread", (2,), np.float64)
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(scratch("test thread", (2,), np.float64)))
    thread.start()
    thread.join()
    assert theirs[0] is not mine


def test_large_arrays_are_not_kept(monkeypatch):
    monkeypatch.setattr(_workspace, "MAX_BYTES", 1024)
    big = scratch("test big", (1024,), np.float64)
    assert scratch("test big", (1024,), np.float64) is not big


def _conv():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    out, cache = reference.conv_forward(x, w, b, {"stride": 1, "pad": 1})
    return (out, *reference.conv_backward(np.ones_like(out), cache))


def _pool(kind, window, stride):
    def run():
        x = np.random.default_rng(0).standard_normal((4, 3, 9, 9))
        param = {"pool_height": window, "pool_width": window, "stride": stride}
        out, cache = getattr(reference, f"{kind}_pool_forward")(x, param)
        return out, getattr(reference, f"{kind}_pool_backward")(np.ones_like(out), cache)

    return run


@pytest.mark.parametrize("run", [_conv, _pool("max", 3, 2), _pool("max", 3, 3), _pool("avg", 3, 2), _pool("avg", 3, 3)])
def test_results_of_one_call_survive_the_next(run):
    first = run()
    kept = [array.copy() for array in first]
    for _ in range(2):  # the same shapes again: the same scratch arrays are used
        again = run()
    for array, copy, other in zip(first, kept, again):
        np.testing.assert_array_equal(array, copy)
        assert not np.shares_memory(array, other)
