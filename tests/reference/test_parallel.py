"""The reference's pooling threads: same numbers with any thread count, in forked children too."""

import multiprocessing

import numpy as np
import pytest
import torch
import torch.nn.functional as functional

import reference
from reference import _parallel

# Above MIN_PARALLEL_BYTES (about 1.1 MB), with stride 2 over 3x3 windows (they overlap) and many ties.
LARGE = (4, 33, 33, 33)
POOLS = [
    ("max", {"pool_height": 3, "pool_width": 3, "stride": 2}),
    ("max", {"pool_height": 3, "pool_width": 1, "stride": (2, 1)}),
    ("avg", {"pool_height": 3, "pool_width": 2, "stride": (2, 1)}),
]


def large_input(shape=LARGE, seed=0):
    return np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float64)  # small ints: ties


def forward_backward(kind, x, pool_param):
    out, cache = getattr(reference, f"{kind}_pool_forward")(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    return out, getattr(reference, f"{kind}_pool_backward")(dout, cache), dout


@pytest.fixture
def threads():
    previous = reference.get_num_threads()
    yield reference.set_num_threads
    reference.set_num_threads(previous)


@pytest.mark.parametrize("kind, pool_param", POOLS)
def test_every_thread_count_gives_the_same_numbers(kind, pool_param, threads):
    x = large_input()
    results = []
    for count in (1, 2, 3):
        threads(count)
        results.append(forward_backward(kind, x, pool_param))
    for out, dx, _ in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(dx, results[0][1])


@pytest.mark.parametrize("kind, pool_param", POOLS)
def test_threaded_pools_agree_with_torch_on_ties(kind, pool_param, threads):
    threads(2)
    x = large_input()
    out, dx, dout = forward_backward(kind, x, pool_param)
    assert len(_parallel.partition(x.shape[0] * x.shape[1], x.shape[2] * x.shape[3] * 8)) == 2  # really threaded
    xt = torch.from_numpy(x).requires_grad_(True)
    window, stride = (pool_param["pool_height"], pool_param["pool_width"]), pool_param["stride"]
    out_t = getattr(functional, f"{kind}_pool2d")(xt, kernel_size=window, stride=stride)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def _pool_in_child(queue):
    x = large_input()
    out, dx, _ = forward_backward("max", x, POOLS[0][1])
    queue.put((float(out.sum()), float(dx.sum())))


def test_a_forked_child_makes_its_own_threads(threads):
    threads(2)
    expected = forward_backward("max", large_input(), POOLS[0][1])  # the parent's helper thread exists now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_pool_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)  # with the parent's (absent) threads the child would hang here
    child.join(timeout=60)
    assert got == (float(expected[0].sum()), float(expected[1].sum()))


@pytest.mark.parametrize("items, item_bytes", [(1, 10), (7, 100), (512, 8712), (2048, 8192), (3, 1 << 20)])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_partition_covers_every_item_once_in_order(items, item_bytes, count, threads):
    threads(count)
    parts = _parallel.partition(items, item_bytes)
    covered = [i for part in parts for block in part for i in range(block.start, block.stop)]
    assert covered == list(range(items))
    if items * item_bytes < _parallel.MIN_PARALLEL_BYTES:
        assert len(parts) == 1
    else:
        assert len(parts) == min(count, items)
    for part in parts:
        for block in part:
            assert block.stop > block.start
            assert (block.stop - block.start) * item_bytes <= 2 * _parallel.BLOCK_BYTES or block.stop - block.start == 1


def test_small_inputs_stay_in_the_calling_thread(threads):
    threads(2)
    assert len(_parallel.partition(2 * 3, 8 * 8 * 8)) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", None])
def test_set_num_threads_rejects_non_positive_ints(bad):
    with pytest.raises(ValueError, match="threads must be an int >= 1"):
        reference.set_num_threads(bad)


def test_limited_threads_restores_the_count(threads):
    threads(2)
    with reference.limited_threads(1):
        assert reference.get_num_threads() == 1
    assert reference.get_num_threads() == 2
    with reference.limited_threads(5):  # never raises the count
        assert reference.get_num_threads() == 2


def test_the_default_follows_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _parallel._default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert _parallel._default_threads() >= 1


def test_an_error_in_a_helper_thread_reaches_the_caller(threads):
    threads(2)

    def work(blocks):
        if blocks[0].start > 0:
            raise RuntimeError("boom in the helper")

    with pytest.raises(RuntimeError, match="boom in the helper"):
        _parallel.run_parts(work, _parallel.partition(1024, 4096))
