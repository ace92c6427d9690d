"""How many docked properties of the buggy examples carry a hint.

Grades each ``examples/<assignment>/buggy_*.py`` (or the files given) at 25
cases per check and prints, per file, the docked properties and how many have
a hint, then the total fraction.

Run: ``.venv/bin/python bench/hint_coverage.py [FILE ...]``; a folder of real students' files works too
(each file graded against the assignment its folder is named after).
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder import grade
from autograder.engine.verdicts import ERROR_PROPERTY
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def coverage(paths: list[Path]) -> tuple[int, int]:
    """Print each file's docked and hinted properties; return the totals (docked, hinted)."""
    docked = hinted = 0
    for path in paths:
        result = grade(path, assignment=path.parent.name, examples=25, limits=Limits(call_timeout=2.0, budget=60.0))
        failed = [(f.name, p) for f in result.functions for p in f.properties if not p.passed]
        # A property charged for an error is explained by the error's own line (no error on valid input).
        error_hinted = {f.name for f in result.functions for p in f.properties if p.property == ERROR_PROPERTY and p.hint}
        with_hint = [(name, p) for name, p in failed if p.hint or (p.charged_for_error and name in error_hinted)]
        docked, hinted = docked + len(failed), hinted + len(with_hint)
        missing = ", ".join(f"{name}:{p.property}" for name, p in failed if (name, p) not in with_hint)
        print(f"{path.parent.name}/{path.name}: {len(with_hint)}/{len(failed)} docked properties hinted" + (f" (none for {missing})" if missing else ""))
    return docked, hinted


if __name__ == "__main__":
    files = [Path(a).resolve() for a in sys.argv[1:]] or sorted(EXAMPLES.glob("*/buggy_*.py"))
    docked, hinted = coverage(files)
    print(f"total: {hinted}/{docked} = {hinted / max(docked, 1):.0%} of docked properties carry a hint")
