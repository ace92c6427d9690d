"""Build lookup_table.py: the public cases' answers, as a student with the package would.

Not a submission (the runner skips ``make_*``).  It draws every check's cases
exactly as the grader does without a secret (``autograder.engine.search.drawn_cases``
on the rubric's checks, for 100 and for 30 cases per check, plus every case
the grader judged while grading a correct file), computes the answers with
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

import shutil
import subprocess
import sys
import tempfile

# Only these at first: which cases Hypothesis draws was seen to depend on what the process imported
# before (4 of zero_pad's 100 differ), so the table is made in a plain process and in a grading one.
from autograder import rubrics
from autograder.engine import search
from autograder.engine.search import drawn_cases

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


def judged_cases(correct_file: Path) -> dict[tuple[str, int], dict]:
    """The cases the grader really judges, per (function, check), recorded while it grades a correct file.

    Both ways in: ``autograder.grade`` on the file and the class path of
    ``autograder grade`` (a folder, as a batch job); they need not draw alike.
    """
    import autograder
    from autograder.classroom.batch import Job, grade_job

    seen: dict[tuple[str, int], dict] = {}
    original = search._Search.evaluate_many

    def recording(self, cases):
        bucket = seen.setdefault((self.function.name, self.function.checks.index(self.check)), {})
        for case in cases:
            bucket.setdefault(search.case_key(case), case)
        return original(self, cases)

    search._Search.evaluate_many = recording
    try:
        autograder.grade(correct_file, assignment="conv_layers")
        folder = Path(tempfile.mkdtemp()) / "student" / "conv_layers"
        folder.mkdir(parents=True)
        shutil.copy(correct_file, folder / "submission.py")
        grade_job(Job("student", "conv_layers", str(folder), ""))
        shutil.rmtree(folder.parents[1], ignore_errors=True)
    finally:
        search._Search.evaluate_many = original
    return seen


def answers_for(judged: dict) -> tuple[dict[str, np.ndarray], list[str]]:
    """The correct answer of every case drawn in this process (and of the *judged* ones), keyed by arguments."""
    correct = runpy.run_path(str(HERE.parent / "conv_layers" / "correct.py"))
    answers: dict[str, np.ndarray] = {}
    raises: list[str] = []
    for function in rubrics.get("conv_layers").functions:
        for index, check in enumerate(function.checks):
            # The grader's 100 cases per check and `autograder check`'s 30 (also `grade --examples 30`),
            # and whatever it judged while grading a correct file.
            cases = {search.case_key(case): case for count in (30, check.examples) for case in drawn_cases(check, count)}
            cases.update(judged.get((function.name, index), {}))
            for case in cases.values():
                if check.kind == "backward":
                    forward_args = check.forward_arguments(case)
                    dout = check.arguments(case)[0]
                    cache = correct[check.forward](*forward_args)[1]
                    gradients = correct[function.name](dout, cache)
                    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
                    key = _key(function.name, dout, tuple(forward_args))
                    for position, gradient in enumerate(gradients):
                        answers[f"{key}_{position}"] = np.asarray(gradient)
                    continue
                args = check.arguments(case)
                key = _key(function.name, *args)
                if check.kind == "raises":
                    raises.append(key) if key not in raises else None
                    continue
                value = correct[function.name](*args)
                answers[key] = np.asarray(value[0] if check.kind == "forward" else value)
    return answers, raises


def main() -> None:
    if sys.argv[1:2] == ["--fresh"]:  # a process that has drawn nothing yet: its draws, as a file
        answers, raises = answers_for({})
        np.savez(sys.argv[2], **answers, **{f"raises_{key}": np.zeros(0) for key in raises})
        return
    # The cases drawn in a plain process and in one that graded first are not always the same
    # (seen: 4 of zero_pad's 100), so the table holds both.
    fresh = Path(tempfile.mkdtemp()) / "fresh.npz"
    subprocess.run([sys.executable, __file__, "--fresh", str(fresh)], check=True)
    answers, raises = answers_for(judged_cases(HERE.parent / "conv_layers" / "correct.py"))
    with np.load(fresh) as more:
        for name in more.files:
            if name.startswith("raises_"):
                raises.append(name[len("raises_"):]) if name[len("raises_"):] not in raises else None
            else:
                answers.setdefault(name, more[name])
    shutil.rmtree(fresh.parent, ignore_errors=True)
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
