"""The instructor's report: one self-contained HTML page about a whole class.

First the class: one row per student (the roster's and everyone who
submitted), their score per assignment, lateness and missing submissions,
each student linked to their own section further down. Per assignment: the
counts (submissions, late, missing), the score distribution, pass rates per
function and per property, the most common mistakes (the hints the class
got, grouped and counted: what to teach again), the submissions that could
not be graded and why, the students without a submission, and every
student's score with timestamp and penalty. Per student: each assignment's
score, timestamp, lateness and penalty, loading notes, and each function's
properties with the feedback the student got (smallest failing call, what
went wrong, hint).

Three layers: the figures come from :mod:`autograder.outputs.statistics` (the
ones ``autograder grade``'s summary and ``grades.json`` show), the plots from
:mod:`autograder.outputs.plots` (matplotlib on the Agg canvas, embedded as
base64 PNGs), and this module writes the HTML. The page needs no server,
scripts, fonts or style sheets from elsewhere. Everything a student wrote
(ids, messages) is escaped. Apart from its "generated at" line the page is
the same for the same gradebook.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from .. import rubrics
from ..classroom.gradebook import GradebookEntry, submission_result
from ..engine.results import Status, SubmissionResult
from .plots import bars, histogram, pass_rate_plot
from .statistics import AssignmentStatistics, class_statistics, hint_summary

__all__ = ["write_report", "hint_summary"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #2b2d42; background: #f6f7f9; margin: 0; line-height: 1.45; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.35em; margin: 1.6em 0 0.4em; padding-bottom: 0.2em; border-bottom: 2px solid #3d6a9e; }
h3 { font-size: 1.08em; margin: 1.6em 0 0.4em; }
.muted, .generated { color: #6c7589; font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid #dde1e8; border-radius: 6px; padding: 8px 14px; min-width: 92px; }
.card b { display: block; font-size: 1.35em; }
.card span { color: #6c7589; font-size: 0.85em; }
.card.warn { border-color: #c8553d; } .card.warn b { color: #c8553d; }
img.plot { display: block; max-width: 100%; height: auto; margin: 6px 0 4px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 8px 0; }
th, td { border-bottom: 1px solid #e4e7ec; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.full { background: #e3f1e8; } td.part { background: #fbf0d9; } td.zero { background: #f7ded8; }
td.id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
details summary { cursor: pointer; color: #3d6a9e; font-size: 0.9em; }
details p { margin: 4px 0 0; color: #4a5068; font-size: 0.9em; }
nav a { margin-right: 14px; color: #3d6a9e; }
.status-ungradable { color: #c8553d; } .status-internal { color: #8a5a00; } .status-missing { color: #8d99ae; }
.late { color: #b5542f; font-size: 0.85em; white-space: nowrap; }
td.missing { background: #eef0f3; color: #6c7589; }
a.student { color: #2b2d42; text-decoration: none; border-bottom: 1px dotted #3d6a9e; }
section.student { border-top: 1px solid #dde1e8; margin-top: 22px; }
section.student h3 { margin-top: 14px; }
.facts { color: #4a5068; font-size: 0.9em; margin: 2px 0 6px; }
table.props { table-layout: fixed; } table.props col.function { width: 22%; } table.props col.property { width: 20%; }
table.props col.result { width: 8%; } table.props col.points { width: 8%; }
table.props td.ok { color: #2f7a4f; white-space: nowrap; } table.props td.bad { color: #c8553d; font-weight: 600; white-space: nowrap; }
table.props pre { margin: 4px 0; padding: 6px 8px; background: #f6f7f9; border-radius: 4px; font-size: 0.85em;
                  white-space: pre-wrap; overflow-wrap: anywhere; }
p.hint { margin: 4px 0; } p.hint b { color: #3d6a9e; }
.top { float: right; font-size: 0.8em; font-weight: normal; }
"""


# ---------------------------------------------------------------- HTML


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _breakable(name: str) -> str:
    """An escaped identifier that may wrap after its underscores (long function names in table headers)."""
    return _e(name).replace("_", "_<wbr>")


