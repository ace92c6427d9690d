"""Exports of the gradebook: a CSV for the LMS, a full JSON, Gradescope results and student feedback.

Every function takes the gradebook's entries (``Gradebook(db).entries()``)
and where to write, and returns what it wrote:

``write_csv``
    One row per student and assignment, columns close to ``nbgrader export``'s,
    then one column per function of the rubric, then ``status`` and ``error``.
``write_json``
    Everything: every entry with its full result (per-property verdicts,
    counterexamples, hints, timings) and a summary per assignment.
``write_gradescope``
    One Gradescope ``results.json`` per submission, one test per function.
``write_feedback``
    One Markdown file per student and assignment (:func:`autograder.outputs.feedback.feedback_text`).
``export_all``
    Any of the above, and the HTML report (:mod:`autograder.outputs.report`), under
    one folder: :data:`WRITERS` names each output and its writer.

A student of the roster without a submission (``status="missing"``) is a
row of the CSV and an entry of the JSON with 0 points, as ``nbgrader
export`` lists them; Gradescope and feedback files are only written for
submissions (Gradescope attaches a ``results.json`` to a submission, and a
student who submitted nothing has none).

Student ids are nbgrader folder names and are kept as they are in the CSV and
JSON; where an id (or an assignment name) becomes part of a path, the
characters that could leave the output folder or that some file systems
refuse are percent-escaped (:func:`path_component`), so ``../eve`` writes
``%2E%2E%2Feve`` inside the folder, never next to it.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import rubrics
from ..classroom.gradebook import GradebookEntry, submission_result
from ..classroom.lateness import parse_timestamp
from ..engine.results import FunctionResult, Status, SubmissionResult
from .feedback import feedback_text, function_sections, not_graded
from .statistics import class_statistics

__all__ = [
    "WRITERS",
    "Writer",
    "FORMATS",
    "CSV_COLUMNS",
    "path_component",
    "spreadsheet_safe",
    "write_csv",
    "write_json",
    "write_gradescope",
    "write_feedback",
    "export_all",
    "submission_result",
    "summary",
    "grading_conditions",
    "gradescope_results",
    "function_feedback",
]

#: The exports proper (the report apart): what :func:`export_all` writes by default.
FORMATS = ("csv", "json", "gradescope", "feedback")

# nbgrader export's columns, in its order; the rubric's functions, status and error follow.
CSV_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)

# Path separators, the Windows-reserved characters and "%" itself (so the escape can be undone).
_UNSAFE_IN_PATHS = set('/\\:<>"|?*%')


def path_component(name: str) -> str:
    """``name`` made safe as one path component: unsafe characters become ``%XX``.

    Separators (``/``, ``\\``), Windows-reserved characters, control characters
    and ``%`` are escaped, and so are the dots of ``.`` and ``..``; anything else
    (letters of any script, digits, spaces, ``-``, ``_``, ``.`` inside a name)
    is kept, so ordinary student ids are unchanged. Distinct names stay distinct.

    Raises
    ------
    ValueError
        For an empty name, which cannot name a file.

    Examples
    --------
    >>> path_component("alice_1")
    'alice_1'
    >>> path_component("../../etc/passwd")
    '..%2F..%2Fetc%2Fpasswd'
    >>> path_component("..")
    '%2E%2E'
    """
    if not name:
        raise ValueError("an empty student id or assignment name cannot be used as a file name")
    if name in (".", ".."):
        return "%2E" * len(name)
    return "".join(f"%{ord(char):02X}" if char in _UNSAFE_IN_PATHS or ord(char) < 32 or ord(char) == 127 else char for char in name)


def _inside(folder: Path, *names: str, suffix: str = "") -> Path:
    """``folder/name/...<suffix>`` with each name escaped, checked to resolve inside ``folder``."""
    path = folder.joinpath(*(path_component(name) for name in names))
    path = path.with_name(path.name + suffix)
    if not path.resolve().is_relative_to(folder.resolve()):  # e.g. a symlink planted in the folder
        raise ValueError(f"refusing to write {path}: it resolves outside {folder}")
    return path


def _sorted(entries: Iterable[GradebookEntry]) -> list[GradebookEntry]:
    return sorted(entries, key=lambda entry: (entry.assignment, entry.student))


def _number(value: float | None) -> str:
    """Points as a CSV cell: ``29`` rather than ``29.0``, ``2.5`` as is, blank for None."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _function_names(assignment: str, results: Sequence[SubmissionResult]) -> list[str]:
    """The rubric's functions, in its order; for an unknown rubric, those the results name."""
    try:
        return [function.name for function in rubrics.get(assignment).functions]
    except KeyError:
        names: dict[str, None] = {}
        for result in results:
            names.update(dict.fromkeys(function.name for function in result.functions))
        return list(names)


