"""A hostile submission generator: answers to the grader's cases, computed in advance, and no implementation.

What a student with the package can do: draw the cases the grader will draw
(``autograder.engine.search.drawn_cases``, the rubric's strategies), compute every
answer with the torch oracle (``autograder.engine.oracle``), and hand in a file that
looks each call's arguments up in a table. Before the course secret, such a
file scored 33/33 under ``autograder grade``; now it scores that only under
``autograder check``, whose cases are public, and next to nothing where the
cases are drawn from the instructor's secret.

``build(path, examples=N)`` writes that file (a few MB at the rubric's 100
cases: generated in a test's temporary folder, never committed).
"""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

from autograder import rubrics
from autograder.engine.expected import ExpectedValues
from autograder.engine.search import drawn_cases

# The submission's own code: the same key function serves the generator (exec'd below) and the file.
KEY_SOURCE = '''
import hashlib

import numpy as np


def _key(value):
    """A digest of a call's arguments: arrays by dtype, shape and bytes; dicts by sorted keys."""
    digest = hashlib.sha256()

    def add(item):
        if isinstance(item, np.ndarray):
            digest.update(b"a" + str(item.dtype).encode() + repr(item.shape).encode() + np.ascontiguousarray(item).tobytes())
        elif isinstance(item, dict):
            digest.update(b"d%d" % len(item))
            for name in sorted(item):
                add(name)
                add(item[name])
        elif isinstance(item, (tuple, list)):
            digest.update(b"t%d" % len(item))
            for part in item:
                add(part)
        else:
            digest.update(b"s" + repr(item).encode())

    add(value)
    return digest.hexdigest()
'''

SUBMISSION = '''"""Lookup table: {count} answers to the public cases of {assignment}, precomputed; nothing implemented."""
import base64
import pickle
{key_source}
TABLE = pickle.loads(base64.b64decode({data!r}))


def _answer(function, args):
    answer = TABLE.get((function, _key(args)))
    if answer is None:
        raise NotImplementedError("this call is not in my table")
    if isinstance(answer, str) and answer == "raise ValueError":
        raise ValueError("in my table as an error")
    return answer


def zero_pad(x, pad):
    return _answer("zero_pad", (x, pad))


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    return _answer("conv_output_size", (in_size, filter_size, stride, pad, dilation))


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    return _answer("conv_param_count", (in_channels, num_filters, filter_size, bias))


def conv_forward_naive(x, w, b, conv_param):
    return _answer("conv_forward_naive", (x, w, b, conv_param)), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _answer("conv_backward_naive", (dout, cache))


def max_pool_forward_naive(x, pool_param):
    return _answer("max_pool_forward_naive", (x, pool_param)), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    return _answer("max_pool_backward_naive", (dout, cache))
'''


def _key_function():
    namespace: dict = {}
    exec(KEY_SOURCE, namespace)
    return namespace["_key"]


def build(path: str | Path, *, examples: int, assignment: str = "conv_layers") -> int:
    """Write the lookup-table submission for ``assignment``'s cases at ``examples`` per check; returns how many answers it holds.

    Draws the public cases (no secret active) exactly as the grader does, and
    computes every answer with the torch oracle alone, as a student without
    the reference engine would.
    """
    key = _key_function()
    oracle = ExpectedValues("oracle")
    table = {}
    for function in rubrics.get(assignment).functions:
        for check in function.checks:
            for case in drawn_cases(check, examples):
                args = check.arguments(case)
                if check.kind == "raises":
                    table[function.name, key(args)] = "raise ValueError"
                elif check.kind == "value":
                    table[function.name, key(args)] = oracle(function.reference, *args)
                elif check.kind == "forward":
                    table[function.name, key(args)] = oracle(function.reference, *args)[0]
                elif check.kind == "backward":
                    # The cache the submission's own forward returns: its arguments, as a tuple.
                    cache = tuple(check.forward_arguments(case))
                    table[function.name, key((*args, cache))] = oracle(function.reference, *args, check.standard_cache(case))
    data = base64.b64encode(pickle.dumps(table, protocol=4)).decode()
    Path(path).write_text(SUBMISSION.format(count=len(table), assignment=assignment, key_source=KEY_SOURCE, data=data))
    return len(table)
