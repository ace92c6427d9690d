"""The grader's fingerprint: rubric digests follow the content, are the same in every process, and decide regrading."""

import dataclasses
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import hypothesis
import numpy as np
import pytest
import sqlalchemy as sa

import autograder
from autograder import rubrics
from autograder.classroom import batch
from autograder.classroom.gradebook import Gradebook, GradebookEntry
from autograder.engine import fingerprint
from autograder.engine.fingerprint import (
    fingerprint_differences,
    grader_fingerprint,
    rubric_digest,
    rubric_modules,
    significant_source,
)
from autograder.engine.secret import fingerprint_of
from autograder.rubrics import conv_layers, fast_conv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
SPEC = rubrics.get("conv_layers")


def _with_check(spec, function: str, index: int = 0, **changes):
    """A copy of ``spec`` with check ``index`` of ``function`` changed."""
    functions = []
    for item in spec.functions:
        if item.name == function:
            checks = list(item.checks)
            checks[index] = dataclasses.replace(checks[index], **changes)
            item = dataclasses.replace(item, checks=tuple(checks))
        functions.append(item)
    return dataclasses.replace(spec, functions=tuple(functions))


# --------------------------------------------------------------------------- the rubric digest


def test_version_is_the_short_rubric_digest():
    for spec in rubrics.ASSIGNMENTS.values():
        assert re.fullmatch(r"[0-9a-f]{12}", spec.version)
        assert spec.version == rubric_digest(spec)[:12]
    assert len({spec.version for spec in rubrics.ASSIGNMENTS.values()}) == 3


def test_a_copy_of_the_same_rubric_has_the_same_digest():
    copy = dataclasses.replace(SPEC, functions=tuple(dataclasses.replace(f) for f in SPEC.functions))
    assert copy is not SPEC and rubric_digest(copy) == rubric_digest(SPEC)
    assert dataclasses.replace(SPEC, title="Another title").version == SPEC.version  # only shown


_PROGRAM = """
import json, sys

class Refuse:  # the fingerprint must not need these
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "sqlalchemy", "nbgrader", "dask", "distributed", "matplotlib"}:
            raise ImportError(f"{name} is refused here")

sys.meta_path.insert(0, Refuse())
from autograder.engine import fingerprint
from autograder import rubrics
print(json.dumps({name: [spec.version, fingerprint.grader_fingerprint(spec, examples=7)]
                  for name, spec in rubrics.ASSIGNMENTS.items()}))
"""


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_the_digests_are_the_same_in_a_fresh_process_without_torch_or_sqlalchemy(hash_seed):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120)
    assert completed.returncode == 0, completed.stderr
    there = json.loads(completed.stdout)
    here = {name: [spec.version, grader_fingerprint(spec, examples=7)] for name, spec in rubrics.ASSIGNMENTS.items()}
    assert there == here


@pytest.mark.parametrize("name", sorted(rubrics.ASSIGNMENTS))
def test_no_address_or_id_enters_the_description(name):
    described = json.dumps(fingerprint._describe(rubrics.get(name), set()))
    assert not re.search(r"0x[0-9a-fA-F]{4,}", described)
    assert "strategies:conv_cases" in described or "strategies:" in described  # strategies named by their builder
    assert "hypothesis_temporary_module" not in described  # not by the wrapper Hypothesis made


_FORWARD = SPEC.function("conv_forward_naive").checks[0]
_CHANGED = {
    "a point value": _with_check(SPEC, "conv_forward_naive", points={**_FORWARD.points, "output values": 5}),
    "the points' order": _with_check(SPEC, "conv_forward_naive", points=dict(reversed(list(_FORWARD.points.items())))),
    "an examples count": _with_check(SPEC, "conv_forward_naive", examples=99),
    "a strategy bound": _with_check(SPEC, "conv_forward_naive", strategy=conv_layers.cases.conv_cases(
        max_batch=2, max_channels=3, max_filters=3, max_filter_size=4, max_stride=3, max_pad=2)),
    "a tolerance": _with_check(SPEC, "conv_forward_naive", rtol=1e-6),
    "a hint's text": _with_check(SPEC, "conv_forward_naive", hints=(
        dataclasses.replace(_FORWARD.hints[0], text="Another text."), *_FORWARD.hints[1:])),
    "a hint less": _with_check(SPEC, "conv_forward_naive", hints=_FORWARD.hints[1:]),
    "a description": _with_check(SPEC, "conv_forward_naive", description="other cases"),
    "a signature": dataclasses.replace(SPEC, functions=(dataclasses.replace(SPEC.functions[0], signature="zero_pad(x, p)"),
                                                        *SPEC.functions[1:])),
    "the name": dataclasses.replace(SPEC, name="conv_layers_2"),
    "the notebooks": dataclasses.replace(SPEC, notebooks=("other.ipynb",)),
}