def write_csv(entries: list[GradebookEntry], path: str | Path) -> Path:
    """One row per student and assignment, in nbgrader's export columns plus points per function.

    Parameters
    ----------
    entries : list of GradebookEntry
        The submissions to export (any assignments).
    path : str or Path
        The CSV file to write (its folder is created).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    Columns: ``assignment, duedate, timestamp, student_id, last_name,
    first_name, email, raw_score, late_submission_penalty, score, max_score``
    as ``nbgrader export`` writes them: ``duedate`` (the student's, extension
    included) and ``timestamp`` (when the student submitted: nbgrader's
    ``timestamp.txt``) in UTC as ``2024-03-01 23:59:00``, blank when unknown;
    names and email from the roster; ``score = max(0, raw_score -
    late_submission_penalty)``; a ``missing`` student scores 0 with a blank
    timestamp. Then one column per function of each assignment's rubric (the union over
    assignments, blank where a function is not part of a row's assignment or
    was not graded, e.g. after an internal error), then ``status`` and ``error``.
    Rows are sorted by assignment, then student. Text cells that a
    spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return) get a leading apostrophe.
    """
    path = Path(path)
    entries = _sorted(entries)
    results = [submission_result(entry) for entry in entries]
    functions_of: dict[str, list[str]] = {}
    for entry in entries:
        if entry.assignment not in functions_of:
            same = [result for other, result in zip(entries, results) if other.assignment == entry.assignment]
            functions_of[entry.assignment] = _function_names(entry.assignment, same)
    function_columns = list(dict.fromkeys(name for names in functions_of.values() for name in names))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*CSV_COLUMNS, *function_columns, "status", "error"])
        for entry, result in zip(entries, results):
            graded = {function.name: function.points for function in result.functions}
            if entry.status == Status.MISSING:  # nothing submitted: 0 for every function, as for the total
                graded = dict.fromkeys(functions_of[entry.assignment], 0.0)
            row = [
                entry.assignment,
                _nbgrader_time(entry.due_date),
                _nbgrader_time(entry.timestamp),
                entry.student,
                entry.last_name,
                entry.first_name,
                entry.email,
                _number(entry.points),
                _number(entry.late_penalty),
                _number(entry.score),
                _number(entry.max_points),
            ]
            row += [_number(graded.get(name)) if name in functions_of[entry.assignment] else "" for name in function_columns]
            row += [entry.status, entry.error]
            for column in (0, 3, 4, 5, 6, len(row) - 2, len(row) - 1):  # the text a student's folder, code or roster can shape
                row[column] = spreadsheet_safe(row[column])
            writer.writerow(row)
    return path


