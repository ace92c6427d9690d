"""Starting a child: the script it runs, its clean environment, what it may read, how a process ended.

Shared by the three ways a child starts (forked by the zygote, a new
interpreter, the portable start): `CHILD_SCRIPT` is the child's side
(`child/main.py`), loaded there by path without the ``autograder`` package.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import signal
from pathlib import Path

from .child.read_access import plan_read_access, python_read_access
from .child.restrictions import BLOCKED_MODULES

CHILD_SCRIPT = Path(__file__).with_name("child") / "main.py"


def child_environment() -> dict[str, str]:
    # A clean environment: none of the grader's variables (tokens, paths) reach student code.
    return {
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
    }


def describe_end(returncode: int | None) -> str:
    """``"signal SIGSEGV"``, ``"exit code 4"``: how a process ended, from its ``Popen.returncode``.

    >>> describe_end(-11), describe_end(4)
    ('signal SIGSEGV', 'exit code 4')
    """
    if returncode is not None and returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@functools.cache
def blocked_package_folders() -> tuple[tuple[str, str], ...]:
    """Where torch and scipy are installed, so that reading them is refused as importing them would be."""
    folders = []
    for module in BLOCKED_MODULES:
        try:
            spec = importlib.util.find_spec(module)  # finds, does not import
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        locations = list(spec.submodule_search_locations or [])
        if not locations and spec.has_location and spec.origin:
            locations = [spec.origin]
        folders += [(os.path.realpath(location), module) for location in locations]
    return tuple(folders)


#: Kernel layers the children skip ("landlock", "seccomp"): only tests of the fall-backs set it.
SKIPPED_PROTECTIONS: frozenset[str] = frozenset()


@functools.cache
def read_plan(never: tuple[str, ...]) -> tuple[list[tuple[str, list[str]]], list[str], list[str]]:
    """What the child may read: (allowed folders and their holes, Landlock's read roots, its list-only folders).

    The student's own submission folder is not among them: its cells arrive
    over the protocol, and the folder may hold what is not the student's to
    read (a link to a classmate's folder, files the grader wrote, other
    submissions beside it in a batch).
    """
    readable = python_read_access(never)
    read_roots, list_only = plan_read_access(readable)
    return readable, read_roots, list_only
