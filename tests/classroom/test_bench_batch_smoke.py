"""Smoke test of ``bench/bench_batch.py``: a class of 6 through nbgrader's autograde and ours, end to end.

Slow (about a minute: nbgrader starts a kernel per notebook); run with ``./dev test -m slow``.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_batch.py"

pytestmark = pytest.mark.slow


def _table(stdout: str) -> list[dict[str, str]]:
    """The first Markdown table of the output, as one dict per row."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header):
            break  # the next table starts
        rows.append(dict(zip(header, cells)))
    return rows


def test_bench_batch_prints_the_comparison_for_a_small_class(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--students", "6", "--markdown", "--keep", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _table(done.stdout)
    assert [(row["tool"], row["workers"]) for row in rows] == [("nbgrader autograde", "1"), ("autograder grade", "1"), ("autograder grade", "2")]
    for row in rows:
        assert row["submissions"] == "6"
        assert row["correct at full marks (of 3)"] == "3", row  # both graders give the correct notebooks full marks
        assert row["buggy caught (of 3)"] == "3", row
    assert "target: ours >= (none) nbgrader's rate with >= 100 cases per function: not measured (no target for a class of 6; fewest cases for a function of a correct submission " in done.stdout
