"""Typed grading results: per property, per function, per submission; all with ``to_dict()``.

A crash anywhere becomes a result with a reason, never a traceback shown to a
student: ``SubmissionResult.status`` is a :class:`Status`, ``"graded"``,
``"ungradable"`` (the submission could not be read) or ``"internal error"``
(a bug of ours, never charged to the student); a gradebook entry of a
student who submitted nothing is ``"missing"``. A graded submission in which
none of the assignment's functions could be loaded (a syntax error
everywhere, say) keeps ``"graded"`` (it earns the zero it scores) with an
``error`` that says why. The grader's own traceback after an internal error
is :attr:`SubmissionResult.traceback`, for the instructor: the JSON export
and ``autograder check --json`` carry it, the student's feedback never does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

__all__ = ["Status", "PropertyResult", "FunctionResult", "SubmissionResult", "TRACEBACK_NOTE"]


class Status(StrEnum):
    """What became of a submission. A ``str``: JSON, CSV and the gradebook hold the plain words.

    >>> Status.INTERNAL_ERROR == "internal error", f"{Status.GRADED}"
    (True, 'graded')
    """

    GRADED = "graded"  # scored; also when nothing could be loaded (the zero is the student's)
    UNGRADABLE = "ungradable"  # the submission could not be read
    INTERNAL_ERROR = "internal error"  # a bug of ours: not the student's score
    MISSING = "missing"  # on the roster, nothing submitted (gradebook entries only)


#: The prefix of a traceback stored as a note (gradebooks of earlier releases); ``from_dict`` reads it into ``traceback``.
TRACEBACK_NOTE = "grader traceback (for the instructor): "


@dataclass
class PropertyResult:
    """The verdict on one property of one function."""

    function: str
    property: str
    max_points: float
    passed: bool
    examples: int = 0  # cases tried
    message: str = ""  # expected vs got, on the counterexample
    counterexample: str = ""  # the minimal failing call, in the course's names
    hint: str = ""  # a known mistake this failure matches, and its fix
    internal_error: bool = False  # our fault: scored as passed, reported to the instructor
    check: str = ""  # which check of the rubric (e.g. "configurations that fit")
    charged_for_error: bool = False  # held where the call returned; failed to pay for an error raised on other valid cases

    @property
    def points(self) -> float:
        return self.max_points if self.passed or self.internal_error else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "points": self.points}

    @classmethod
    def from_dict(cls, data: dict) -> PropertyResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass
class FunctionResult:
    """All properties of one student function."""

    name: str
    properties: list[PropertyResult] = field(default_factory=list)
    note: str = ""  # e.g. "not defined in your file"
    defined_at: str = ""  # where the graded definition came from: "line 12", "code cell 3 (In [7]), line 1"

    @property
    def points(self) -> float:
        return sum(p.points for p in self.properties)

    @property
    def max_points(self) -> float:
        return sum(p.max_points for p in self.properties)

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.properties)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "passed": self.passed,
            "note": self.note,
            "defined_at": self.defined_at,
            "properties": [p.to_dict() for p in self.properties],
        }

    @classmethod
    def from_dict(cls, data: dict) -> FunctionResult:
        return cls(data["name"], [PropertyResult.from_dict(p) for p in data["properties"]], data.get("note", ""),
                   data.get("defined_at", ""))


@dataclass
class SubmissionResult:
    """A whole submission graded against one assignment."""

    path: str
    assignment: str
    rubric_version: str
    functions: list[FunctionResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # loading notes: skipped cells, hung cells, ... (shown to the student)
    status: Status = Status.GRADED
    error: str = ""  # why it is ungradable, the internal error, or why no function could be loaded
    traceback: str = ""  # the grader's traceback after an internal error: for the instructor, never in feedback
    seconds: float = 0.0
    max_points_total: float = 0.0  # the rubric's total, also when nothing could be graded
    engine: str = ""  # where expected values came from: "reference" (cross-checked by torch) or "oracle"
    #: The sandbox's ``protections`` while this was graded (for ``autograder check``'s line; not in
    #: ``to_dict``: a class run records its machines' protections in the gradebook's grader field).
    protections: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def points(self) -> float:
        return sum(f.points for f in self.functions)

    @property
    def max_points(self) -> float:
        return self.max_points_total or sum(f.max_points for f in self.functions)

    @property
    def internal_errors(self) -> list[PropertyResult]:
        return [p for f in self.functions for p in f.properties if p.internal_error]

    def function(self, name: str) -> FunctionResult:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    def only(self, names: list[str], max_points: float) -> SubmissionResult:
        """The same result restricted to the functions ``names`` (worth ``max_points`` together)."""
        return SubmissionResult(
            path=self.path, assignment=self.assignment, rubric_version=self.rubric_version,
            functions=[f for f in self.functions if f.name in names], notes=self.notes, status=self.status,
            error=self.error, traceback=self.traceback, seconds=self.seconds, max_points_total=max_points,
            engine=self.engine,
        )

    def to_dict(self) -> dict:
        """Every field but ``protections``; ``traceback`` only when there is one."""
        data = {
            "path": self.path,
            "assignment": self.assignment,
            "rubric_version": self.rubric_version,
            "status": self.status,
            "error": self.error,
            "engine": self.engine,
            "points": self.points,
            "max_points": self.max_points,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "functions": [f.to_dict() for f in self.functions],
        }
        if self.traceback:
            data["traceback"] = self.traceback
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        """The inverse of :meth:`to_dict` (derived fields such as ``points`` are recomputed).

        A note starting with :data:`TRACEBACK_NOTE` (how gradebooks of earlier
        releases stored the grader's traceback) is read into ``traceback``.
        """
        notes = list(data.get("notes", []))
        traceback = data.get("traceback", "")
        for note in [note for note in notes if note.startswith(TRACEBACK_NOTE)]:
            notes.remove(note)
            traceback = traceback or note.removeprefix(TRACEBACK_NOTE)
        return cls(
            path=data["path"],
            assignment=data["assignment"],
            rubric_version=data["rubric_version"],
            functions=[FunctionResult.from_dict(f) for f in data["functions"]],
            notes=notes,
            status=Status(data.get("status", Status.GRADED)),
            error=data.get("error", ""),
            traceback=traceback,
            seconds=data.get("seconds", 0.0),
            max_points_total=data.get("max_points", 0.0),
            engine=data.get("engine", ""),
        )
