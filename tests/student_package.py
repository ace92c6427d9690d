"""``packaging/build_student.py``, loaded for the tests (it is a script, not part of a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_builder():
    """The build script as a module: `build`, `pins`, `dependencies`, `INSTRUCTOR_ONLY`."""
    if "build_student" not in sys.modules:
        spec = importlib.util.spec_from_file_location("build_student", ROOT / "packaging" / "build_student.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["build_student"] = module
    return sys.modules["build_student"]
