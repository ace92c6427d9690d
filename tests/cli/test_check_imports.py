"""What ``autograder check`` imports: not the instructor's tools, and not torch once the store holds the values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "conv_layers" / "correct.py"

SCRIPT = """
import sys
from autograder.cli import main
try:
    main(["check", sys.argv[1], "--examples", "5"])
except SystemExit as end:
    code = end.code
import json
heavy = ("torch", "sqlalchemy", "autograder.cli.instructor", "autograder.classroom.batch", "autograder.classroom.gradebook")
print(json.dumps({"code": code, "loaded": [name for name in heavy if name in sys.modules]}))
"""


def _check(cache: Path) -> dict:
    env = {**os.environ, "CONV_AUTOGRADER_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(CORRECT)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_imports_torch_only_while_the_store_is_cold(tmp_path):
    first = _check(tmp_path / "cache")
    assert first == {"code": 0, "loaded": ["torch"]}  # cases drawn, values computed and cross-checked
    assert _check(tmp_path / "cache") == {"code": 0, "loaded": []}
