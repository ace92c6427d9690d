"""The students' package in a fresh virtual environment: no reference, no nbgrader, and it grades as the course does.

Slow (about two minutes): it makes a venv, installs torch (CPU, from this
machine's files), the wheel ``./dev wheel`` builds and ipykernel, then runs
``autograder check`` there and a released notebook in a kernel of that venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from student_package import load_builder

from autograder import rubrics
from autograder.nbgrader.release import label_notebook

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _pip(python: Path, *args: str, timeout: float = 900) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory) -> dict:
    """A venv with torch, the students' wheel (at constraints.txt's pins) and ipykernel, and nothing of the course."""
    work = tmp_path_factory.mktemp("student")
    wheel = next(p for p in load_builder().build(work / "dist") if p.suffix == ".whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    _pip(python, "torch==2.13.0")  # the CPU build on this machine's disk (see constraints.txt)
    _pip(python, str(wheel), "ipykernel", "-c", str(ROOT / "constraints.txt"))
    return {"python": python, "autograder": venv / "bin" / "autograder", "wheel": wheel, "root": work}


def _in_venv(venv: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv["autograder"]), *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=environment)


def test_nothing_of_the_instructors_is_installed(student_venv):
    code = ("import importlib.util as u\n"
            "def found(m):\n"
            "    try:\n"
            "        return u.find_spec(m) is not None\n"
            "    except ModuleNotFoundError:  # its package is missing\n"
            "        return False\n"
            "print([m for m in ('reference', 'nbgrader', 'distributed', 'sqlalchemy', 'matplotlib', 'autograder.classroom',\n"
            "                   'autograder.classroom.batch', 'autograder.nbgrader', 'autograder.outputs.report',\n"
            "                   'autograder.cli.instructor') if found(m)])")
    done = subprocess.run([str(student_venv["python"]), "-c", code], capture_output=True, text=True, cwd=student_venv["root"],
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("assignment", sorted(rubrics.ASSIGNMENTS))
def test_check_grades_a_finished_notebook_at_full_marks_knowing_its_assignment(student_venv, tmp_path, assignment, course):
    finished = course.fill(course.released(assignment), course.answers(course.solution(assignment)))
    path = course.write(finished, tmp_path / "my work.ipynb")  # a name that says nothing: the metadata tells
    done = _in_venv(student_venv, "check", str(path), cwd=tmp_path)
    spec = rubrics.get(assignment)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"against {assignment} (from the notebook's metadata)" in done.stderr
    assert "note:" not in done.stderr, done.stderr  # the students' package is the grader the notebook was released for
    assert f"{spec.max_points:g} / {spec.max_points:g} points" in done.stdout
    assert "expected values from the torch oracle" in done.stdout


def test_check_infers_from_functions_and_docks_a_buggy_file(student_venv, tmp_path):
    buggy = shutil.copy(ROOT / "examples" / "conv_layers" / "buggy_bias_forgotten.py", tmp_path / "attempt.py")
    done = _in_venv(student_venv, "check", str(buggy), cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "against conv_layers (from the functions it defines" in done.stderr
    assert "/ 33 points" in done.stdout and "33 / 33 points" not in done.stdout
    assert "bias" in done.stdout  # the hint names the mistake


def test_a_released_notebook_installs_the_package_and_runs_top_to_bottom(student_venv, tmp_path, monkeypatch, course):
    """The first cell installs the wheel (as from a course's URL), then every cell runs in the venv's kernel."""
    import nbformat
    from nbclient import NotebookClient

    subprocess.run([str(student_venv["python"]), "-m", "pip", "uninstall", "--yes", "--quiet", "conv-autograder-student"],
                   check=True, timeout=300)
    assignment = "conv_layers"
    finished = course.fill(course.released(assignment), course.answers(course.solution(assignment)))
    finished = label_notebook(finished, assignment, install_from=str(student_venv["wheel"]))
    kernels = tmp_path / "jupyter" / "kernels" / "student"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(student_venv["python"]), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "student venv", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    notebook = nbformat.reads(json.dumps(finished), as_version=4)
    NotebookClient(notebook, kernel_name="student", timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = {cell.get("id"): cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"}
    install = "".join(o.get("text", "") for o in outputs["install-autograder"])
    assert "Installed the course's checker, autograder" in install
    errors = [o for cell_outputs in outputs.values() for o in cell_outputs if o.get("output_type") == "error"]
    assert not errors, errors[0]
    spec = rubrics.get(assignment)
    scores = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        results = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and results:
            scores[grade_id] = float(results[0]["data"]["text/plain"])
    assert scores == {f.name: f.max_points for f in spec.functions}
