"""Smoke test of ``bench/ab_reference.py``: the working tree's reference against HEAD's, on the grading shapes."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "ab_reference.py"


def run(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_ab_reference_prints_a_row_per_shape_with_both_ratios():
    done = run("--only", "grading", "--rounds", "2", "--sample-ms", "2", "--markdown")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "grading" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["conv", "max pool", "avg pool"]
    for row in rows:
        base_ms, new_ms, fastest, paired = (float(cell) for cell in row.strip("|").split("|")[2:])
        assert base_ms > 0 and new_ms > 0 and fastest > 0 and paired > 0
    assert "geometric mean of the paired medians" in done.stdout


def test_ab_reference_names_a_revision_git_does_not_know():
    done = run("--base", "no-such-revision", "--only", "grading", "--rounds", "1")
    assert done.returncode != 0
    assert "git archive no-such-revision reference failed" in done.stderr
