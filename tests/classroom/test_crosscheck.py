"""The cross-check notices a disagreeing engine and an engine that modifies its inputs."""

import numpy as np
import pytest

import reference
from autograder.classroom import crosscheck


def test_a_wrong_vectorized_op_is_caught(monkeypatch):
    monkeypatch.setattr(reference, "relu_forward", lambda x: (np.abs(x), x))
    [summary] = crosscheck.crosscheck(examples=20, ops=("relu_forward",))
    assert not summary.ok and summary.max_error_torch > 0.1


def test_an_op_that_modifies_its_input_is_caught(monkeypatch):
    def relu_in_place(x):
        np.maximum(x, 0, out=x)
        return x.copy(), x

    monkeypatch.setattr(reference, "relu_forward", relu_in_place)
    comparison = crosscheck.compare_engines("relu_forward", np.array([-1.0, 2.0]))
    assert not comparison.inputs_unchanged


@pytest.mark.parametrize("op", [op.name for op in crosscheck.OPS])
def test_every_op_passes_a_short_crosscheck(op):
    [summary] = crosscheck.crosscheck(examples=10, ops=(op,))
    assert summary.ok and summary.cases == 10
