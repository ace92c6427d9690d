"""Build lookup_table.py: the public cases' answers, as a student with the package would.

Not a submission (the runner skips ``make_*``).  It draws every check's cases
exactly as the grader does without a secret (``autograder.search.drawn_cases``
on the rubric's checks, for 100 and for 30 cases per check), computes the answers with
``examples/conv_layers/correct.py`` (a student would use the torch oracle or a
friend's code), and writes ``lookup_table.py``, which implements nothing and
answers from the table.

Run from the repository root: ``python examples/redteam/make_lookup_table.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import runpy
from pathlib import Path

import numpy as np

from autograder import rubrics
from autograder.search import drawn_cases

HERE = Path(__file__).resolve().parent
KEY_FUNCTION = '''
def _key(*values):
    digest = hashlib.sha1()
    stack = list(values)
    while stack:
        value = stack.pop(0)
        if isinstance(value, np.ndarray):
            digest.update(repr((str(value.dtype), value.shape)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (tuple, list)):
            stack = list(value) + stack
        elif isinstance(value, dict):
            stack = [item for pair in sorted(value.items(), key=repr) for item in pair] + stack
        else:
            digest.update(repr(value).encode())
    return "k" + digest.hexdigest()
'''
namespace: dict = {"hashlib": hashlib, "np": np}
exec(KEY_FUNCTION, namespace)
_key = namespace["_key"]


def main() -> None:
    correct = runpy.run_path(str(HERE.parent / "conv_layers" / "correct.py"))
    answers: dict[str, np.ndarray] = {}
    raises: list[str] = []
    for function in rubrics.get("conv_layers").functions:
        for check in function.checks:
            # The grader's 100 cases per check and `autograder check`'s 30 (also `grade --examples 30`).
            cases = {id(case): case for count in (30, check.examples) for case in drawn_cases(check, count)}
            for case in cases.values():
                if check.kind == "backward":
                    forward_args = check.forward_arguments(case)
                    dout = check.arguments(case)[0]
                    cache = correct[check.forward](*forward_args)[1]
                    gradients = correct[function.name](dout, cache)
                    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
                    key = _key(function.name, dout, tuple(forward_args))
                    for index, gradient in enumerate(gradients):
                        answers[f"{key}_{index}"] = np.asarray(gradient)
                    continue
                args = check.arguments(case)
                key = _key(function.name, *args)
                if check.kind == "raises":
                    raises.append(key) if key not in raises else None
                    continue
                value = correct[function.name](*args)
                answers[key] = np.asarray(value[0] if check.kind == "forward" else value)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **answers)
    table = base64.b64encode(buffer.getvalue()).decode()
    lines = [table[i : i + 100] for i in range(0, len(table), 100)]
    template = (HERE / "lookup_table.py.in").read_text()
    source = template.replace("#@KEY@", KEY_FUNCTION.strip()).replace("#@RAISES@", repr(sorted(raises)))
    source = source.replace("#@TABLE@", "\n".join(f'    "{line}"' for line in lines))
    (HERE / "lookup_table.py").write_text(source)
    print(f"{len(answers)} answers, {len(raises)} raising cases, {len(source) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