def _card(value: str, label: str, *, warn: bool = False) -> str:
    return f'<div class="card{" warn" if warn else ""}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _section(stats: AssignmentStatistics, anchor: str) -> list[str]:
    versions = sorted({entry.rubric_version for entry, _ in stats.submitted} or {e.rubric_version for e in stats.entries})
    due = {e.due_date for e in stats.entries if e.due_date and not _has_extension(e, stats.entries)}
    out = [f'<section id="{anchor}">', f"<h2>{_e(stats.name)}</h2>"]
    facts = f"Rubric version {_e(', '.join(versions))}; {len(stats.functions)} functions, {stats.max_points:g} points."
    if due:
        facts += f" Due {_e(', '.join(sorted(_when(d) for d in due)))}."
    out.append(f'<p class="muted">{facts}</p>')
    out.append('<div class="cards">')
    out.append(_card(str(stats.submissions), "submissions"))
    out.append(_card(str(len(stats.graded)), "graded"))
    out.append(_card(str(stats.ungradable), "ungradable", warn=stats.ungradable > 0))
    out.append(_card(str(stats.internal_errors), "internal errors", warn=stats.internal_errors > 0))
    out.append(_card(str(len(stats.missing)), "missing", warn=bool(stats.missing)))
    out.append(_card(str(stats.late), "late", warn=stats.late > 0))
    if stats.scores:
        out.append(_card(f"{stats.mean_score:.1f}", "mean points"))
        out.append(_card(f"{stats.median_score:g}", "median points"))
    out.append(_card(str(stats.full_marks), "full marks"))
    out.append("</div>")

    out.append("<h3>Score distribution</h3>")
    out.append(histogram(stats))
    excluded = f" Left out here: {stats.excluded_note()}." if stats.excluded else ""
    out.append(f'<p class="muted">The graded submissions\' points; ungradable submissions and internal errors '
               f"(our bugs) are not scores.{excluded}</p>")

    out.append("<h3>Pass rates</h3>")
    if stats.graded:
        graded = len(stats.graded)
        out.append(f'<p class="muted">Over the {graded} graded submission{"s" if graded != 1 else ""}: '
                   "a function passes with all its points; green at 80 % and above, amber from 50 %, red below.</p>")
        out.append(pass_rate_plot(stats.function_pass_rates(), alt=f"{stats.name}: pass rate per function", title="Per function (worst first)"))
        out.append(pass_rate_plot(stats.property_pass_rates(), alt=f"{stats.name}: pass rate per property", title="Per property (worst first)"))
    else:
        out.append("<p>No submission could be graded.</p>")

    out += _mistakes_section(stats)
    out += _not_graded_section(stats)
    out += _missing_section(stats)
    out += _students_section(stats)
    out.append("</section>")
    return out


def _has_extension(entry: GradebookEntry, entries: list[GradebookEntry]) -> bool:
    """Whether the entry's due date differs from the assignment's most common one (an extension)."""
    dates = Counter(e.due_date for e in entries if e.due_date)
    return bool(dates) and entry.due_date != dates.most_common(1)[0][0]


def _when(iso_text: str) -> str:
    """An ISO 8601 UTC time as ``2024-03-01 23:59 UTC`` (seconds shown only when not zero)."""
    from ..classroom.lateness import parse_timestamp

    stamp = parse_timestamp(iso_text)
    return stamp.strftime("%Y-%m-%d %H:%M" + (":%S" if stamp.second or stamp.microsecond else "")) + " UTC"


def _duration(seconds: float) -> str:
    """How late, in words a reader takes in at a glance.

    >>> _duration(90), _duration(2.5 * 3600), _duration(3 * 86400 + 4 * 3600 + 5)
    ('1 min 30 s', '2 h 30 min', '3 d 4 h')
    """
    seconds = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def _late_note(entry: GradebookEntry) -> str:
    """``late 2 h 30 min, -6`` as HTML, or ``""`` on time."""
    if entry.seconds_late <= 0:
        return ""
    penalty = f", &minus;{entry.late_penalty:g}" if entry.late_penalty else ""
    return f'<span class="late">late {_duration(entry.seconds_late)}{penalty}</span>'


