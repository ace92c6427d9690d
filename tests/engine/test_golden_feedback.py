"""Every bundled example grades as recorded: verdicts, scores and the feedback text a student reads.

A change meant to make grading faster (or tidier) must not change what
any bundled example gets. The records in ``golden/<assignment>.json`` hold,
per example file, the status, the points of every property with its
message, counterexample and hint, and the whole feedback text, graded at the
rubric's own settings on the public cases. Measured times (the speed checks'
CPU times and ratios) are masked: they are the machine's, not the grader's.

After a change that is *meant* to alter feedback (a new hint, a reworded
message), write the records again and review the diff::

    .venv/bin/python tests/engine/test_golden_feedback.py            # every example
    .venv/bin/python tests/engine/test_golden_feedback.py fast_conv  # one assignment

The hostile examples (an infinite loop, a memory hog, ...) cost seconds
each: they are the ``slow`` half of the test.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script from anywhere: the checkout's package
    sys.path.insert(0, str(ROOT))

from autograder import grade  # noqa: E402
from autograder.outputs.feedback import feedback_text  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
ASSIGNMENTS = ("conv_layers", "conv_extras", "fast_conv")

# "1.3x the reference's CPU time (1.19 ms vs 0.919 ms; limit 5x)": the ratio and the times are measured.
_MEASURED = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?x the reference's CPU time \([^;)]*")


def examples(assignment: str) -> list[Path]:
    """The bundled example files of ``assignment`` (every submission file of its folder)."""
    folder = ROOT / "examples" / assignment
    return sorted(path for path in folder.iterdir()
                  if path.suffix in (".py", ".ipynb") and path.name != "mutants.py")


def is_slow(path: Path) -> bool:
    return path.name.startswith("hostile_") or path.stem == "slow"


def mask(text: str) -> str:
    return _MEASURED.sub("<measured>", text)


def record(path: Path, assignment: str) -> dict:
    """What a student is told about ``path``, measured times masked."""
    result = grade(path, assignment=assignment)
    return {
        "status": str(result.status),
        "points": result.points,
        "max_points": result.max_points,
        "error": mask(result.error or ""),
        "properties": [
            [function.name, prop.property, prop.passed, prop.points, mask(prop.message), prop.counterexample, prop.hint]
            for function in result.functions for prop in function.properties
        ],
        "feedback": mask(feedback_text(result)).splitlines(),
    }


def golden(assignment: str) -> dict:
    return json.loads((GOLDEN / f"{assignment}.json").read_text())


def _cases(slow: bool) -> list:
    return [pytest.param(assignment, path.name, id=f"{assignment}/{path.name}")
            for assignment in ASSIGNMENTS for path in examples(assignment) if is_slow(path) == slow]


def _compare(assignment: str, name: str) -> None:
    recorded = golden(assignment)
    assert name in recorded, f"no record for examples/{assignment}/{name}: run {Path(__file__).name} to write it"
    got = record(ROOT / "examples" / assignment / name, assignment)
    want = recorded[name]
    assert got["feedback"] == want["feedback"], "the feedback text changed (see the diff; rerun the script if meant)"
    assert got == want


@pytest.mark.parametrize("assignment, name", _cases(slow=False))
def test_example_grades_as_recorded(assignment, name):
    _compare(assignment, name)


@pytest.mark.slow
@pytest.mark.parametrize("assignment, name", _cases(slow=True))
def test_hostile_example_grades_as_recorded(assignment, name):
    _compare(assignment, name)


def test_every_example_has_a_record():
    for assignment in ASSIGNMENTS:
        names = {path.name for path in examples(assignment)}
        assert set(golden(assignment)) == names, f"{assignment}: records and example files differ"


def main(argv: list[str]) -> int:
    import time

    for assignment in argv or ASSIGNMENTS:
        records = {}
        for path in examples(assignment):
            start = time.perf_counter()
            records[path.name] = record(path, assignment)
            print(f"{assignment}/{path.name}: {records[path.name]['points']:g} / "
                  f"{records[path.name]['max_points']:g} ({time.perf_counter() - start:.1f} s)", flush=True)
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / f"{assignment}.json").write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