def _nbgrader_time(iso_text: str) -> str:
    """An ISO 8601 time as ``nbgrader export`` writes its datetimes: naive UTC, ``2024-03-01 23:59:00``.

    >>> _nbgrader_time("2024-03-01T23:59:00+00:00"), _nbgrader_time("")
    ('2024-03-01 23:59:00', '')
    """
    return str(parse_timestamp(iso_text)) if iso_text else ""


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet would read it as a formula (OWASP's CSV injection rule).

    >>> spreadsheet_safe("=1+2"), spreadsheet_safe("alice")
    ("'=1+2", 'alice')
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def summary(entries: list[GradebookEntry], *, generated_at: str | None = None) -> dict:
    """Counts per status, late submissions, the mean and median score per assignment.

    ``count`` is the submissions; ``missing`` the students of the class
    without one. The figures are :class:`autograder.outputs.statistics.AssignmentStatistics`'s,
    the ones the class summary of ``autograder grade`` and the report show:
    ``mean_score`` and ``median_score`` are of the raw points of the graded
    submissions, ``mean_final_score`` after late penalties; ungradable
    submissions and internal errors are not scores and are counted as
    ``excluded`` instead.
    """
    return {
        "count": sum(entry.status != Status.MISSING for entry in entries),
        "missing": sum(entry.status == Status.MISSING for entry in entries),
        "generated_at": generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "assignments": {name: stats.summary() for name, stats in class_statistics(entries).items()},
        "grading": grading_conditions(entries),
    }


def grading_conditions(entries: list[GradebookEntry]) -> dict:
    """How the entries were graded: course secrets (by fingerprint), grader versions and sandbox protections.

    Each is a list of the distinct values met, with how many submissions
    each covers: one item each when a class was graded in one go; more
    when reruns mixed secrets, versions or machines. The secret itself is
    never recorded, only its fingerprint (``""``: public cases). An item of
    ``versions`` is the grader's fingerprint
    (:func:`autograder.engine.fingerprint.grader_fingerprint`): ``rubric``
    (``"<assignment> <version>"``), ``package``, ``hypothesis``, ``numpy``,
    ``python``, ``examples`` and its digest as ``fingerprint`` (``""`` for
    rows graded before fingerprints were recorded).
    """
    secrets: dict[str, int] = {}
    versions: dict[str, tuple[dict, int]] = {}
    protections: dict[str, tuple[dict, int]] = {}
    for entry in _sorted(e for e in entries if e.status != Status.MISSING):  # nothing was graded for these
        secrets[entry.secret_fingerprint] = secrets.get(entry.secret_fingerprint, 0) + 1
        grader = dict(entry.grader)
        machine_protections = {"machine": grader.pop("machine", ""), "protections": grader.pop("protections", {})}
        grader["rubric"] = f"{entry.assignment} {entry.rubric_version}"
        grader.pop("assignment", None)  # in "rubric"
        grader.pop("digest", None)  # the row's own, below
        grader["fingerprint"] = entry.grader_fingerprint
        for seen, value in ((versions, grader), (protections, machine_protections)):
            key = json.dumps(value, sort_keys=True)
            seen[key] = (value, seen.get(key, (value, 0))[1] + 1)
    return {
        "secret_fingerprints": [{"fingerprint": fingerprint, "submissions": count} for fingerprint, count in secrets.items()],
        "versions": [{**value, "submissions": count} for value, count in versions.values()],
        "sandboxes": [{**value, "submissions": count} for value, count in protections.values()],
    }


def write_json(entries: list[GradebookEntry], path: str | Path) -> Path:
    """Everything the gradebook holds, as one JSON document with sorted keys.

    Parameters
    ----------
    entries : list of GradebookEntry
        The submissions to export.
    path : str or Path
        The JSON file to write (its folder is created).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    ``{"summary": {"count", "missing", "generated_at", "assignments": {name: {"count",
    "graded", "ungradable", "internal error", "missing", "excluded", "late", "max_score",
    "mean_score", "median_score", "mean_final_score"}},
    "grading": {"secret_fingerprints", "versions", "sandboxes"}},
    "entries": [GradebookEntry.to_dict(), ...]}`` (``grading``: see
    :func:`grading_conditions`); each entry's ``result`` is
    the full ``SubmissionResult.to_dict()`` (verdicts, counterexamples, hints,
    timings), so ``GradebookEntry.from_dict`` and ``SubmissionResult.from_dict``
    read it back; each entry also has ``timestamp``, ``due_date`` (ISO 8601
    UTC), ``seconds_late``, ``late_penalty``, ``score`` (after the penalty)
    and the roster's names and email; students without a submission are
    entries with ``status: "missing"`` and 0 points. Entries are sorted by assignment, then student; apart from
    ``generated_at`` the file is the same for the same gradebook. See
    :func:`summary` for the figures.
    """
    path = Path(path)
    entries = _sorted(entries)
    document = {"summary": summary(entries), "entries": [entry.to_dict() for entry in entries]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _points(value: float) -> str:
    return f"{value:g}"


def function_feedback(function: FunctionResult) -> str:
    """The Markdown section :func:`~autograder.outputs.feedback.feedback_text` writes for one function (its ``##`` heading and below)."""
    return function_sections([function])


def _gradescope_output(result: SubmissionResult) -> str:
    """The short text above the tests: the score and what failed, or why nothing was graded."""
    score = f"{_points(result.points)} / {_points(result.max_points)} points"
    if not_graded(result):
        lines = [not_graded(result)]
    else:
        failed = [function for function in result.functions if function.points < function.max_points]
        if failed:
            names = ", ".join(
                f"{function.name} ({', '.join(p.property for p in function.properties if not p.passed and not p.internal_error)})"
                for function in failed
            )
            lines = [f"{score}. Failed: {names}.", "", "Each test below shows the smallest failing call and a hint."]
        else:
            lines = [f"{score}: every check passed."]
    if result.notes:
        lines += ["", "While loading your code:", "", *[f"- {note}" for note in result.notes]]
    return "\n".join(lines)


def gradescope_results(entry: GradebookEntry) -> dict:
    """One submission as a Gradescope ``results.json`` document (one test per function).

    Notes
    -----
    Follows https://gradescope-autograders.readthedocs.io/en/latest/specs/:
    ``score`` (the sum of the tests' scores), ``execution_time`` (whole
    seconds), ``output`` (a short summary, or why nothing was graded),
    ``visibility``, ``stdout_visibility`` and ``tests``, each with ``name``
    (the function), ``number``, ``score``, ``max_score``, ``status``
    (``"passed"`` when the function got all its points; a property that
    failed because of our own internal error is scored as passed), ``output``
    (that function's Markdown feedback), ``output_format``, ``visibility`` and
    ``tags`` (the assignment). After an internal error there may be no tests:
    the score is then the entry's (normally 0) and ``output`` says so.
    ``score`` is the raw score: Gradescope applies its own late policy to
    its own submission times; our ``timestamp``, ``seconds_late`` and
    ``late_penalty`` are in ``extra_data``.
    """
    result = submission_result(entry)
    tests = [
        {
            "name": function.name,
            "number": str(number),
            "score": function.points,
            "max_score": function.max_points,
            "status": "passed" if function.points >= function.max_points else "failed",
            "output": function_feedback(function),
            "output_format": "md",
            "visibility": "visible",
            "tags": [entry.assignment],
        }
        for number, function in enumerate(result.functions, start=1)
    ]
    return {
        "score": sum(test["score"] for test in tests) if tests else entry.points,
        "execution_time": int(round(entry.seconds)) if math.isfinite(entry.seconds) else 0,
        "output": _gradescope_output(result),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"assignment": entry.assignment, "rubric_version": entry.rubric_version, "status": entry.status,
                       "timestamp": entry.timestamp, "seconds_late": entry.seconds_late, "late_penalty": entry.late_penalty},
        "tests": tests,
    }


def write_gradescope(entries: list[GradebookEntry], folder: str | Path) -> list[Path]:
    """One Gradescope ``results.json`` per submission, at ``folder/<student>/<assignment>/results.json``.

    Parameters
    ----------
    entries : list of GradebookEntry
        The submissions to export.
    folder : str or Path
        The folder to write under (created); ids are escaped with :func:`path_component`.

    Returns
    -------
    list of Path
        The files written, in assignment then student order.

    Notes
    -----
    See :func:`gradescope_results` for the fields.
    """
    return _write_per_submission(entries, Path(folder), lambda assignment: ((assignment, "results.json"), ""),
                                 lambda entry: json.dumps(gradescope_results(entry), indent=1, ensure_ascii=False) + "\n")


def write_feedback(entries: list[GradebookEntry], folder: str | Path) -> list[Path]:
    """Markdown feedback per student and assignment, at ``folder/<student>/<assignment>.md``.

    Takes and returns what :func:`write_gradescope` does: the submissions,
    the folder to write under (ids escaped), the files written in assignment
    then student order. Each file is :func:`autograder.outputs.feedback.feedback_text`: the score, each
    failing property's smallest failing call, what went wrong and the hint.
    """
    return _write_per_submission(entries, Path(folder), lambda assignment: ((assignment,), ".md"),
                                 lambda entry: feedback_text(submission_result(entry)))


def _write_per_submission(entries: list[GradebookEntry], folder: Path,
                          place: Callable[[str], tuple[tuple[str, ...], str]],
                          text: Callable[[GradebookEntry], str]) -> list[Path]:
    """One file per submission at ``folder/<student>/<names...><suffix>``, then the stale ones removed.

    ``place(assignment)`` gives the names below the student's folder and the
    suffix of the last one; ``text(entry)`` the file's content.
    """
    entries = _submitted(entries)
    targets = []
    for entry in _sorted(entries):  # every path checked before anything is written
        names, suffix = place(entry.assignment)
        targets.append((entry, _inside(folder, entry.student, *names, suffix=suffix)))
    written = []
    for entry, path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text(entry), encoding="utf-8")
        written.append(path)

    def path_of(student: Path, assignment: str) -> Path:
        names, suffix = place(assignment)
        path = student.joinpath(*(path_component(name) for name in names))
        return path.with_name(path.name + suffix)

    _remove_stale(folder, entries, written, path_of)
    return written


