"""Release: the student notebooks in ``assignments/`` generated from ``solutions/`` by nbgrader.

First the course's ``nbgrader_config.py`` is checked: ``nbgrader autograde``
must grade in the sandbox (`autograder.nbgrader.execute.SandboxedExecute` in
place of nbgrader's ``Execute``), never run students' notebooks in a kernel;
a course configured otherwise is not released.

Stages, for each assignment:

1. ``generate``: the real ``nbgrader generate_assignment <assignment> --force``
   runs in the course root (``nbgrader_config.py`` maps nbgrader's ``source``
   to ``solutions/`` and ``release`` to ``assignments/``): solution code
   becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, test cells
   are locked and checksummed, and the assignment, its notebooks and grade
   cells enter nbgrader's gradebook;
2. ``label``: the notebook's metadata records what it was released for,
   ``metadata["autograder"]``: the assignment (so ``autograder check``
   knows it), the grader's fingerprint (so ``check`` can say when a
   student's versions would draw other cases: :mod:`autograder.engine.fingerprint`)
   and where the install cell installs the students' package from; with
   ``install_from``, the install cell's ``AUTOGRADER_SOURCE`` is set to it;
3. ``normalize``: what could differ between two runs or two machines goes
   (execution counts, outputs), and every notebook is written in one stable
   JSON form, so the committed ``assignments/`` can be compared byte for byte
   with a fresh release.

A release never ships the course secret (:mod:`autograder.engine.secret`): an
assignment whose ``solutions/`` folder holds a secret file is refused before
nbgrader copies anything, and a released folder that holds one is an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ReleaseError", "release", "source_assignments", "label_notebook", "normalize_notebook", "notebook_text"]


class ReleaseError(RuntimeError):
    """The release cannot be made; the message says what nbgrader or the course folder lacks."""


def source_assignments(course_root: str | Path = ".") -> list[str]:
    """The assignments of a course: the folders of ``solutions/`` holding a notebook, by name."""
    source = Path(course_root) / "solutions"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


#: The install cell's line naming where the students' package comes from (see the solutions' first code cell).
INSTALL_LINE = re.compile(r'^AUTOGRADER_SOURCE = (".*")$', re.MULTILINE)


def release(*, assignment: str | None = None, course_root: str | Path = ".", install_from: str | None = None,
            timeout: float = 600.0) -> list[Path]:
    """Generate ``assignments/<assignment>/`` from ``solutions/<assignment>/`` with nbgrader, normalized.

    Parameters
    ----------
    assignment : str, optional
        One assignment; by default every folder of ``solutions/``.
    course_root : str or Path
        The folder holding ``nbgrader_config.py``, ``solutions/`` and ``assignments/``.
    install_from : str, optional
        Where the notebooks' install cell installs the students' package from
        where it is missing: anything ``pip install`` takes (a URL of the wheel
        the course hosts, a path, a package name). By default what the
        solution notebook's install cell says.
    timeout : float
        Seconds one ``nbgrader generate_assignment`` may take.

    Returns
    -------
    list of Path
        The released notebooks, normalized.

    Raises
    ------
    ReleaseError
        No such assignment, nbgrader not installed, nbgrader failed (its log is in the
        message), or ``nbgrader_config.py`` would let ``nbgrader autograde`` run notebooks in a kernel.
    """
    root = Path(course_root).resolve()
    known = source_assignments(root)
    if assignment is not None and assignment not in known:
        raise ReleaseError(
            f"no notebook in {root / 'solutions' / assignment}; the course's assignments are: "
            f"{', '.join(known) or 'none (solutions/ holds no notebooks)'}")
    if not known:
        raise ReleaseError(f"{root / 'solutions'}: no assignment folders with notebooks; is {root} the course root?")
    _check_grading_config(root)
    written: list[Path] = []
    for name in [assignment] if assignment else known:
        _refuse_secrets(root / "solutions" / name)
        _generate(name, root, timeout)
        _refuse_secrets(root / "assignments" / name)
        for notebook in sorted((root / "assignments" / name).rglob("*.ipynb")):
            content = label_notebook(json.loads(notebook.read_text(encoding="utf-8")), name, install_from)
            notebook.write_text(notebook_text(normalize_notebook(content)), encoding="utf-8")
            written.append(notebook)
    return written


def _check_grading_config(root: Path) -> None:
    from .execute import SandboxedExecuteError, course_grades_in_sandbox

    try:
        course_grades_in_sandbox(root)
    except SandboxedExecuteError as error:
        raise ReleaseError(str(error)) from None


def _refuse_secrets(folder: Path) -> None:
    """A :class:`ReleaseError` if ``folder`` holds a course secret file: students would receive it."""
    from ..engine.secret import CLASS_SECRET_FILE, COURSE_SECRET_FILE

    found = sorted(path for name in (CLASS_SECRET_FILE, COURSE_SECRET_FILE) for path in folder.rglob(name))
    if found:
        raise ReleaseError(
            f"{found[0]} is a course secret, and everything in {folder} is released to students; "
            "move it out of the course's solutions/ and assignments/ (e.g. to the course root) and release again"
        )


def _generate(assignment: str, root: Path, timeout: float) -> None:
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])  # nbgrader runs alembic from PATH
    nbgrader = shutil.which("nbgrader", path=path)
    if nbgrader is None:
        raise ReleaseError(f"nbgrader is not installed next to {sys.executable}; run ./dev to install the project")
    db_folder = root / "build" / "nbgrader"  # where nbgrader_config.py puts the gradebook
    db_folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [nbgrader, "generate_assignment", assignment, "--force"],
            cwd=root, env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ReleaseError(f"nbgrader generate_assignment {assignment} took more than {timeout:g} s") from None
    if done.returncode != 0:
        log = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise ReleaseError(f"nbgrader generate_assignment {assignment} failed (exit status {done.returncode}):\n{log}")


def label_notebook(notebook: dict, assignment: str, install_from: str | None = None) -> dict:
    """``notebook`` with ``metadata["autograder"]`` set, and its install cell pointed at ``install_from``.

    Raises
    ------
    ReleaseError
        ``install_from`` is given but the notebook has no install cell
        (a code cell with the line ``AUTOGRADER_SOURCE = "..."``).
    """
    from .. import rubrics
    from ..engine.fingerprint import grader_fingerprint

    install = None
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        found = INSTALL_LINE.search(source) if cell.get("cell_type") == "code" else None
        if found is None:
            continue
        if install_from is not None:
            source = source[:found.start(1)] + json.dumps(install_from) + source[found.end(1):]
            cell["source"] = source.splitlines(keepends=True)
        install = json.loads(INSTALL_LINE.search(source).group(1))
        break
    if install_from is not None and install is None:
        raise ReleaseError(f"{assignment}: --install-from needs the install cell (a code cell with "
                           "`AUTOGRADER_SOURCE = \"...\"`, as in the bundled solutions/ notebooks); add it to the solution notebook")
    notebook.setdefault("metadata", {})["autograder"] = {
        "assignment": assignment,
        "grader": grader_fingerprint(rubrics.get(assignment)),
        "install": install,
    }
    return notebook


def normalize_notebook(notebook: dict) -> dict:
    """A notebook without what differs between runs: execution counts and outputs of code cells.

    >>> normalize_notebook({"cells": [{"cell_type": "code", "execution_count": 3, "outputs": [{}], "source": "1"}]})
    {'cells': [{'cell_type': 'code', 'execution_count': None, 'outputs': [], 'source': '1'}]}
    """
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
    return notebook


def notebook_text(notebook: dict) -> str:
    """The one JSON form released notebooks are written in (nbformat's: sorted keys, indent 1, UTF-8).

    >>> notebook_text({"b": 1, "a": "é"})
    '{\\n "a": "é",\\n "b": 1\\n}\\n'
    """
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"
