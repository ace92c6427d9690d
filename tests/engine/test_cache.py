"""Grading writes nothing into the folder it runs from: Hypothesis's files go to the grader's cache.

Each test grades from a folder holding a submission (as a student's notebook
folder, nbgrader's ``autograded/`` folder or a course root would) and checks
that the folder's tree, hidden files included, is exactly what it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from click.testing import CliRunner
from hypothesis import configuration
from hypothesis.configuration import storage_directory

import autograder
from autograder import notebook
from autograder.cli import main
from autograder.engine import cache
from autograder.engine.secret import COURSE_SECRET_FILE
from autograder.nbgrader.execute import SandboxedExecute

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"


def _tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too), with a digest of each file's content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder holding a correct and a buggy submission, made the current folder.

    Hypothesis fixes its default storage (``.hypothesis/`` of the current
    folder) when first imported; this process imported it elsewhere, so the
    default is set as a process started in this folder would have it.
    """
    work = tmp_path / "work"
    work.mkdir()
    for name in ("correct.py", "buggy_bias_forgotten.py"):
        shutil.copy(EXAMPLES / name, work / name)
    monkeypatch.chdir(work)
    monkeypatch.setattr(configuration, "__hypothesis_home_directory", work / ".hypothesis")
    return work


def test_hypothesis_storage_is_the_cache_inside_and_what_it_was_after(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    cache.cache_dir.cache_clear()
    try:
        before = storage_directory("constants", intent_to_write=False).path
        with cache.hypothesis_storage() as storage:
            assert storage == tmp_path / "cache" / "hypothesis"
            assert storage_directory("constants", intent_to_write=False).path == storage / "constants"
        assert storage_directory("constants", intent_to_write=False).path == before
    finally:
        cache.cache_dir.cache_clear()


def test_an_unchosen_hypothesis_storage_stays_in_the_cache_after_a_run(tmp_path, monkeypatch):
    """Not handed back to "the current folder": another grading in this process may still be running."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setattr(configuration, "__hypothesis_home_directory", None)
    with cache.hypothesis_storage() as storage:
        pass
    assert storage_directory("constants", intent_to_write=False).path == storage / "constants"
    assert not storage.is_relative_to(tmp_path)


def test_cache_dir_falls_back_when_the_named_one_cannot_be_created(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    cache.cache_dir.cache_clear()
    try:
        assert cache.cache_dir() != blocker / "cache" and cache.cache_dir().is_dir()
    finally:
        cache.cache_dir.cache_clear()


def test_grading_through_the_api_leaves_the_folder_unchanged(folder):
    before = _tree(folder)
    result = autograder.grade("buggy_bias_forgotten.py", assignment="conv_layers", examples=20)
    assert 0 < result.points < result.max_points
    assert _tree(folder) == before


def test_autograder_check_and_demo_leave_the_folder_unchanged(folder):
    before = _tree(folder)
    checked = CliRunner().invoke(main, ["check", "correct.py", "--examples", "10"])
    assert checked.exit_code == 0, checked.output
    # demo's Hypothesis run collects constants from the grader's own modules: a .hypothesis/ here before.
    demo = CliRunner().invoke(main, ["demo", "--examples", "3", "--op", "conv_forward"])
    assert demo.exit_code == 0, demo.output
    assert _tree(folder) == before


def test_autograder_grade_leaves_the_submissions_unchanged(folder, tmp_path):
    submissions = folder / "submissions"
    (submissions / "alice" / "conv_layers").mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct.py", submissions / "alice" / "conv_layers" / "conv_layers.py")
    before = _tree(folder)
    graded = CliRunner().invoke(main, ["grade", str(submissions), "--out", str(tmp_path / "grades"),
                                       "--workers", "1", "--examples", "10"])
    assert graded.exit_code == 0, graded.output
    assert _tree(folder) == before


def test_the_notebook_helpers_leave_the_students_folder_unchanged(folder, monkeypatch):
    source = (EXAMPLES / "correct.py").read_text()
    namespace: dict = {}
    exec(compile(source, "correct.py", "exec"), namespace)
    shell = SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", source, "check()"]), user_ns=namespace)
    monkeypatch.setattr(notebook, "_shell", lambda: shell)
    before = _tree(folder)
    assert notebook.points("conv_forward_naive") == 7
    notebook.check()
    assert _tree(folder) == before


def test_the_nbgrader_step_leaves_the_course_unchanged(folder, tmp_path):
    # nbgrader runs its preprocessors from the course root, beside the course secret.
    (folder / COURSE_SECRET_FILE).write_text("00" * 32 + "\n")
    graded = folder / "autograded" / "alice" / "conv_layers"
    graded.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "conv_layers" / "conv_layers.ipynb", graded / "conv_layers.ipynb")
    before = _tree(folder)
    nb = nbformat.read(graded / "conv_layers.ipynb", as_version=4)
    resources = {"nbgrader": {"assignment": "conv_layers", "notebook": "conv_layers", "student": "alice"}}
    nb, _ = SandboxedExecute().preprocess(nb, resources)
    scores = [json.loads(o["data"]["text/plain"]) for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "execute_result"]
    assert sum(scores) == 33
    assert _tree(folder) == before
