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
went wrong, hint). The plots are matplotlib figures drawn on
the Agg canvas directly (no pyplot, no global backend switch) and embedded
as base64 PNGs; the page needs no server, scripts, fonts or style sheets
from elsewhere. Everything a student wrote (ids, messages) is escaped.
Apart from its "generated at" line the page is the same for the same gradebook.
"""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
import textwrap
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import rubrics
from .exports import submission_result
from .gradebook import GradebookEntry
from .results import SubmissionResult

__all__ = ["write_report", "hint_summary"]

_GOOD, _FAIR, _POOR = "#4c9a6a", "#d9a441", "#c8553d"  # pass rate >= 80 %, >= 50 %, below
_INK, _MUTED, _ACCENT = "#2b2d42", "#8d99ae", "#3d6a9e"
_PLOT_STYLE = {
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "axes.edgecolor": _MUTED,
    "axes.labelcolor": _INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "svg.hashsalt": "report",
}

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


def hint_summary(text: str) -> str:
    """What a hint diagnoses: its first sentence, cut before a colon that introduces the fix.

    Full stops and colons inside brackets (array indices, code) do not count,
    nor does the full stop of "e.g." or "i.e.".

    Examples
    --------
    >>> hint_summary("Your output is exactly the expected one minus the bias: add b[f] to every output of filter f.")
    'Your output is exactly the expected one minus the bias'
    >>> hint_summary("Your output has shape (N, H', W', F), channels last (NHWC). This course uses NCHW: out[n, f, i, j].")
    "Your output has shape (N, H', W', F), channels last (NHWC)."
    """
    text = " ".join(text.split())
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and text[index + 1 : index + 2] == " ":
            if char == ":":
                return text[:index]
            if char in ".!?" and not re.search(r"\b(e\.g|i\.e|etc|cf|vs)$", text[:index]):
                return text[: index + 1]
    return text


def _hint_key(sentence: str) -> str:
    """Hints that differ only in the numbers of the case they were shown on group together."""
    return re.sub(r"\d+(?:\.\d+)?", "#", sentence)


@dataclass
class _Mistake:
    """One known mistake across a class: who made it and where it showed."""

    variants: Counter = field(default_factory=Counter)  # first sentences as shown (numbers may differ)
    full_text: Counter = field(default_factory=Counter)
    students: set = field(default_factory=set)
    where: dict = field(default_factory=dict)  # function -> {property: None}, in the order met

    @property
    def sentence(self) -> str:
        return min(self.variants.items(), key=lambda item: (-item[1], item[0]))[0]

    @property
    def hint(self) -> str:
        return min(self.full_text.items(), key=lambda item: (-item[1], item[0]))[0]


@dataclass
class _AssignmentStats:
    """Everything the report shows about one assignment."""

    name: str
    entries: list[GradebookEntry]
    results: list[SubmissionResult]
    functions: list[str]
    max_points: float

    @property
    def graded(self) -> list[tuple[GradebookEntry, SubmissionResult]]:
        return [(e, r) for e, r in zip(self.entries, self.results) if e.status == "graded"]

    def scores(self, status: str) -> list[float]:
        return [e.points for e in self.entries if e.status == status]

    @property
    def submitted(self) -> list[tuple[GradebookEntry, SubmissionResult]]:
        """Every submission, whatever its status; the missing students left out."""
        return [(e, r) for e, r in zip(self.entries, self.results) if e.status != "missing"]

    @property
    def missing(self) -> list[GradebookEntry]:
        return [e for e in self.entries if e.status == "missing"]

    def function_pass_rates(self) -> list[tuple[str, float, int]]:
        """(function, share of graded submissions with full points on it, count), rubric order."""
        rates = []
        for name in self.functions:
            verdicts = []
            for _, result in self.graded:
                function = next((f for f in result.functions if f.name == name), None)
                if function is not None and function.properties:
                    verdicts.append(function.points >= function.max_points)
            if verdicts:
                rates.append((name, sum(verdicts) / len(verdicts), len(verdicts)))
        return rates

    def property_pass_rates(self) -> list[tuple[str, float, int]]:
        """("function · property", pass rate, count), rubric order; our internal errors left out."""
        verdicts: dict[tuple[str, str], list[bool]] = {}
        for _, result in self.graded:
            for function in result.functions:
                for prop in function.properties:
                    if not prop.internal_error:
                        verdicts.setdefault((function.name, prop.property), []).append(prop.passed)
        order = {name: index for index, name in enumerate(self.functions)}
        keys = sorted(verdicts, key=lambda key: order.get(key[0], len(order)))  # stable: first-met order within a function
        return [(f"{f} · {p}", sum(verdicts[f, p]) / len(verdicts[f, p]), len(verdicts[f, p])) for f, p in keys]

    def mistakes(self) -> list[_Mistake]:
        """Known mistakes by number of students who made them (then by text)."""
        found: dict[str, _Mistake] = {}
        for entry, result in self.graded:
            for function in result.functions:
                for prop in function.properties:
                    if prop.passed or prop.internal_error or not prop.hint:
                        continue
                    sentence = hint_summary(prop.hint)
                    mistake = found.setdefault(_hint_key(sentence), _Mistake())
                    if entry.student not in mistake.students:
                        mistake.variants[sentence] += 1
                        mistake.full_text[" ".join(prop.hint.split())] += 1
                    mistake.students.add(entry.student)
                    mistake.where.setdefault(function.name, {})[prop.property] = None
        return sorted(found.values(), key=lambda m: (-len(m.students), m.sentence))

    def unexplained_failures(self) -> dict[str, tuple[set, dict]]:
        """Per function: the students with a failure no hint explains, and which properties failed so."""
        found: dict[str, tuple[set, dict]] = {}
        for entry, result in self.graded:
            for function in result.functions:
                for prop in function.properties:
                    if not prop.passed and not prop.internal_error and not prop.hint:
                        students, properties = found.setdefault(function.name, (set(), {}))
                        students.add(entry.student)
                        properties[prop.property] = None
        return found

    def not_graded(self) -> list[tuple[str, str, list[str]]]:
        """(status, reason, students) for ungradable and internal-error submissions, most frequent first."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entry, result in zip(self.entries, self.results):
            if entry.status in ("graded", "missing"):
                continue
            reason = entry.error or result.error or "(no reason recorded)"
            if result.path:  # the same problem in differently named files is one reason
                reason = reason.replace(result.path, "<file>").replace(Path(result.path).name, "<file>")
            groups[entry.status, reason].append(entry.student)
        return sorted(((s, r, sorted(students)) for (s, r), students in groups.items()), key=lambda g: (-len(g[2]), g[0], g[1]))


