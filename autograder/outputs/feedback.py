"""Feedback for students and instructors, from a :class:`~autograder.engine.results.SubmissionResult`.

``feedback_text`` is plain Markdown (it reads well in a terminal, a file or
a gradebook comment); ``function_sections`` is its part for some functions
alone (a Gradescope test, a notebook's test cell); ``score_table`` is the
rich table ``autograder check`` prints.
"""

from __future__ import annotations

import textwrap

from rich.table import Table

from ..engine.results import FunctionResult, Status, SubmissionResult

__all__ = ["feedback_text", "function_sections", "not_graded", "score_table"]


def _points(value: float) -> str:
    return f"{value:g}"


def _cases(count: int) -> str:
    return f"{count} case" if count == 1 else f"{count} cases"


def _code_block(text: str) -> list[str]:
    return ["", *("    " + line for line in text.splitlines()), ""]


def feedback_text(result: SubmissionResult, *, failures_only: bool = False) -> str:
    """Everything a student needs: score, each failing property's minimal counterexample and hint.

    Markdown that also reads as plain text: calls and arrays are indented code blocks.
    ``failures_only`` leaves out the functions that passed. The grader's own
    traceback (``result.traceback``) is for the instructor and never shown.
    """
    lines = [f"# {result.assignment}: {_points(result.points)} / {_points(result.max_points)} points", ""]
    if not_graded(result):
        lines += [not_graded(result), ""]
    elif result.status == Status.GRADED and result.error:  # nothing could be loaded
        lines += [f"Nothing was graded: {result.error}.", ""]
    if result.notes:
        lines += ["While loading your code:", "", *[f"- {note}" for note in result.notes], ""]
    for function in result.functions:
        if not (failures_only and function.passed):
            lines += _function_lines(function)
    return "\n".join(lines).rstrip() + "\n"


def not_graded(result: SubmissionResult) -> str:
    """Why an ungradable submission or an internal error was not graded, in the student's words; ``""`` when graded."""
    if result.status == Status.UNGRADABLE:
        return f"Your submission could not be graded: {result.error}"
    if result.status == Status.INTERNAL_ERROR:
        return f"The grader itself failed on your submission (not your fault; your instructor has been told): {result.error}"
    return ""


def function_sections(functions: list[FunctionResult]) -> str:
    """The Markdown sections :func:`feedback_text` writes for these functions (each from its ``##`` heading)."""
    return "\n".join(line for function in functions for line in _function_lines(function)).rstrip() + "\n"


def _function_lines(function: FunctionResult) -> list[str]:
    """One function's section: its heading, where it was defined, each property's verdict and feedback."""
    mark = "passed" if function.passed else "FAILED"
    lines = [f"## {function.name}: {_points(function.points)} / {_points(function.max_points)} ({mark})", ""]
    if function.defined_at:
        lines += [f"Graded: the definition at {function.defined_at}.", ""]
    if function.note and not function.passed:
        return lines + [function.note, ""]
    shown: set[tuple[str, str]] = set()
    for prop in function.properties:
        status = "ok" if prop.passed else ("internal error, not counted" if prop.internal_error else "FAILED")
        where = f", {prop.check}" if prop.check else ""
        if prop.max_points or prop.passed:
            lines.append(f"- {prop.property}{where}: {status} ({_points(prop.points)}/{_points(prop.max_points)} points, {_cases(prop.examples)})")
        else:  # an error raised on some valid cases: its cost is charged to a property below
            lines.append(f"- {prop.property}{where}: {status}")
        if prop.passed:
            if prop.message:  # e.g. a speed check's measured ratio
                lines.append(f"  {prop.message}")
            continue
        if prop.counterexample and (prop.counterexample, prop.message) in shown:  # one failure shown once
            lines += ["  Same failure as above (same smallest call, same error).", ""]
            continue
        shown.add((prop.counterexample, prop.message))
        if prop.counterexample:
            lines += ["", "  Smallest failing call:", *("  " + line if line else line for line in _code_block(prop.counterexample))]
        if prop.message:
            first, *rest = prop.message.splitlines()
            lines.append(f"  What went wrong: {first}")
            if rest:
                lines += ["  " + line if line else line for line in _code_block(textwrap.dedent("\n".join(rest)).strip("\n"))]
        if prop.hint:
            lines.append(f"  Hint: {prop.hint}")
        lines.append("")
    return lines + [""]


def score_table(result: SubmissionResult) -> Table:
    """Function, property, points and verdict, one row per property."""
    table = Table(title=f"{result.assignment}: {_points(result.points)} / {_points(result.max_points)} points")
    table.add_column("function", no_wrap=True)
    table.add_column("property", no_wrap=True)
    table.add_column("cases", justify="right")
    table.add_column("points", justify="right")
    table.add_column("", justify="center")
    for function in result.functions:
        for prop in function.properties:
            verdict = "[green]ok[/]" if prop.passed else ("[yellow]internal[/]" if prop.internal_error else "[red]FAILED[/]")
            name = prop.property + (f" ({prop.check})" if prop.check else "")
            points = f"{_points(prop.points)}/{_points(prop.max_points)}" if prop.max_points or prop.passed else "-"
            table.add_row(function.name, name, str(prop.examples), points, verdict)
    return table