def _student_anchor(student: str) -> str:
    """A fragment id for a student's section: letters, digits, ``-`` and ``_`` kept, anything else as ``.XX``."""
    return "student-" + "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "".join(f".{b:02X}" for b in c.encode()) for c in student)


def _student_link(student: str) -> str:
    return f'<a class="student" href="#{_student_anchor(student)}">{_e(student)}</a>'


def _missing_section(stats: AssignmentStatistics) -> list[str]:
    if not stats.missing:
        return []
    links = ", ".join(_student_link(entry.student) for entry in stats.missing)
    return ["<h3>Missing</h3>",
            f"<p>{len(stats.missing)} student{'s' if len(stats.missing) != 1 else ''} of the class submitted nothing "
            f"(0 points in every export): {links}.</p>"]


def _mistakes_section(stats: AssignmentStatistics) -> list[str]:
    out = ["<h3>Most common mistakes: what to teach again</h3>"]
    mistakes = stats.mistakes
    graded = len(stats.graded)
    if not mistakes:
        out.append("<p>No failure matched a known mistake.</p>")
    else:
        out.append(f'<p class="muted">Each failing property whose smallest counterexample matched a known mistake '
                   f"got a hint; students are counted once per mistake (out of {graded} graded).</p>")
        shown = mistakes[:12]
        items = [(m.sentence, len(m.students), f"{len(m.students)} ({len(m.students) / graded:.0%})") for m in shown]
        out.append(bars(items, xlabel="students", alt=f"{stats.name}: students per mistake", percent=False, wrap=60))
        out.append('<table><thead><tr><th class="num">students</th><th class="num">share</th>'
                   "<th>mistake (what the hint diagnoses)</th><th>seen in</th></tr></thead><tbody>")
        for mistake in mistakes:
            where = "; ".join(f"{_e(f)}: {_e(', '.join(props))}" for f, props in mistake.where.items())
            sentence = _e(mistake.sentence) + (' <span class="muted">(numbers vary)</span>' if len(mistake.variants) > 1 else "")
            if mistake.hint != mistake.sentence:
                sentence += f"<details><summary>full hint</summary><p>{_e(mistake.hint)}</p></details>"
            out.append(f'<tr><td class="num">{len(mistake.students)}</td><td class="num">{len(mistake.students) / graded:.0%}</td>'
                       f"<td>{sentence}</td><td>{where}</td></tr>")
        out.append("</tbody></table>")
    unexplained = stats.unexplained_failures()
    if unexplained:
        out.append("<h3>Failures no known mistake explains</h3>")
        out.append('<p class="muted">Functions left as the stub or missing, and mistakes the grader has no hint for yet: '
                   "read a few of these students' feedback to find the next hint worth writing.</p>")
        out.append('<table><thead><tr><th>function</th><th class="num">students</th><th>properties</th></tr></thead><tbody>')
        for name, (students, properties) in sorted(unexplained.items(), key=lambda item: (-len(item[1][0]), item[0])):
            out.append(f'<tr><td>{_e(name)}</td><td class="num">{len(students)}</td><td>{_e(", ".join(properties))}</td></tr>')
        out.append("</tbody></table>")
    return out


def _not_graded_section(stats: AssignmentStatistics) -> list[str]:
    groups = stats.not_graded()
    out = ["<h3>Not graded</h3>"]
    if not groups:
        return out + ["<p>Every submission could be graded.</p>"]
    out.append(f"<p>{stats.ungradable} ungradable (the student's file could not be read), "
               f"{stats.internal_errors} internal error{'s' if stats.internal_errors != 1 else ''} "
               "(a grader bug: not charged to the student, regrade after the fix).</p>")
    out.append('<table><thead><tr><th>status</th><th class="num">count</th><th>reason</th><th>students</th></tr></thead><tbody>')
    for status, reason, students in groups:
        css = "status-ungradable" if status == Status.UNGRADABLE else "status-internal"
        out.append(f'<tr><td class="{css}">{_e(status)}</td><td class="num">{len(students)}</td>'
                   f"<td>{_e(reason)}</td><td>{_e(', '.join(students))}</td></tr>")
    out.append("</tbody></table>")
    return out


