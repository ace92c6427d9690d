"""Shared pieces of the course tests: the repository's course, temp copies of it, notebook surgery."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.nbgrader.release import source_assignments

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Assignments with a solution notebook in the repository.
ASSIGNMENTS = source_assignments(ROOT)


#: One buggy variant per assignment: (solution cell, code replaced, replacement, functions that lose points).
BUGS = {
    "conv_layers": [
        ("conv_forward_naive_code", "np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])", "conv_forward_naive"),
        ("max_pool_backward_naive_code", "dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]",
         "dx[n, c, i * stride:i * stride + PH, j * stride:j * stride + PW] += dout[n, c, i, j] / (PH * PW)",
         "max_pool_backward_naive"),
    ],
    "conv_extras": [
        ("convolve2d_code", "flipped = kernel[::-1, ::-1]", "flipped = kernel", "convolve2d"),
        ("avg_pool_backward_code", "share = dout / (PH * PW)", "share = dout", "avg_pool_backward"),
        ("fc_param_count_code", "biases = out_features if bias else 0", "biases = 0", "fc_param_count"),
    ],
    "fast_conv": [
        ("conv_forward_im2col_code", "w.reshape(F, -1) @ x_col + b[:, None]", "w.reshape(F, -1) @ x_col", "conv_forward_im2col"),
        ("conv_backward_im2col_code", "db = dout_rows.sum(axis=1)", "db = dout_rows.sum(axis=1) * 2", "conv_backward_im2col"),
    ],
}


class Course:
    """Helpers over the course at ``ROOT`` and over temp copies of it."""

    root = ROOT
    assignments = ASSIGNMENTS

    @staticmethod
    def env() -> dict:
        """The environment nbgrader needs: the venv's bin first on PATH (nbgrader calls alembic).

        ``PYTHONPATH`` starts with the repository under test, so that a subprocess run
        in a course copy (``python -m autograder.cli``, nbgrader loading our
        preprocessors and plugins) imports this checkout, not an installed copy.
        """
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        return {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), "PYTHONPATH": path}

    @staticmethod
    def nbgrader(*args, cwd, timeout=900) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / "nbgrader"), *map(str, args)], cwd=cwd, env=Course.env(),
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"nbgrader {' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    @staticmethod
    def copy_course(target: Path, *, released: bool = True) -> Path:
        """A copy of the course (config, solutions, and the committed assignments) in ``target``."""
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "nbgrader_config.py", target / "nbgrader_config.py")
        shutil.copytree(ROOT / "solutions", target / "solutions")
        if released and (ROOT / "assignments").exists():
            shutil.copytree(ROOT / "assignments", target / "assignments")
        return target

    @staticmethod
    def solution(assignment: str) -> dict:
        return Course.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")

    @staticmethod
    def released(assignment: str) -> dict:
        return Course.read(ROOT / "assignments" / assignment / f"{assignment}.ipynb")

    @staticmethod
    def read(path: Path) -> dict:
        return json.loads(Path(path).read_text(encoding="utf-8"))

    @staticmethod
    def write(notebook: dict, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        return path

    @staticmethod
    def cleared(notebook: dict) -> dict:
        """The notebook with every output and execution count cleared."""
        notebook = copy.deepcopy(notebook)
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        return notebook

    @staticmethod
    def grade_id(cell: dict) -> str | None:
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    @staticmethod
    def source(cell: dict) -> str:
        text = cell["source"]
        return text if isinstance(text, str) else "".join(text)

    @staticmethod
    def fill(stub: dict, answers: dict[str, str]) -> dict:
        """A released notebook whose solution cells (by grade id ``<function>_code``) hold ``answers``."""
        notebook = copy.deepcopy(stub)
        for cell in notebook["cells"]:
            if Course.grade_id(cell) in answers:
                cell["source"] = answers[Course.grade_id(cell)]
        return notebook

    @staticmethod
    def answers(notebook: dict) -> dict[str, str]:
        """The solution cells' sources by grade id, markers removed (what a student would write)."""
        found = {}
        for cell in notebook["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution"):
                lines = [line for line in Course.source(cell).splitlines(keepends=True)
                         if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
                found[meta["grade_id"]] = "".join(lines)
        return found

    @staticmethod
    def buggy(notebook: dict, assignment: str) -> dict:
        """``notebook`` (a solution, or a filled stub) with the assignment's bugs of `BUGS` put in."""
        for grade_id, old, new, _ in BUGS[assignment]:
            notebook = Course.mutate(notebook, grade_id, old, new)
        return notebook

    @staticmethod
    def bugged_functions(assignment: str) -> set[str]:
        return {function for *_, function in BUGS[assignment]}

    @staticmethod
    def mutate(notebook: dict, grade_id: str, old: str, new: str) -> dict:
        """The notebook with ``old`` replaced by ``new`` in the cell ``grade_id`` (which must contain it)."""
        notebook = copy.deepcopy(notebook)
        cell = next(c for c in notebook["cells"] if Course.grade_id(c) == grade_id)
        text = Course.source(cell)
        assert old in text, f"{old!r} not in {grade_id}"
        cell["source"] = text.replace(old, new)
        return notebook


@pytest.fixture(scope="session")
def course() -> type[Course]:
    return Course


@pytest.fixture(scope="session")
def released_course(tmp_path_factory) -> Path:
    """A copy of the course's sources released by the real `autograder release` (read only: copy it to change it).

    Its ``assignments/`` is what nbgrader generates today; its ``build/nbgrader/gradebook.db``
    holds the assignments, notebooks and grade cells, as after an instructor's release.
    """
    root = Course.copy_course(tmp_path_factory.mktemp("released") / "course", released=False)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "release", "--course", str(root)],
                          capture_output=True, text=True, env=Course.env(), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("released: ") == len(ASSIGNMENTS)
    return root