def _submitted(entries: Iterable[GradebookEntry]) -> list[GradebookEntry]:
    """The entries of real submissions: a ``missing`` student has nothing to attach a result or feedback to."""
    return [entry for entry in entries if entry.status != Status.MISSING]


def _remove_stale(folder: Path, entries: list[GradebookEntry], written: list[Path], path_of) -> None:
    """Remove the files of students the export no longer holds, for the assignments it holds.

    An export folder mirrors the gradebook: a student who left it (a
    gradebook started again, an id corrected) must not keep an old
    ``results.json`` or feedback file that could be uploaded by mistake.
    Only files named as this module names them are touched.
    """
    if not folder.is_dir():
        return
    keep = {path.resolve() for path in written}
    for assignment in sorted({entry.assignment for entry in entries}):
        for student in sorted(folder.iterdir()):
            if not student.is_dir() or student.is_symlink():
                continue
            path = path_of(student, assignment)
            if path.is_file() and not path.is_symlink() and path.resolve() not in keep:
                path.unlink()
                for parent in (path.parent, path.parent.parent):
                    if parent != folder and parent.is_dir() and not any(parent.iterdir()):
                        parent.rmdir()


def _write_report(entries: list[GradebookEntry], path: Path) -> Path:
    from .report import write_report  # matplotlib: loaded only when the report is written

    return write_report(entries, path)