def _points_cell(points: float | None, max_points: float) -> str:
    if points is None:
        return '<td class="num"></td>'
    css = "full" if points >= max_points else "zero" if points <= 0 else "part"
    return f'<td class="num {css}">{points:g}</td>'


def _students_section(stats: AssignmentStatistics) -> list[str]:
    maxima: dict[str, float] = {}
    try:
        maxima = {f.name: f.max_points for f in rubrics.get(stats.name).functions}
    except KeyError:
        pass
    header = "".join(f'<th class="num">{_breakable(name)}<br><span class="muted">/{maxima.get(name, 0):g}</span></th>' for name in stats.functions)
    out = ["<h3>Students</h3>",
           '<p class="muted">Score after any late penalty; each student links to their feedback below.</p>',
           f'<table><thead><tr><th>student</th><th>status</th><th>submitted</th><th class="num">score</th>{header}</tr></thead><tbody>']
    for entry, result in stats.submitted:
        points = {function.name: function for function in result.functions}
        cells = "".join(
            _points_cell(points[name].points, points[name].max_points) if name in points else _points_cell(None, 0)
            for name in stats.functions
        )
        submitted = (_when(entry.timestamp) if entry.timestamp else '<span class="muted">no timestamp</span>') + (
            f"<br>{_late_note(entry)}" if entry.seconds_late > 0 else "")
        out.append(f'<tr><td class="id">{_student_link(entry.student)}</td><td{_status_class(entry.status)}>{_e(entry.status)}</td>'
                   f'<td>{submitted}</td><td class="num">{entry.score:g} / {entry.max_points:g}</td>{cells}</tr>')
    out.append("</tbody></table>")
    return out


def _status_class(status: str) -> str:
    css = {Status.UNGRADABLE: "status-ungradable", Status.INTERNAL_ERROR: "status-internal", Status.MISSING: "status-missing"}.get(status)
    return f' class="{css}"' if css else ""


def _class_section(by_student: dict[str, list[GradebookEntry]], names: list[str], anchors: dict[str, str]) -> list[str]:
    """The class at a glance: a row per student, their score per assignment, late and missing marked."""
    header = "".join(f'<th class="num"><a href="#{anchors[name]}">{_breakable(name)}</a></th>' for name in names)
    out = ['<section id="class"><h2>Class</h2>',
           f'<p class="muted">{len(by_student)} student{"s" if len(by_student) != 1 else ""}; scores after late penalties. '
           "Select a student for their results and feedback.</p>",
           f"<table><thead><tr><th>student</th><th>name</th>{header}</tr></thead><tbody>"]
    for student, entries in by_student.items():
        of = {entry.assignment: entry for entry in entries}
        person = next((e for e in entries if e.first_name or e.last_name or e.email), entries[0])
        name = " ".join(part for part in (person.first_name, person.last_name) if part)
        cells = []
        for assignment in names:
            entry = of.get(assignment)
            if entry is None:
                cells.append('<td class="num"></td>')
            elif entry.status == Status.MISSING:
                cells.append('<td class="num missing">missing</td>')
            else:
                css = "full" if entry.score >= entry.max_points else "zero" if entry.score <= 0 else "part"
                note = f"<br>{_late_note(entry)}" if entry.seconds_late > 0 else ""
                mark = "" if entry.status == Status.GRADED else f' <span{_status_class(entry.status)}>({_e(entry.status)})</span>'
                cells.append(f'<td class="num {css}">{entry.score:g} / {entry.max_points:g}{mark}{note}</td>')
        out.append(f'<tr><td class="id">{_student_link(student)}</td><td>{_e(name)}</td>{"".join(cells)}</tr>')
    out.append("</tbody></table></section>")
    return out