@pytest.mark.parametrize("what", sorted(_CHANGED))
def test_changing_the_rubric_changes_its_digest(what):
    assert _CHANGED[what].version != SPEC.version
    assert grader_fingerprint(_CHANGED[what])["digest"] != grader_fingerprint(SPEC)["digest"]


def test_every_change_gives_its_own_digest():
    assert len({spec.version for spec in _CHANGED.values()} | {SPEC.version}) == len(_CHANGED) + 1


def test_the_speed_case_counts_by_its_values_and_limits():
    spec = rubrics.get("fast_conv")
    speed = spec.function("conv_forward_im2col").checks[1]
    x = speed.case.x.copy()
    x[0, 0, 0, 0] += 1.0
    other_values = _with_check(spec, "conv_forward_im2col", 1, case=dataclasses.replace(speed.case, x=x))
    other_ratio = _with_check(spec, "conv_forward_im2col", 1, max_ratio=fast_conv.MAX_RATIO + 1)
    other_repeats = _with_check(spec, "conv_forward_im2col", 1, repeats=speed.repeats + 1)
    assert len({spec.version, other_values.version, other_ratio.version, other_repeats.version}) == 4


def test_the_code_read_is_the_rubrics_and_the_grading_pipeline():
    modules = rubric_modules(SPEC)
    assert {"rubrics.conv_layers", "rubrics.strategies", "engine.hints", "engine.rubric", "engine.compare", "engine.grading",
            "engine.search", "engine.judge", "engine.expected", "engine.secret", "engine.submission"} <= set(modules)
    assert not [m for m in modules if m.startswith("sandbox") or m in ("engine.fingerprint", "rubrics.conv_extras", "rubrics.fast_conv")]
    assert "rubrics.conv_layers" in rubric_modules(rubrics.get("conv_extras"))  # it imports conv_layers' points


@pytest.fixture()
def package_copy(tmp_path, monkeypatch):
    """A copy of the package's sources that the digest reads instead of the real ones."""
    copy = tmp_path / "autograder"
    shutil.copytree(Path(autograder.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "_ROOT", copy)
    assert rubric_digest(SPEC) == rubric_digest(dataclasses.replace(SPEC))
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_hints_code_changes_the_digest_its_comments_do_not(package_copy):
    before = rubric_digest(SPEC)
    _edit(package_copy / "engine" / "hints.py", '"""Known mistakes', '# a new comment\n\n"""Known mistakes, reworded')
    assert rubric_digest(SPEC) == before  # a comment, a docstring, a blank line
    _edit(package_copy / "engine" / "hints.py", "np.any(c.case.b != 0)", "np.all(c.case.b != 0)")  # when "bias forgotten" is told
    assert rubric_digest(SPEC) != before


def test_a_strategy_bound_in_the_strategies_code_changes_the_digest(package_copy):
    before = rubric_digest(SPEC)
    _edit(package_copy / "rubrics" / "strategies.py", "max_pad: int = 3,", "max_pad: int = 4,")  # conv_geometries' default
    assert rubric_digest(SPEC) != before


def test_the_grading_code_counts_the_sandbox_and_other_rubrics_do_not(package_copy):
    before = rubric_digest(SPEC)
    (package_copy / "sandbox" / "parent.py").write_text((package_copy / "sandbox" / "parent.py").read_text() + "\nX = 1\n")
    (package_copy / "rubrics" / "fast_conv.py").write_text((package_copy / "rubrics" / "fast_conv.py").read_text() + "\nX = 1\n")
    assert rubric_digest(SPEC) == before
    (package_copy / "engine" / "judge.py").write_text((package_copy / "engine" / "judge.py").read_text() + "\nX = 1\n")
    assert rubric_digest(SPEC) != before


def test_significant_source_drops_comments_docstrings_and_blank_lines_only():
    source = 'r"""Module."""\n\nimport os  # why\n\n\ndef f(x):\n    """Doc."""\n    s = "kept"  \n    return x + 1\r\n'
    assert significant_source(source) == 'import os\ndef f(x):\n    s = "kept"\n    return x + 1'
    assert significant_source(source.encode()) == significant_source(source)
    assert significant_source(source.replace("x + 1", "x + 2")) != significant_source(source)


# --------------------------------------------------------------------------- the grader fingerprint


def test_the_fingerprint_holds_the_versions_and_a_digest_of_them():
    found = grader_fingerprint(SPEC)
    assert list(found) == ["assignment", "package", "rubric", "hypothesis", "numpy", "python", "examples", "digest"]
    assert found == {
        "assignment": "conv_layers", "package": autograder.__version__, "rubric": SPEC.version,
        "hypothesis": hypothesis.__version__, "numpy": np.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}", "examples": None, "digest": found["digest"],
    }
    assert re.fullmatch(r"[0-9a-f]{12}", found["digest"])
    assert json.loads(json.dumps(found)) == found


