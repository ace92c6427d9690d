"""Exports of the gradebook: CSV columns and values, JSON round trip, Gradescope results, feedback, safe paths."""

import csv
import json
from pathlib import Path

import pytest

from autograder import grade
from autograder.classroom.gradebook import GradebookEntry
from autograder.engine.results import SubmissionResult
from autograder.outputs import exports
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conv_layers"
FAST = 5  # cases per check: every bundled mistake below is caught within a handful
LIMITS = Limits(call_timeout=2.0, budget=60.0)
FUNCTIONS = [
    "zero_pad",
    "conv_output_size",
    "conv_param_count",
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
]
BIAS_HINT = "Your output is exactly the expected one minus the bias"


def _entry(student: str, result: SubmissionResult) -> GradebookEntry:
    return GradebookEntry(
        student=student,
        assignment=result.assignment,
        content_hash="0" * 64,
        rubric_version=result.rubric_version,
        status=result.status,
        points=result.points,
        max_points=result.max_points,
        seconds=result.seconds,
        error=result.error,
        result=result.to_dict(),
        graded_at="2026-01-15T09:30:00+00:00",
    )


@pytest.fixture(scope="module")
def entries(tmp_path_factory) -> list[GradebookEntry]:
    """Real grading results for four students, an unreadable notebook and an internal error."""
    graded = [
        _entry(student, grade(EXAMPLES / f"{example}.py", examples=FAST, limits=LIMITS))
        for student, example in [("alice", "correct"), ("bob", "buggy_bias_forgotten"), ("carol", "buggy_nhwc"), ("dave", "stub")]
    ]
    broken = tmp_path_factory.mktemp("olga") / "conv.ipynb"
    broken.write_text("this is not a notebook", encoding="utf-8")
    ungradable = _entry("olga", grade(broken, examples=FAST, limits=LIMITS))
    assert ungradable.status == "ungradable"
    internal = GradebookEntry("pat", "conv_layers", "1" * 64, "1", "internal error", 0.0, 33.0, 0.4, "RuntimeError: worker died", {})
    return [*graded, ungradable, internal]


def _by_student(entries, student):
    return next(entry for entry in entries if entry.student == student)


# ---------------------------------------------------------------- CSV


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_csv_has_nbgrader_columns_then_functions_then_status(entries, tmp_path):
    path = exports.write_csv(entries, tmp_path / "grades.csv")
    header = next(csv.reader(path.open(newline="", encoding="utf-8")))
    assert header == [*exports.CSV_COLUMNS, *FUNCTIONS, "status", "error"]
    assert exports.CSV_COLUMNS[:4] == ("assignment", "duedate", "timestamp", "student_id")


def test_csv_values(entries, tmp_path):
    rows = {row["student_id"]: row for row in _read_csv(exports.write_csv(entries, tmp_path / "grades.csv"))}
    assert [row for row in rows] == ["alice", "bob", "carol", "dave", "olga", "pat"]
    assert (rows["alice"]["score"], rows["alice"]["raw_score"], rows["alice"]["max_score"]) == ("33", "33", "33")
    assert (rows["bob"]["score"], rows["bob"]["conv_forward_naive"], rows["bob"]["zero_pad"]) == ("29", "3", "4")
    assert (rows["carol"]["score"], rows["carol"]["conv_forward_naive"]) == ("27", "1")
    assert rows["dave"]["score"] == "0" and rows["dave"]["status"] == "graded"
    assert rows["bob"]["late_submission_penalty"] == "0"
    assert rows["bob"]["duedate"] == rows["bob"]["email"] == ""
    assert rows["bob"]["timestamp"] == ""  # no timestamp.txt: when it was submitted is unknown (never the grading time)
    assert rows["olga"]["status"] == "ungradable" and "not valid JSON" in rows["olga"]["error"]
    assert all(rows["olga"][name] == "0" for name in FUNCTIONS)
    # An internal error graded nothing: blank, not 0.
    assert rows["pat"]["status"] == "internal error" and all(rows["pat"][name] == "" for name in FUNCTIONS)


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(entries, tmp_path, text):
    import dataclasses

    dave = _by_student(entries, "dave")
    hostile = dataclasses.replace(dave, student=text, error=text)
    rows = _read_csv(exports.write_csv([hostile], tmp_path / "grades.csv"))
    assert rows[0]["student_id"] == "'" + text and rows[0]["error"] == "'" + text
    assert rows[0]["score"] == "0"  # numbers are left alone


def test_ordinary_text_is_unchanged_in_the_csv():
    assert exports.spreadsheet_safe("student-01") == "student-01"
    assert exports.spreadsheet_safe("") == ""