def _student_section(student: str, entries: list[GradebookEntry], anchors: dict[str, str]) -> list[str]:
    """One student: per assignment their score, lateness, notes and every property's result and feedback."""
    person = next((e for e in entries if e.first_name or e.last_name or e.email), entries[0])
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    who = " &middot; ".join(_e(part) for part in (name, person.email) if part)
    out = [f'<section class="student" id="{_student_anchor(student)}">',
           f'<h2><span class="id">{_e(student)}</span> <a class="top" href="#class">back to the class</a></h2>']
    if who:
        out.append(f'<p class="facts">{who}</p>')
    for entry in entries:
        result = submission_result(entry)
        title = f'<a href="#{anchors[entry.assignment]}">{_e(entry.assignment)}</a>'
        if entry.status == Status.MISSING:
            out.append(f"<h3>{title}: missing</h3><p>No submission: 0 / {entry.max_points:g} points.</p>")
            continue
        penalty = f" &minus; {entry.late_penalty:g} late penalty = <b>{entry.score:g}</b>" if entry.late_penalty else ""
        out.append(f"<h3>{title}: {entry.points:g} / {entry.max_points:g}{penalty}"
                   f"{'' if entry.status == Status.GRADED else f' <span{_status_class(entry.status)}>({_e(entry.status)})</span>'}</h3>")
        facts = [f"submitted {_when(entry.timestamp)}" if entry.timestamp else "no timestamp"]
        if entry.due_date:
            facts.append(f"due {_when(entry.due_date)}")
        if entry.seconds_late > 0:
            facts.append(f"late by {_duration(entry.seconds_late)}")
        out.append(f'<p class="facts">{_e("; ".join(facts))}.</p>')
        if entry.error or result.error:
            out.append(f'<p{_status_class(entry.status)}>{_e(entry.error or result.error)}</p>')
        if result.notes:
            out.append("<p class=\"facts\">While loading the code:</p><ul>" + "".join(f"<li>{_e(note)}</li>" for note in result.notes) + "</ul>")
        if result.functions:
            out += _properties_table(result)
    out.append("</section>")
    return out


def _properties_table(result: SubmissionResult) -> list[str]:
    """Each function's properties: verdict, points, and for a failure the feedback the student got."""
    out = ['<table class="props"><colgroup><col class="function"><col class="property"><col class="result"><col class="points">'
           '<col></colgroup><thead><tr><th>function</th><th>property</th><th>result</th>'
           '<th class="num">points</th><th>feedback</th></tr></thead><tbody>']
    for function in result.functions:
        if function.properties and all(prop.passed and not prop.internal_error for prop in function.properties):
            names = ", ".join(prop.property for prop in function.properties)
            out.append(f'<tr><td><b>{_breakable(function.name)}</b></td><td>all {len(function.properties)} '
                       f'<span class="muted">({_e(names)})</span></td><td class="ok">passed</td>'
                       f'<td class="num">{function.points:g} / {function.max_points:g}</td><td></td></tr>')
            continue
        rows = function.properties or [None]
        for index, prop in enumerate(rows):
            first = (f'<td rowspan="{len(rows)}"><b>{_breakable(function.name)}</b><br>'
                     f'<span class="muted">{function.points:g} / {function.max_points:g}</span></td>') if index == 0 else ""
            if prop is None:
                out.append(f'<tr>{first}<td colspan="3"></td><td>{_e(function.note)}</td></tr>')
                continue
            verdict = ('<td class="ok">passed</td>' if prop.passed else
                       '<td class="ok">internal error, not counted</td>' if prop.internal_error else '<td class="bad">failed</td>')
            feedback = []
            if not prop.passed:
                if function.note:
                    feedback.append(f"<p>{_e(function.note)}</p>")
                if prop.counterexample:
                    feedback.append(f"<pre>{_e(prop.counterexample)}</pre>")
                if prop.message:
                    feedback.append(f"<pre>{_e(prop.message)}</pre>")
                if prop.hint:
                    feedback.append(f'<p class="hint"><b>Hint:</b> {_e(prop.hint)}</p>')
            where = f'<br><span class="muted">{_e(prop.check)}</span>' if prop.check else ""
            out.append(f"<tr>{first}<td>{_e(prop.property)}{where}</td>{verdict}"
                       f'<td class="num">{prop.points:g} / {prop.max_points:g}</td><td>{"".join(feedback)}</td></tr>')
    out.append("</tbody></table>")
    return out