def test_the_package_version_is_the_projects():
    # pyproject.toml reads it from the package: one place, whatever the distribution's name.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "autograder.__version__"}
    assert importlib.metadata.version("conv-autograder") == autograder.__version__


@pytest.mark.parametrize("module, attribute, value", [
    (hypothesis, "__version__", "6.151.0"),
    (np, "__version__", "1.26.4"),
    (autograder, "__version__", "0.0.9"),
])
def test_every_version_changes_the_digest(monkeypatch, module, attribute, value):
    before = grader_fingerprint(SPEC)["digest"]
    monkeypatch.setattr(module, attribute, value)
    assert grader_fingerprint(SPEC)["digest"] != before


def test_python_counts_as_major_minor(monkeypatch):
    before = grader_fingerprint(SPEC)
    patch = int(before["python"].split(".")[1])
    monkeypatch.setattr(fingerprint.platform, "python_version_tuple", lambda: ("3", str(patch), "99"))
    assert grader_fingerprint(SPEC) == before
    monkeypatch.setattr(fingerprint.platform, "python_version_tuple", lambda: ("3", str(patch + 1), "0"))
    assert grader_fingerprint(SPEC)["python"] == f"3.{patch + 1}" and grader_fingerprint(SPEC)["digest"] != before["digest"]


def test_an_examples_override_changes_the_digest():
    assert len({grader_fingerprint(SPEC, examples=n)["digest"] for n in (None, 5, 8)}) == 3


# --------------------------------------------------------------------------- differences told to a student


def test_the_same_fingerprint_has_no_differences():
    assert fingerprint_differences(grader_fingerprint(SPEC), grader_fingerprint(SPEC)) == []


def test_another_hypothesis_says_what_to_install():
    here = {**grader_fingerprint(SPEC), "hypothesis": "6.170.29"}
    course = {**here, "hypothesis": "6.151.0", "digest": "0" * 12}
    assert fingerprint_differences(course, here) == [
        "Hypothesis 6.170.29 here, 6.151.0 in the course: the cases drawn here may differ from the grader's; "
        "pip install hypothesis==6.151.0"
    ]


def test_each_difference_has_its_own_line_in_a_fixed_order():
    here = grader_fingerprint(SPEC)
    course = {**here, "package": "0.0.9", "rubric": "0123456789ab", "numpy": "1.26.4", "python": "3.99", "examples": 8,
              "digest": "0" * 12}
    lines = fingerprint_differences(course, here)
    assert len(lines) == 5
    package, rubric, numpy_line, python_line, examples = lines
    assert package.startswith(f"autograder package {autograder.__version__} here, 0.0.9 in the course: ")
    assert "0.0.9" in package.rsplit(";", 1)[1]  # what to install
    assert rubric.startswith(f"rubric of conv_layers {SPEC.version} here, 0123456789ab in the course: ")
    assert numpy_line == (f"NumPy {np.__version__} here, 1.26.4 in the course: the cases drawn here may differ from the "
                          "grader's; pip install numpy==1.26.4")
    assert python_line.startswith(f"Python {here['python']} here, 3.99 in the course: ") and "python3.99 -m venv" in python_line
    assert examples.startswith("cases per check: the rubric's own here, 8 in the course: ") and examples.endswith("examples=8")


