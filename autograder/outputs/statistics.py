"""The class's figures, computed once: every output that shows them reads them from here.

``autograder grade``'s class summary, the ``summary`` of ``grades.json`` and
the HTML report all show :class:`AssignmentStatistics`. One definition holds
for all three:

- A score is the points of a ``graded`` submission (also one where nothing
  could be loaded: that zero is the student's). An ``ungradable`` submission
  (the file could not be read) and an ``internal error`` (a bug of ours) are
  not scores: they are left out of the mean, the median, the distribution
  and the full marks, and counted as ``excluded``. A ``missing`` student
  (on the roster, nothing submitted) is not a submission at all.
- ``mean_score`` and ``median_score`` are of the raw points (what the class
  could do); ``mean_final_score`` of the scores after late penalties.
- Pass rates are over the graded submissions: a function passes with all its
  points, a property when it held; a property that hit an internal error of
  ours is left out of its rate.

The report's teaching figures (the most common mistakes, the failures no
hint explains, the submissions that could not be graded and why) are here
too, beside the counts they share.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import rubrics
from ..classroom.gradebook import GradebookEntry, submission_result
from ..engine.results import Status, SubmissionResult

__all__ = ["AssignmentStatistics", "Mistake", "assignment_statistics", "class_statistics", "hint_summary"]


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
class Mistake:
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
class AssignmentStatistics:
    """One assignment's entries (sorted by student) and every figure computed from them."""

    name: str
    entries: list[GradebookEntry]
    results: list[SubmissionResult]
    functions: list[str]  # the rubric's, in its order
    max_points: float

    # ------------------------------------------------------------ who

    def _with(self, status: Status) -> list[GradebookEntry]:
        return [entry for entry in self.entries if entry.status == status]

    @property
    def submitted(self) -> list[tuple[GradebookEntry, SubmissionResult]]:
        """Every submission, whatever its status; the missing students left out."""
        return [(e, r) for e, r in zip(self.entries, self.results) if e.status != Status.MISSING]

    @property
    def graded(self) -> list[tuple[GradebookEntry, SubmissionResult]]:
        """The submissions whose points are scores."""
        return [(e, r) for e, r in zip(self.entries, self.results) if e.status == Status.GRADED]

    @property
    def missing(self) -> list[GradebookEntry]:
        return self._with(Status.MISSING)

    # ------------------------------------------------------------ counts

    @property
    def submissions(self) -> int:
        return len(self.submitted)

    @property
    def ungradable(self) -> int:
        return len(self._with(Status.UNGRADABLE))

    @property
    def internal_errors(self) -> int:
        return len(self._with(Status.INTERNAL_ERROR))

    @property
    def excluded(self) -> int:
        """Submissions that are not scores: ungradable ones and internal errors."""
        return self.ungradable + self.internal_errors

    @property
    def late(self) -> int:
        return sum(entry.seconds_late > 0 for entry, _ in self.submitted)

    @property
    def full_marks(self) -> int:
        return sum(score >= self.max_points for score in self.scores)

    # ------------------------------------------------------------ scores

    @property
    def scores(self) -> list[float]:
        """The raw points of the graded submissions: the distribution."""
        return [entry.points for entry, _ in self.graded]

    @property
    def final_scores(self) -> list[float]:
        """The graded submissions' scores after late penalties."""
        return [entry.score for entry, _ in self.graded]

    @property
    def mean_score(self) -> float | None:
        return _mean(self.scores)

    @property
    def median_score(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def mean_final_score(self) -> float | None:
        return _mean(self.final_scores)

    # ------------------------------------------------------------ pass rates

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

    # ------------------------------------------------------------ what to teach again

    @cached_property
    def mistakes(self) -> list[Mistake]:
        """Known mistakes by number of students who made them (then by text)."""
        found: dict[str, Mistake] = {}
        for entry, result in self.graded:
            for function in result.functions:
                for prop in function.properties:
                    if prop.passed or prop.internal_error or not prop.hint:
                        continue
                    sentence = hint_summary(prop.hint)
                    mistake = found.setdefault(_hint_key(sentence), Mistake())
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
        """(status, reason, students) for the excluded submissions, most frequent first."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entry, result in zip(self.entries, self.results):
            if entry.status in (Status.GRADED, Status.MISSING):
                continue
            reason = entry.error or result.error or "(no reason recorded)"
            if result.path:  # the same problem in differently named files is one reason
                reason = reason.replace(result.path, "<file>").replace(Path(result.path).name, "<file>")
            groups[entry.status, reason].append(entry.student)
        return sorted(((s, r, sorted(students)) for (s, r), students in groups.items()), key=lambda g: (-len(g[2]), g[0], g[1]))

    # ------------------------------------------------------------ projections

    def summary(self) -> dict:
        """The figures of ``grades.json``'s ``summary.assignments[name]``."""
        return {
            "count": self.submissions,
            Status.GRADED.value: len(self.graded),
            Status.UNGRADABLE.value: self.ungradable,
            Status.INTERNAL_ERROR.value: self.internal_errors,
            Status.MISSING.value: len(self.missing),
            "excluded": self.excluded,
            "late": self.late,
            "max_score": self.max_points,
            "mean_score": _rounded(self.mean_score),
            "median_score": _rounded(self.median_score),
            "mean_final_score": _rounded(self.mean_final_score),
        }

    def excluded_note(self) -> str:
        """What the figures leave out, in words: ``"1 ungradable submission and 2 internal errors"`` (``""`` for none)."""
        parts = [f"{self.ungradable} ungradable submission{'s' if self.ungradable != 1 else ''}"] if self.ungradable else []
        if self.internal_errors:
            parts.append(f"{self.internal_errors} internal error{'s' if self.internal_errors != 1 else ''}")
        return " and ".join(parts)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def assignment_statistics(name: str, entries: list[GradebookEntry]) -> AssignmentStatistics:
    """The figures of one assignment from its entries (any order; missing students included)."""
    entries = sorted(entries, key=lambda entry: entry.student)
    results = [submission_result(entry) for entry in entries]
    try:
        spec = rubrics.get(name)
        functions, max_points = [f.name for f in spec.functions], float(spec.max_points)
    except KeyError:  # an assignment whose rubric is gone: take what the results hold
        functions = list(dict.fromkeys(f.name for r in results for f in r.functions))
        max_points = max((e.max_points for e in entries), default=0.0)
    return AssignmentStatistics(name, entries, results, functions, max_points)


def class_statistics(entries: list[GradebookEntry]) -> dict[str, AssignmentStatistics]:
    """Each assignment's figures, by assignment name (sorted)."""
    by_assignment: dict[str, list[GradebookEntry]] = defaultdict(list)
    for entry in entries:
        by_assignment[entry.assignment].append(entry)
    return {name: assignment_statistics(name, by_assignment[name]) for name in sorted(by_assignment)}