def _statistics(name: str, entries: list[GradebookEntry]) -> _AssignmentStats:
    entries = sorted(entries, key=lambda entry: entry.student)
    results = [submission_result(entry) for entry in entries]
    try:
        spec = rubrics.get(name)
        functions, max_points = [f.name for f in spec.functions], spec.max_points
    except KeyError:  # an assignment whose rubric is gone: take what the results hold
        functions = list(dict.fromkeys(f.name for r in results for f in r.functions))
        max_points = max((e.max_points for e in entries), default=0.0)
    return _AssignmentStats(name, entries, results, functions, max_points)


# ---------------------------------------------------------------- plots


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure, alt: str) -> str:
    """The figure as an ``<img>`` with a base64 PNG (no software tag, so the bytes are reproducible)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None}, facecolor="white")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _histogram(stats: _AssignmentStats) -> str:
    import matplotlib
    import numpy as np

    graded, ungradable = stats.scores("graded"), stats.scores("ungradable")
    top = max([stats.max_points, *graded, *ungradable, 1.0])
    if top <= 60:
        edges = np.arange(-0.5, np.floor(top) + 1.0, 1.0)
    else:
        edges = np.linspace(0.0, top, 31)
    with matplotlib.rc_context(_PLOT_STYLE):
        figure = _figure(9.0, 3.2)
        axes = figure.add_subplot()
        data, colors, labels = [], [], []
        for scores, color, label in ((graded, _ACCENT, "graded"), (ungradable, _MUTED, "ungradable (scored 0)")):
            if scores:
                data.append(scores)
                colors.append(color)
                labels.append(label)
        if data:
            axes.hist(data, bins=edges, stacked=True, color=colors, label=labels, edgecolor="white", linewidth=0.6)
        scored = graded + ungradable
        if scored:
            mean, median = statistics.fmean(scored), statistics.median(scored)
            axes.axvline(mean, color=_INK, linestyle="--", linewidth=1.2, label=f"mean {mean:.1f}")
            axes.axvline(median, color=_POOR, linestyle="-", linewidth=1.6, zorder=3, label=f"median {median:g}")
        axes.set_xlim(edges[0], edges[-1])
        axes.set_xlabel(f"points (out of {stats.max_points:g})")
        axes.set_ylabel("submissions")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if scored:  # nothing to label when every submission hit an internal error
            axes.legend(frameon=False, loc="upper left")
        return _png(figure, f"{stats.name}: histogram of scores")


def _rate_color(rate: float) -> str:
    return _GOOD if rate >= 0.8 else _FAIR if rate >= 0.5 else _POOR


def _bars(items: Sequence[tuple[str, float, str]], *, xlabel: str, alt: str, percent: bool, wrap: int = 60, title: str = "") -> str:
    """Horizontal bars, first item at the top: (label, value, annotation)."""
    import matplotlib

    labels = ["\n".join(textwrap.wrap(label, wrap)) or " " for label, _, _ in items]
    lines_per_bar = max((label.count("\n") + 1 for label in labels), default=1)
    with matplotlib.rc_context(_PLOT_STYLE):
        figure = _figure(9.0, 0.7 + (0.16 + 0.17 * lines_per_bar) * len(items))
        axes = figure.add_subplot()
        positions = list(range(len(items)))[::-1]
        values = [value for _, value, _ in items]
        colors = [_rate_color(value) for value in values] if percent else [_ACCENT] * len(items)
        axes.barh(positions, values, color=colors, height=0.68)
        axes.set_yticks(positions, labels)
        axes.tick_params(axis="y", length=0)
        limit = 1.0 if percent else max(values, default=1) * 1.0
        axes.set_xlim(0, limit * 1.16)
        for position, (_, value, note) in zip(positions, items):
            axes.text(value + limit * 0.01, position, note, va="center", fontsize=9, color=_INK)
        if percent:
            axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0 %", "25 %", "50 %", "75 %", "100 %"])
        else:
            axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_xlabel(xlabel)
        if title:
            axes.set_title(title, loc="left", fontsize=10, color=_INK)
        return _png(figure, alt)


def _pass_rate_plot(rates: list[tuple[str, float, int]], *, alt: str, title: str) -> str:
    ordered = sorted(rates, key=lambda item: item[1])  # stable: rubric order among equal rates
    items = [(label, rate, f"{rate:.0%} of {count}") for label, rate, count in ordered]
    return _bars(items, xlabel="share of graded submissions that passed", alt=alt, percent=True, title=title)


# ---------------------------------------------------------------- HTML


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _breakable(name: str) -> str:
    """An escaped identifier that may wrap after its underscores (long function names in table headers)."""
    return _e(name).replace("_", "_<wbr>")


def _card(value: str, label: str, *, warn: bool = False) -> str:
    return f'<div class="card{" warn" if warn else ""}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _section(stats: _AssignmentStats, anchor: str) -> list[str]:
    scored = stats.scores("graded") + stats.scores("ungradable")
    counts = Counter(entry.status for entry in stats.entries)
    full = sum(1 for e in stats.entries if e.status == "graded" and e.points >= stats.max_points)
    late = [e for e, _ in stats.submitted if e.seconds_late > 0]
    versions = sorted({entry.rubric_version for entry, _ in stats.submitted} or {e.rubric_version for e in stats.entries})
    due = {e.due_date for e in stats.entries if e.due_date and not _has_extension(e, stats.entries)}
    out = [f'<section id="{anchor}">', f"<h2>{_e(stats.name)}</h2>"]
    facts = f"Rubric version {_e(', '.join(versions))}; {len(stats.functions)} functions, {stats.max_points:g} points."
    if due:
        facts += f" Due {_e(', '.join(sorted(_when(d) for d in due)))}."
    out.append(f'<p class="muted">{facts}</p>')
    out.append('<div class="cards">')
    out.append(_card(str(len(stats.submitted)), "submissions"))
    out.append(_card(str(counts["graded"]), "graded"))
    out.append(_card(str(counts["ungradable"]), "ungradable", warn=counts["ungradable"] > 0))
    out.append(_card(str(counts["internal error"]), "internal errors", warn=counts["internal error"] > 0))
    out.append(_card(str(len(stats.missing)), "missing", warn=bool(stats.missing)))
    out.append(_card(str(len(late)), "late", warn=bool(late)))
    if scored:
        out.append(_card(f"{statistics.fmean(scored):.1f}", "mean points"))
        out.append(_card(f"{statistics.median(scored):g}", "median points"))
    out.append(_card(str(full), "full marks"))
    out.append("</div>")

    out.append("<h3>Score distribution</h3>")
    out.append(_histogram(stats))
    out.append('<p class="muted">Ungradable submissions count with 0 points; internal errors (our bugs) are left out.</p>')

    out.append("<h3>Pass rates</h3>")
    if stats.graded:
        graded = len(stats.graded)
        out.append(f'<p class="muted">Over the {graded} graded submission{"s" if graded != 1 else ""}: '
                   "a function passes with all its points; green at 80 % and above, amber from 50 %, red below.</p>")
        out.append(_pass_rate_plot(stats.function_pass_rates(), alt=f"{stats.name}: pass rate per function", title="Per function (worst first)"))
        out.append(_pass_rate_plot(stats.property_pass_rates(), alt=f"{stats.name}: pass rate per property", title="Per property (worst first)"))
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
    from .lateness import parse_timestamp

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


def _missing_section(stats: _AssignmentStats) -> list[str]:
    if not stats.missing:
        return []
    links = ", ".join(_student_link(entry.student) for entry in stats.missing)
    return ["<h3>Missing</h3>",
            f"<p>{len(stats.missing)} student{'s' if len(stats.missing) != 1 else ''} of the class submitted nothing "
            f"(0 points in every export): {links}.</p>"]


def _mistakes_section(stats: _AssignmentStats) -> list[str]:
    out = ["<h3>Most common mistakes: what to teach again</h3>"]
    mistakes = stats.mistakes()
    graded = len(stats.graded)
    if not mistakes:
        out.append("<p>No failure matched a known mistake.</p>")
    else:
        out.append(f'<p class="muted">Each failing property whose smallest counterexample matched a known mistake '
                   f"got a hint; students are counted once per mistake (out of {graded} graded).</p>")
        shown = mistakes[:12]
        items = [(m.sentence, len(m.students), f"{len(m.students)} ({len(m.students) / graded:.0%})") for m in shown]
        out.append(_bars(items, xlabel="students", alt=f"{stats.name}: students per mistake", percent=False, wrap=60))
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


def _not_graded_section(stats: _AssignmentStats) -> list[str]:
    groups = stats.not_graded()
    out = ["<h3>Not graded</h3>"]
    if not groups:
        return out + ["<p>Every submission could be graded.</p>"]
    counts = Counter(entry.status for entry in stats.entries)
    out.append(f"<p>{counts['ungradable']} ungradable (the student's file could not be read), "
               f"{counts['internal error']} internal error{'s' if counts['internal error'] != 1 else ''} "
               "(a grader bug: not charged to the student, regrade after the fix).</p>")
    out.append('<table><thead><tr><th>status</th><th class="num">count</th><th>reason</th><th>students</th></tr></thead><tbody>')
    for status, reason, students in groups:
        css = "status-ungradable" if status == "ungradable" else "status-internal"
        out.append(f'<tr><td class="{css}">{_e(status)}</td><td class="num">{len(students)}</td>'
                   f"<td>{_e(reason)}</td><td>{_e(', '.join(students))}</td></tr>")
    out.append("</tbody></table>")
    return out


def _points_cell(points: float | None, max_points: float) -> str:
    if points is None:
        return '<td class="num"></td>'
    css = "full" if points >= max_points else "zero" if points <= 0 else "part"
    return f'<td class="num {css}">{points:g}</td>'


def _students_section(stats: _AssignmentStats) -> list[str]:
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
    css = {"ungradable": "status-ungradable", "internal error": "status-internal", "missing": "status-missing"}.get(status)
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
            elif entry.status == "missing":
                cells.append('<td class="num missing">missing</td>')
            else:
                css = "full" if entry.score >= entry.max_points else "zero" if entry.score <= 0 else "part"
                note = f"<br>{_late_note(entry)}" if entry.seconds_late > 0 else ""
                mark = "" if entry.status == "graded" else f' <span{_status_class(entry.status)}>({_e(entry.status)})</span>'
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
        if entry.status == "missing":
            out.append(f"<h3>{title}: missing</h3><p>No submission: 0 / {entry.max_points:g} points.</p>")
            continue
        penalty = f" &minus; {entry.late_penalty:g} late penalty = <b>{entry.score:g}</b>" if entry.late_penalty else ""
        out.append(f"<h3>{title}: {entry.points:g} / {entry.max_points:g}{penalty}"
                   f"{'' if entry.status == 'graded' else f' <span{_status_class(entry.status)}>({_e(entry.status)})</span>'}</h3>")
        facts = [f"submitted {_when(entry.timestamp)}" if entry.timestamp else "no timestamp"]
        if entry.due_date:
            facts.append(f"due {_when(entry.due_date)}")
        if entry.seconds_late > 0:
            facts.append(f"late by {_duration(entry.seconds_late)}")
        out.append(f'<p class="facts">{_e("; ".join(facts))}.</p>')
        if entry.error or result.error:
            out.append(f'<p{_status_class(entry.status)}>{_e(entry.error or result.error)}</p>')
        notes = [note for note in result.notes if not note.startswith("grader traceback")]
        if notes:
            out.append("<p class=\"facts\">While loading the code:</p><ul>" + "".join(f"<li>{_e(note)}</li>" for note in notes) + "</ul>")
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
    from .exports import grading_conditions
    from .sandbox.protections import missing_kernel_protections

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
    assignment: summary counts; a histogram of scores; pass rates per
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
    by_assignment: dict[str, list[GradebookEntry]] = defaultdict(list)
    for entry in entries:
        by_assignment[entry.assignment].append(entry)
    names = sorted(by_assignment)
    title = title or ("Grading report: " + ", ".join(names) if names else "Grading report")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missing = sum(entry.status == "missing" for entry in entries)
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
        page += _section(_statistics(name, by_assignment[name]), anchors[name])
    if by_student:
        page.append('<section id="students"><h2>Students</h2>'
                    '<p class="muted">Each student\'s results per property, with the feedback they got.</p></section>')
        for student, own in by_student.items():
            page += _student_section(student, own, anchors)
    page.append("</main></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(page) + "\n", encoding="utf-8")
    return path