def _conditions(entries: list[GradebookEntry]) -> list[str]:
    """The header's lines on how the class was graded: the course secret's fingerprint and the sandbox's protections."""
    from ..sandbox.protections import missing_kernel_protections
    from .exports import grading_conditions

    if not entries:
        return []
    conditions = grading_conditions(entries)
    secrets = [
        f"course secret {item['fingerprint']}" if item["fingerprint"] else "the public cases (no course secret)"
        for item in conditions["secret_fingerprints"]
    ]
    lines = [f'<p class="generated">Cases drawn from {_e(", ".join(secrets))}.</p>']
    for sandbox in conditions["sandboxes"]:
        protections = sandbox["protections"]
        if not protections:
            continue
        states = ", ".join(f"{name} {state.split(' (', 1)[0]}" for name, state in protections.items())
        missing = missing_kernel_protections(protections)
        warning = f" <strong>Missing: {_e(', '.join(missing))}.</strong>" if missing else ""
        machine = f" on {sandbox['machine']}" if sandbox.get("machine") else ""
        lines.append(f'<p class="generated">Sandbox{_e(machine)} ({sandbox["submissions"]} submissions): {_e(states)}.{warning}</p>')
    return lines


def write_report(entries: list[GradebookEntry], path: str | Path, *, title: str | None = None) -> Path:
    """Write the class report: one self-contained HTML page (plots embedded as PNG).

    Parameters
    ----------
    entries : list of GradebookEntry
        The submissions to report on (any assignments; one section each).
    path : str or Path
        The HTML file to write (its folder is created).
    title : str, optional
        The page's title; default "Grading report: <assignments>".

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The header says which course secret the cases were drawn from (its
    fingerprint) and which sandbox protections were active. Per
    assignment: summary counts and the figures of :mod:`autograder.outputs.statistics`; a histogram of the graded scores; pass rates per
    function and per property over the graded submissions (sorted, worst
    first); the most common mistakes, i.e. the hints the class received
    grouped by their first sentence and counted once per student (bar chart
    and table); the ungradable and internal-error submissions grouped by
    reason; the students without a submission; a table of students with
    their timestamp, lateness, score after the penalty and points per
    function. Before them, the class: one row per student with a score per
    assignment (late and missing marked); after them, one section per
    student (anchor ``student-<id>``, ids escaped) with each assignment's
    score, timestamp, due date, lateness, penalty, loading notes and every
    property's verdict and feedback (smallest failing call, message, hint).
    """
    path = Path(path)
    figures = class_statistics(entries)
    names = list(figures)
    title = title or ("Grading report: " + ", ".join(names) if names else "Grading report")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missing = sum(entry.status == Status.MISSING for entry in entries)
    submitted = len(entries) - missing
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head>",
        "<body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="generated">Generated {generated} from {submitted} submission{"s" if submitted != 1 else ""}'
        + (f"; {missing} missing" if missing else "") + ".</p>",
        *_conditions(entries),
    ]
    anchors = {name: f"assignment-{index}" for index, name in enumerate(names, start=1)}
    by_student: dict[str, list[GradebookEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.student, e.assignment)):
        by_student[entry.student].append(entry)
    if names:
        page.append('<nav><a href="#class">Class</a>' + "".join(f'<a href="#{anchors[name]}">{_e(name)}</a>' for name in names)
                    + '<a href="#students">Students</a></nav>')
        page += _class_section(by_student, names, anchors)
    else:
        page.append("<p>No submissions yet.</p>")
    for name in names:
        page += _section(figures[name], anchors[name])
    if by_student:
        page.append('<section id="students"><h2>Students</h2>'
                    '<p class="muted">Each student\'s results per property, with the feedback they got.</p></section>')
        for student, own in by_student.items():
            page += _student_section(student, own, anchors)
    page.append("</main></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(page) + "\n", encoding="utf-8")
    return path
