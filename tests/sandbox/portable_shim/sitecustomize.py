"""Put on PYTHONPATH with AUTOGRADER_SANDBOX_SIMULATE=windows: the grader's process then lacks posix, resource, fcntl and os.fork.

Loaded by path, before the ``autograder`` package (whose imports are what is being tested).
"""

import importlib.util
import os
from pathlib import Path

if os.environ.get("AUTOGRADER_SANDBOX_SIMULATE"):
    _path = Path(__file__).resolve().parents[3] / "autograder" / "sandbox" / "child" / "simulate.py"
    _spec = importlib.util.spec_from_file_location("_autograder_simulate", _path)
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    _module.hide_platform(_module.simulated_platform())