@dataclass(frozen=True)
class Writer:
    """One output of a class: its name, what it writes below the output folder, and the function that writes it."""

    name: str
    target: str  # a file or a folder below the output folder
    write: Callable[[list[GradebookEntry], Path], object]  # (entries, out_dir / target)


#: Every output, by name, in the order they are written: the exports, then the HTML report.
WRITERS: dict[str, Writer] = {writer.name: writer for writer in (
    Writer("csv", "grades.csv", write_csv),
    Writer("json", "grades.json", write_json),
    Writer("gradescope", "gradescope", write_gradescope),
    Writer("feedback", "feedback", write_feedback),
    Writer("report", "report.html", _write_report),
)}


def export_all(entries: list[GradebookEntry], out_dir: str | Path, formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Write the chosen outputs of :data:`WRITERS` under ``out_dir``.

    Parameters
    ----------
    entries : list of GradebookEntry
        The submissions to export.
    out_dir : str or Path
        The folder to write under (created).
    formats : sequence of {"csv", "json", "gradescope", "feedback", "report"}
        Which outputs to write; by default the four exports.

    Returns
    -------
    dict of str to Path
        Each output written and where: ``grades.csv``, ``grades.json``,
        ``gradescope/``, ``feedback/`` and ``report.html`` under ``out_dir``.

    Raises
    ------
    ValueError
        For an unknown format (before anything is written).
    """
    unknown = [name for name in formats if name not in WRITERS]
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(map(repr, unknown))}; choose from {', '.join(WRITERS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in formats:
        writer = WRITERS[name]
        writer.write(entries, out_dir / writer.target)
        written[name] = out_dir / writer.target
    return written