def test_a_rubric_changed_under_the_same_package_version_says_reinstall():
    here = grader_fingerprint(SPEC)
    [line] = fingerprint_differences({**here, "rubric": "0123456789ab", "digest": "0" * 12}, here)
    assert "reinstall" in line and "--force-reinstall" in line


def test_a_course_fingerprint_without_a_key_says_so():
    here = grader_fingerprint(SPEC)
    course = {key: value for key, value in here.items() if key not in ("numpy", "digest")}
    [line] = fingerprint_differences(course, here)
    assert line.startswith(f"NumPy {np.__version__} here, not recorded in the course's fingerprint")


# --------------------------------------------------------------------------- a class run regrades what no longer matches


@pytest.fixture()
def small_class(tmp_path):
    """Three conv_layers submissions; quick to grade at a few cases."""
    for name in ("correct", "stub", "buggy_bias_forgotten"):
        folder = tmp_path / "submissions" / name / "conv_layers"
        folder.mkdir(parents=True)
        (folder / "conv_layers.py").write_text((EXAMPLES / f"{name}.py").read_text())
    return tmp_path / "submissions"


def _in_this_process(jobs, workers, examples, *, secret=b"", kept=(), run=None):
    """The pool's stand-in: each job graded here, so what this process's fingerprint reads is what grades."""
    for job in jobs:
        yield batch.grade_job(job, examples, secret)


def _rows(out) -> dict[str, tuple[str, str, str]]:
    with Gradebook(out / "gradebook.db") as book:
        return {e.student: (e.grader_fingerprint, e.grader.get("hypothesis"), e.graded_at + str(e.seconds)) for e in book.entries()}


def _run(small_class, out, **options):
    return batch.grade_class(small_class, out=out, workers=2, examples=5, secret=b"course", export=False, **options)


def test_a_changed_version_regrades_exactly_the_rows_it_no_longer_matches(small_class, tmp_path, monkeypatch):
    out = tmp_path / "grades"
    first = _run(small_class, out)
    real = grader_fingerprint(SPEC, examples=5)
    assert (first.graded, first.skipped, first.grader_mismatches) == (3, 0, [])
    assert first.grader_fingerprints == {"conv_layers": real}
    graded = _rows(out)
    assert {row[:2] for row in graded.values()} == {(real["digest"], hypothesis.__version__)}
    with Gradebook(out / "gradebook.db") as book:
        [entry, *_] = book.entries()
        assert {key: entry.grader[key] for key in real} == real  # the worker's whole fingerprint

    again = _run(small_class, out)
    assert (again.graded, again.skipped) == (0, 3) and _rows(out) == graded

    # This process now sees another Hypothesis: it decides what to skip, and (standing in for the pool) grades.
    monkeypatch.setattr(hypothesis, "__version__", "6.151.0")
    monkeypatch.setattr(batch, "_pool_results", _in_this_process)
    other = grader_fingerprint(SPEC, examples=5)
    assert other["digest"] != real["digest"]
    one = _run(small_class, out, student="correct")
    assert (one.graded, one.skipped) == (1, 0)
    rows = _rows(out)
    assert rows["correct"][:2] == (other["digest"], "6.151.0") and rows["correct"][2] != graded["correct"][2]
    assert {student: row for student, row in rows.items() if student != "correct"} == {s: r for s, r in graded.items() if s != "correct"}

    rest = _run(small_class, out)  # only the two rows still under the old fingerprint
    assert (rest.graded, rest.skipped, rest.grader_mismatches) == (2, 1, [])
    assert {row[:2] for row in _rows(out).values()} == {(other["digest"], "6.151.0")}
    assert _rows(out)["correct"] == rows["correct"]
    final = _run(small_class, out)
    assert (final.graded, final.skipped) == (0, 3)


