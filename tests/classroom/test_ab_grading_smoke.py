"""`bench/ab_grading.py` runs: two checkouts (here the same one) graded in turns, per submission and on a class."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ab_grading_reports_both_sides_per_submission_and_per_class(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ab_grading.py"), str(ROOT), str(ROOT), "--rounds", "1", "--repeat", "1",
         "--files", str(ROOT / "examples" / "conv_layers" / "correct.py"), "--class-size", "2", "--workers-list", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for side in ("before", "after"):
        assert re.search(rf"^round 1 {side} +correct\.py: wall \d+ ms, grader CPU \d+ ms, child CPU \d+ ms, points 33$", out, re.M), out
        assert re.search(rf"^round 1 {side} +class of 2, 1 worker\(s\): \d+\.\d s$", out, re.M), out
        assert re.search(rf"^  {side} +correct\.py: wall \d+ ms, grader CPU \d+ ms, child CPU \d+ ms$", out, re.M), out
