"""The ``autograder`` command. Thin: it parses arguments and calls the API.

Defaults come from the API functions' own keyword defaults, so the two
cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import Progress
from rich.table import Table

from . import console, rubrics
from .crosscheck import crosscheck
from .feedback import feedback_text, score_table
from .grading import grade

#: Cases per check for ``autograder check``: a quick answer while a student works.
CHECK_EXAMPLES = 30


def _default(function, name: str):
    return function.__kwdefaults__[name]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Property-based autograder for convolutional-layer exercises."""


@main.command()
@click.option("--examples", default=_default(crosscheck, "examples"), show_default=True, help="Drawn cases per op.")
@click.option("--op", "ops", multiple=True, help="Only this op (repeatable).")
def demo(examples: int, ops: tuple[str, ...]) -> None:
    """Cross-check the NumPy reference engine against the torch oracle on drawn cases."""
    with Progress(transient=True, console=console.err) as progress:
        task = progress.add_task("cross-checking", total=None)
        summaries = crosscheck(
            examples=examples,
            ops=ops or None,
            progress=lambda name: progress.update(task, description=f"cross-checking {name}"),
        )
    if not summaries:
        console.fail(f"no op named {', '.join(ops)}", next_step="run `autograder demo` without --op to check every op")
    table = Table(title=f"Reference engine vs naive twin and torch oracle: largest normwise error, float64, {examples} cases per op")
    table.add_column("op", no_wrap=True)
    for column in ("cases", "vs naive", "vs torch", "inputs kept", "seconds", ""):
        table.add_column(column, justify="right", no_wrap=True)
    for s in summaries:
        table.add_row(
            s.op,
            str(s.cases),
            f"{s.max_error_naive:.1e}",
            f"{s.max_error_torch:.1e}",
            "yes" if s.inputs_unchanged else "[red]NO[/]",
            f"{s.seconds:.2f}",
            "[green]ok[/]" if s.ok else "[red]MISMATCH[/]",
        )
    console.out.print(table)
    bad = [s for s in summaries if not s.ok]
    if bad:
        for s in bad:
            console.err.print(f"[red]{s.op}[/]: largest disagreement on {s.worst_case}")
        console.fail(
            f"{len(bad)} op(s) disagree beyond 1e-10 or modified their inputs",
            next_step="run `./dev test tests/reference` to get a minimal failing case",
            code=1,
        )
    total = sum(s.cases for s in summaries)
    console.out.print(f"All {len(summaries)} ops agree to 1e-10 (normwise relative error) on {total} cases.")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--assignment", default=_default(grade, "assignment"), show_default=True, help="Which assignment's rubric.")
@click.option("--examples", default=CHECK_EXAMPLES, show_default=True, help="Cases drawn per check (grading uses the rubric's, at least 100).")
@click.option(
    "--engine",
    type=click.Choice(["auto", "reference", "oracle"]),
    default=_default(grade, "engine"),
    show_default=True,
    help="Where expected values come from; 'auto' falls back to the torch oracle where the reference engine is not installed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON instead of the report.")
def check(file: Path, assignment: str, examples: int, engine: str, as_json: bool) -> None:
    """Check your own FILE (.py or .ipynb) against an assignment, with counterexamples.

    Exit status: 0 all passed, 1 some property failed, 2 the file could not be graded,
    3 the grader failed (not your fault).
    """
    try:
        rubrics.get(assignment)
    except KeyError as error:
        console.fail(str(error.args[0]), next_step="pass --assignment with one of the names above")
    with Progress(transient=True, console=console.err) as progress:
        task = progress.add_task("loading", total=None)
        result = grade(
            file,
            assignment=assignment,
            examples=examples,
            engine=engine,
            progress=lambda name: progress.update(task, description=f"checking {name}"),
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        console.out.print(score_table(result))
        failing = result.status != "graded" or any(not f.passed for f in result.functions) or result.notes
        if failing:
            console.out.print(feedback_text(result, failures_only=True), markup=False, highlight=False)
        else:
            console.out.print(f"All {len(result.functions)} functions pass every check. Well done.")
        source = {"reference": "the reference engine, cross-checked by torch", "oracle": "the torch oracle"}.get(result.engine, "nowhere")
        console.out.print(f"[dim]{result.seconds:.1f} s; expected values from {source}[/]")
    if result.status == "internal error":
        raise SystemExit(3)
    if result.status == "ungradable":
        raise SystemExit(2)
    raise SystemExit(0 if all(f.passed for f in result.functions) else 1)