def test_workers_with_another_fingerprint_are_told_and_their_rows_graded_again(small_class, tmp_path, monkeypatch):
    out = tmp_path / "grades"
    real = grader_fingerprint(SPEC, examples=5)
    monkeypatch.setattr(hypothesis, "__version__", "6.151.0")  # this process only: the pool's workers have the real one
    mixed = _run(small_class, out)
    assert mixed.graded == 3
    assert {row[:2] for row in _rows(out).values()} == {(real["digest"], real["hypothesis"])}  # what really drew the cases
    [line] = mixed.grader_mismatches
    assert f"with grader fingerprint {real['digest']}, this machine's is {grader_fingerprint(SPEC, examples=5)['digest']}" in line
    assert f"hypothesis {real['hypothesis']} there, 6.151.0 here" in line
    assert _run(small_class, out).graded == 3  # never skipped while the two disagree


def test_an_old_gradebook_opens_and_its_rows_are_graded_again(small_class, tmp_path):
    out = tmp_path / "grades"
    out.mkdir()
    engine = sa.create_engine(f"sqlite:///{out / 'gradebook.db'}")
    with engine.begin() as connection:  # the table before grader_fingerprint, with rows matching everything else
        connection.exec_driver_sql(
            "CREATE TABLE submissions (student VARCHAR(255), assignment VARCHAR(255), content_hash VARCHAR(64) NOT NULL, "
            "rubric_version VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL, error TEXT NOT NULL, points FLOAT NOT NULL, "
            "max_points FLOAT NOT NULL, seconds FLOAT NOT NULL, graded_at VARCHAR(40) NOT NULL, result_json TEXT NOT NULL, "
            "secret_fingerprint VARCHAR(64) NOT NULL DEFAULT '', grader_json TEXT NOT NULL DEFAULT '{}', "
            "timestamp VARCHAR(40) NOT NULL DEFAULT '', due_date VARCHAR(40) NOT NULL DEFAULT '', "
            "seconds_late FLOAT NOT NULL DEFAULT 0, late_penalty FLOAT NOT NULL DEFAULT 0, PRIMARY KEY (student, assignment))")
        for folder in sorted(small_class.iterdir()):
            connection.exec_driver_sql(
                "INSERT INTO submissions (student, assignment, content_hash, rubric_version, status, error, points, max_points, "
                "seconds, graded_at, result_json, secret_fingerprint) VALUES (?, 'conv_layers', ?, ?, 'graded', '', 1, 33, 1, "
                "'old', '{}', ?)",
                (folder.name, batch.fingerprint(folder / "conv_layers"), SPEC.version, fingerprint_of(b"course")))
    engine.dispose()
    summary = _run(small_class, out)
    assert (summary.graded, summary.skipped) == (3, 0)
    digest = grader_fingerprint(SPEC, examples=5)["digest"]
    with Gradebook(out / "gradebook.db") as book:
        entries = book.entries()
    assert {(e.grader_fingerprint, e.graded_at == "old") for e in entries} == {(digest, False)}
    assert {e.student: e.points for e in entries}["correct"] == 33
    final = _run(small_class, out)
    assert (final.graded, final.skipped) == (0, 3)


def test_a_worker_without_a_fingerprint_is_named_once():
    summary = batch.BatchSummary(grader_fingerprints={"conv_layers": grader_fingerprint(SPEC)})
    broken = GradebookEntry("ann", "conv_layers", "h", SPEC.version, "graded", 1, 33,
                            grader={"fingerprint": "unavailable (OSError: gone)", "machine": "node-2"})
    batch._note_mismatch(summary, broken)
    batch._note_mismatch(summary, dataclasses.replace(broken, student="bob"))
    batch._note_mismatch(summary, dataclasses.replace(broken, grader={}))  # a stand-in for a dead worker: nothing to say
    assert summary.grader_mismatches == ["node-2 could not compute its grader fingerprint for conv_layers "
                                         "(unavailable (OSError: gone)): its submissions are graded again by every run"]