def test_csv_with_two_assignments_takes_the_union_of_function_columns(entries, tmp_path):
    extra = SubmissionResult(path="im2col.py", assignment="im2col_bonus", rubric_version="0", max_points_total=5.0)
    extra.functions = [exports.submission_result(entries[0]).functions[0]]  # any typed function result
    extra.functions[0].name = "im2col"
    rows = _read_csv(exports.write_csv([*entries[:2], _entry("bob", extra)], tmp_path / "grades.csv"))
    assert list(rows[0])[len(exports.CSV_COLUMNS) :] == [*FUNCTIONS, "im2col", "status", "error"]
    bonus = next(row for row in rows if row["assignment"] == "im2col_bonus")
    assert bonus["im2col"] == "4" and all(bonus[name] == "" for name in FUNCTIONS)
    assert all(row["im2col"] == "" for row in rows if row["assignment"] == "conv_layers")


# ---------------------------------------------------------------- JSON


def test_json_round_trip(entries, tmp_path):
    path = exports.write_json(entries, tmp_path / "grades.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    again = [GradebookEntry.from_dict(data) for data in document["entries"]]
    assert again == sorted(entries, key=lambda entry: entry.student)
    bob = _by_student(again, "bob")
    result = SubmissionResult.from_dict(bob.result)
    assert result.to_dict() == _by_student(entries, "bob").result
    failing = result.function("conv_forward_naive").properties[1]
    assert not failing.passed and BIAS_HINT in failing.hint and "conv_forward_naive(" in failing.counterexample


def test_json_summary_and_key_order(entries, tmp_path):
    text = exports.write_json(entries, tmp_path / "grades.json").read_text(encoding="utf-8")
    document = json.loads(text)
    summary = document["summary"]
    assert summary["count"] == 6 and summary["generated_at"]
    stats = summary["assignments"]["conv_layers"]
    assert (stats["count"], stats["graded"], stats["ungradable"], stats["internal error"]) == (6, 4, 1, 1)
    # The ungradable submission and the internal error are not scores: left out of the mean and counted.
    assert (stats["mean_score"], stats["median_score"], stats["excluded"]) == (pytest.approx((33 + 29 + 27 + 0) / 4), 28.0, 2)
    assert text == json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- Gradescope

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility", "extra_data", "tests"}
TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility", "tags"}


def test_gradescope_results_follow_the_spec(entries, tmp_path):
    written = exports.write_gradescope(entries, tmp_path)
    assert sorted(written) == sorted(tmp_path / student / "conv_layers" / "results.json" for student in ["alice", "bob", "carol", "dave", "olga", "pat"])
    for entry in entries:
        results = json.loads((tmp_path / entry.student / "conv_layers" / "results.json").read_text(encoding="utf-8"))
        assert set(results) == TOP_LEVEL
        assert isinstance(results["execution_time"], int)
        assert (results["visibility"], results["stdout_visibility"]) == ("visible", "hidden")
        assert results["score"] == sum(test["score"] for test in results["tests"]) == entry.points
        for number, test in enumerate(results["tests"], start=1):
            assert set(test) == TEST_FIELDS
            assert test["number"] == str(number)
            assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
            assert (test["output_format"], test["visibility"], test["tags"]) == ("md", "visible", ["conv_layers"])
        if entry.status != "internal error":
            assert [test["name"] for test in results["tests"]] == FUNCTIONS
            assert sum(test["max_score"] for test in results["tests"]) == 33


def test_gradescope_shows_the_failing_function_with_counterexample_and_hint(entries, tmp_path):
    [path] = exports.write_gradescope([_by_student(entries, "bob")], tmp_path)
    results = json.loads(path.read_text(encoding="utf-8"))
    tests = {test["name"]: test for test in results["tests"]}
    assert results["score"] == 29
    assert tests["conv_forward_naive"]["status"] == "failed" and tests["conv_forward_naive"]["score"] == 3
    assert "Smallest failing call" in tests["conv_forward_naive"]["output"]
    assert BIAS_HINT in tests["conv_forward_naive"]["output"]
    assert all(tests[name]["status"] == "passed" for name in FUNCTIONS if name != "conv_forward_naive")
    assert "conv_forward_naive (output values)" in results["output"]


@pytest.mark.parametrize(
    "student, expected",
    [("olga", "could not be graded: conv.ipynb"), ("pat", "The grader itself failed on your submission")],
    ids=["ungradable", "internal error"],
)
def test_gradescope_output_gives_the_reason_nothing_was_graded(entries, tmp_path, student, expected):
    [path] = exports.write_gradescope([_by_student(entries, student)], tmp_path)
    results = json.loads(path.read_text(encoding="utf-8"))
    assert expected in results["output"] and results["score"] == 0


# ---------------------------------------------------------------- feedback


def test_feedback_files_hold_counterexample_and_hint(entries, tmp_path):
    written = exports.write_feedback(entries, tmp_path)
    assert len(written) == 6
    bob = (tmp_path / "bob" / "conv_layers.md").read_text(encoding="utf-8")
    assert bob.startswith("# conv_layers: 29 / 33 points")
    assert "Smallest failing call" in bob and BIAS_HINT in bob
    carol = (tmp_path / "carol" / "conv_layers.md").read_text(encoding="utf-8")
    assert "channels last (NHWC)" in carol
    olga = (tmp_path / "olga" / "conv_layers.md").read_text(encoding="utf-8")
    assert "could not be graded" in olga
    pat = (tmp_path / "pat" / "conv_layers.md").read_text(encoding="utf-8")
    assert "not your fault" in pat and "RuntimeError: worker died" in pat


@pytest.mark.parametrize(
    "writer, relative",
    [(exports.write_feedback, ("carol", "conv_layers.md")), (exports.write_gradescope, ("carol", "conv_layers", "results.json"))],
)
def test_files_of_students_who_left_the_gradebook_are_removed(entries, tmp_path, writer, relative):
    writer(entries, tmp_path)
    stale = tmp_path.joinpath(*relative)
    assert stale.is_file()
    other_assignment = tmp_path / "carol" / "other_assignment.md"
    other_assignment.write_text("another assignment's feedback")
    own_file = tmp_path / "carol" / "notes.txt"
    own_file.write_text("the instructor's")
    writer([entry for entry in entries if entry.student != "carol"], tmp_path)
    assert not stale.exists()
    assert other_assignment.exists() and own_file.exists()  # other assignments and other names are left alone
    assert (tmp_path / "bob").is_dir()


def test_a_student_left_with_nothing_else_leaves_no_empty_folder(entries, tmp_path):
    exports.write_gradescope(entries, tmp_path)
    exports.write_gradescope([entry for entry in entries if entry.student != "dave"], tmp_path)
    assert not (tmp_path / "dave").exists()


def test_export_all_writes_every_format(entries, tmp_path):
    written = exports.export_all(entries, tmp_path / "out")
    assert written == {
        "csv": tmp_path / "out" / "grades.csv",
        "json": tmp_path / "out" / "grades.json",
        "gradescope": tmp_path / "out" / "gradescope",
        "feedback": tmp_path / "out" / "feedback",
    }
    assert (tmp_path / "out" / "gradescope" / "bob" / "conv_layers" / "results.json").is_file()
    assert (tmp_path / "out" / "feedback" / "bob" / "conv_layers.md").is_file()


def test_export_all_rejects_an_unknown_format_before_writing(entries, tmp_path):
    with pytest.raises(ValueError, match="unknown export format.*'xlsx'.*csv, json, gradescope, feedback"):
        exports.export_all(entries, tmp_path / "out", formats=("csv", "xlsx"))
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- paths

HOSTILE_IDS = [
    ("../escaped", "parent"),
    ("..", "dot-dot"),
    (".", "dot"),
    ("/tmp/escaped", "absolute"),
    ("a/../../escaped", "nested parent"),
    ("..\\escaped", "backslash"),
    ("C:escaped", "drive"),
    ("<b>eve</b>", "markup with a slash"),
    ("line\nbreak", "control character"),
]


@pytest.mark.parametrize("student", [student for student, _ in HOSTILE_IDS], ids=[name for _, name in HOSTILE_IDS])
@pytest.mark.parametrize("writer", [exports.write_feedback, exports.write_gradescope], ids=["feedback", "gradescope"])
def test_a_student_id_never_writes_outside_the_folder(entries, tmp_path, writer, student):
    folder = tmp_path / "inside" / "folder"
    entry = GradebookEntry.from_dict({**_by_student(entries, "bob").to_dict(), "student": student})
    [path] = writer([entry], folder)
    assert path.resolve().is_relative_to(folder.resolve())
    assert path.relative_to(folder).parts[0] == exports.path_component(student)  # one folder per student, right below
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside"] and sorted(p.name for p in (tmp_path / "inside").iterdir()) == ["folder"]


def test_escaped_ids_stay_distinct_and_ordinary_ids_unchanged():
    ids = ["alice", "Zoë Ng", "s-01_b.c", *(student for student, _ in HOSTILE_IDS), "%2E%2E", "a%2Fb", "a/b"]
    escaped = [exports.path_component(student) for student in ids]
    assert escaped[:3] == ["alice", "Zoë Ng", "s-01_b.c"]
    assert len(set(escaped)) == len(ids)
    assert not any("/" in name or "\\" in name or name in (".", "..") for name in escaped)


def test_an_empty_id_is_rejected(entries, tmp_path):
    entry = GradebookEntry.from_dict({**_by_student(entries, "bob").to_dict(), "student": ""})
    with pytest.raises(ValueError, match="empty student id"):
        exports.write_feedback([entry], tmp_path)


def test_a_symlink_planted_in_the_folder_is_not_followed(entries, tmp_path):
    outside, folder = tmp_path / "outside", tmp_path / "folder"
    outside.mkdir()
    folder.mkdir()
    (folder / "bob").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="resolves outside"):
        exports.write_feedback([_by_student(entries, "bob")], folder)
    assert list(outside.iterdir()) == []
