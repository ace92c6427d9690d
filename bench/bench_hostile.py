"""How long each bundled hostile example takes to grade (issue target: none over 15 s).

Grades every ``examples/<assignment>/hostile_*.py`` (and the notebooks'
``hostile_*.ipynb`` with ``--notebooks``) with ``autograder.grade`` at the
rubric's budget, each in a fresh Python process so that no warm cache of an
earlier file helps it, and prints one row per file: the wall time of the
whole process (imports, drawing the cases and the expected values
included), the grading time `SubmissionResult.seconds` reports, the score and
the status. Not a test: it exits 0 whatever it measures.

Usage: ``.venv/bin/python bench/bench_hostile.py [--notebooks] [--markdown]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 15.0  # seconds: the target for any one hostile example

GRADE_ONE = """
import json, sys
from autograder import grade
result = grade(sys.argv[1], assignment=sys.argv[2])
print(json.dumps({"points": result.points, "max": result.max_points, "status": result.status, "seconds": result.seconds}))
"""


def hostile_files(notebooks: bool) -> list[Path]:
    patterns = ["hostile_*.py", *(["hostile_*.ipynb"] if notebooks else [])]
    return sorted(path for folder in ("conv_layers", "conv_extras", "fast_conv") for pattern in patterns
                  for path in (ROOT / "examples" / folder).glob(pattern))


def measure(path: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", GRADE_ONE, str(path), path.parent.name], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        found = {"points": None, "max": None, "status": f"failed ({done.returncode}): {done.stderr.strip()[-200:]}", "seconds": None}
    return {"file": f"{path.parent.name}/{path.name}", "wall": wall, **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", action="store_true", help="also the hostile notebooks (nbgrader tricks)")
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = [measure(path) for path in hostile_files(arguments.notebooks)]
    if arguments.markdown:
        print("| file | wall s | grading s | points | status |\n| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        grading = f"{row['seconds']:.1f}" if row["seconds"] is not None else "-"
        points = f"{row['points']:g} / {row['max']:g}" if row["points"] is not None else "-"
        if arguments.markdown:
            print(f"| {row['file']} | {row['wall']:.1f} | {grading} | {points} | {row['status']} |")
        else:
            print(f"{row['file']:>48}  {row['wall']:5.1f} s wall, {grading:>5} s grading, {points:>9}, {row['status']}")
    slowest = max(rows, key=lambda row: row["wall"])
    verdict = "met" if slowest["wall"] <= LIMIT else "missed"
    print(f"\nslowest: {slowest['file']} at {slowest['wall']:.1f} s wall (target at most {LIMIT:g} s: {verdict})")


if __name__ == "__main__":
    main()
