"""The class's figures agree everywhere: `autograder grade`'s summary, grades.json and the report.

A class with a late submission, an ungradable one, an internal error and a
missing student: the mean, median and full marks are over the graded
submissions only, and each output says how many it left out.
"""

import json
import re
import statistics

import pytest
from click.testing import CliRunner

from autograder import rubrics
from autograder.classroom.batch import BatchSummary, write_outputs
from autograder.classroom.gradebook import GradebookEntry
from autograder.cli import instructor as cli_instructor
from autograder.cli import main
from autograder.engine.grading import failed_result
from autograder.engine.results import Status

SPEC = rubrics.get("conv_layers")


def _entry(student, status=Status.GRADED, failing=(), late_penalty=0.0, error=""):
    """An entry whose result passes every property but those of the ``failing`` functions."""
    result = failed_result(f"{student}.py", SPEC, status, error)
    if status == Status.GRADED:
        for function in result.functions:
            function.note = ""
            for prop in function.properties:
                prop.passed, prop.message = function.name not in failing, ""
    points = result.points if status == Status.GRADED else 0.0
    return GradebookEntry(student, SPEC.name, "0" * 64, SPEC.version, status, points, result.max_points, 1.0, error,
                          result.to_dict(), late_penalty=late_penalty, seconds_late=3600.0 if late_penalty else 0.0)


@pytest.fixture(scope="module")
def entries():
    return [
        _entry("alice"),
        _entry("bob", failing=("conv_forward_naive",)),
        _entry("carol", failing=("conv_backward_naive", "zero_pad"), late_penalty=4.0),
        _entry("dave", failing=tuple(f.name for f in SPEC.functions)),  # a stub: graded, 0
        _entry("olga", Status.UNGRADABLE, error="conv.ipynb: expected a Jupyter notebook (JSON)"),
        _entry("pat", Status.INTERNAL_ERROR, error="RuntimeError: worker died"),
        GradebookEntry("quinn", SPEC.name, "", SPEC.version, Status.MISSING, 0.0, float(SPEC.max_points), error="no submission"),
    ]


@pytest.fixture(scope="module")
def outputs(entries, tmp_path_factory):
    """What `autograder grade` prints and writes for this class (the grading itself stood in for)."""
    out = tmp_path_factory.mktemp("grades")

    def graded_class(submissions, **options):
        return BatchSummary(jobs=6, graded=6, ungradable=1, internal_errors=1, entries=entries,
                            outputs=write_outputs(entries, out), db_url="sqlite:///gradebook.db")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli_instructor, "grade_class", graded_class)
        run = CliRunner().invoke(main, ["grade", str(out), "--out", str(out)])
    assert run.exit_code == 3, run.output  # an internal error
    summary = json.loads((out / "grades.json").read_text(encoding="utf-8"))["summary"]["assignments"][SPEC.name]
    return " ".join(run.output.split()), summary, (out / "report.html").read_text(encoding="utf-8")


def _graded_points(entries):
    return [entry.points for entry in entries if entry.status == Status.GRADED]


def test_the_mean_is_over_the_graded_submissions(entries, outputs):
    cli, summary, page = outputs
    points = _graded_points(entries)
    assert len(points) == 4 and 0.0 in points  # the stub's zero is a score
    mean, median = statistics.fmean(points), statistics.median(points)
    assert summary["mean_score"] == pytest.approx(mean) and summary["median_score"] == pytest.approx(median)
    assert summary["mean_final_score"] == pytest.approx(mean - 4.0 / 4)
    assert f"│ {mean:.1f} / 33" in cli
    assert f"<b>{mean:.1f}</b><span>mean points</span>" in page
    assert f"<b>{median:g}</b><span>median points</span>" in page


def test_the_three_outputs_show_the_same_figures(outputs):
    cli, summary, page = outputs
    shown_cli = re.search(r"│ conv_layers │ (\d+) │ (\d+\.\d) / 33", cli)
    shown_page = re.search(r"<b>([\d.]+)</b><span>mean points</span>", page)
    assert shown_cli and shown_page
    assert shown_cli[2] == shown_page[1] == f"{summary['mean_score']:.1f}"
    assert int(shown_cli[1]) == summary["count"] == 6
    assert f"<b>{summary['count']}</b><span>submissions</span>" in page
    assert f"<b>{summary['late']}</b><span>late</span>" in page


def test_each_output_says_what_it_left_out(outputs):
    cli, summary, page = outputs
    assert (summary["excluded"], summary["ungradable"], summary["internal error"], summary["missing"]) == (2, 1, 1, 1)
    assert "are left out (conv_layers: 1 ungradable submission and 1 internal error)." in cli
    assert "Left out here: 1 ungradable submission and 1 internal error." in page


def test_full_marks_count_graded_submissions_only(outputs):
    cli, _, page = outputs
    assert "<b>1</b><span>full marks</span>" in page  # alice alone
    row = re.search(r"│ conv_layers │ 6 │ [^│]+│ (\d+) │ (\d+) │ (\d+) │ (\d+) │ (\d+) │", cli)
    assert row and row.groups() == ("1", "1", "1", "1", "1")  # full marks, late, ungradable, internal errors, missing
