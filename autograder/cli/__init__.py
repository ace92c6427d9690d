"""The ``autograder`` command. Thin: it parses arguments and calls the API.

Defaults come from the API functions' own keyword defaults, so the two
cannot drift apart. ``check`` is here, in every install; the instructor's
commands (``grade``, ``release``, ``gradescope``, ``export``, ``report``,
``demo``) are in :mod:`autograder.cli.instructor`, which the students'
package leaves out: there they answer with what to do instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import Progress

from .. import __version__, rubrics
from ..engine.fingerprint import fingerprint_differences, grader_fingerprint
from ..engine.grading import grade
from ..engine.identify import IdentifyError, identify_assignment, metadata_of
from ..engine.results import Status
from ..engine.submission import SubmissionError, read_submission
from ..outputs.feedback import feedback_text, score_table
from ..sandbox.protections import summary_line
from . import console

#: Cases per check for ``autograder check``: a quick answer while a student works.
CHECK_EXAMPLES = 30

#: The instructor's commands, for the students' package to answer (see `_instructor_commands`).
INSTRUCTOR_COMMANDS = ("grade", "release", "gradescope", "export", "report", "demo")


class _Commands(click.Group):
    """The ``autograder`` group: the instructor's commands are imported when one of them, or the list, is asked for.

    ``autograder check`` then never imports the class tools (the gradebook's
    SQLAlchemy, the batch runner, the exports).
    """

    _registered = False

    def _register(self) -> None:
        if not _Commands._registered:
            _Commands._registered = True
            _instructor_commands()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._register()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._register()
        return super().list_commands(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def main() -> None:
    """Property-based autograder for convolutional-layer exercises."""


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--assignment", default=None,
              help="Which assignment's rubric (default: from the notebook's metadata, else the file name, else the functions it defines).")
@click.option("--examples", default=CHECK_EXAMPLES, show_default=True, help="Cases drawn per check (grading uses the rubric's, at least 100).")
@click.option(
    "--engine",
    type=click.Choice(["auto", "reference", "oracle"]),
    default=console.api_default(grade, "engine"),
    show_default=True,
    help="Where expected values come from; 'auto' falls back to the torch oracle where the reference engine is not installed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON instead of the report.")
def check(file: Path, assignment: str | None, examples: int, engine: str, as_json: bool) -> None:
    """Check your own FILE (.py or .ipynb) against an assignment, with counterexamples.

    The cases are public and the same on every run; grading draws its own.

    Exit status: 0 all passed, 1 some property failed, 2 the file could not be graded,
    3 the grader failed (not your fault).
    """
    try:
        chosen = identify_assignment(file, assignment)
    except IdentifyError as error:
        try:
            read_submission(file)
        except SubmissionError as unreadable:  # nothing to identify: say why it cannot be read
            console.fail(f"{file.name} could not be graded: {unreadable}", next_step="fix the file, then check again")
        console.fail(str(error), next_step="run `autograder check FILE --assignment NAME`")
    if not as_json:
        console.err.print(f"Checking {file.name} against {chosen.describe()}", highlight=False, soft_wrap=True)
        _warn_other_grader(file, chosen.name)
    with Progress(transient=True, console=console.err) as progress:
        task = progress.add_task("loading", total=None)
        result = grade(
            file,
            assignment=chosen.name,
            examples=examples,
            engine=engine,
            progress=lambda name: progress.update(task, description=f"checking {name}"),
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        console.out.print(score_table(result))
        failing = result.status != Status.GRADED or any(not f.passed for f in result.functions) or result.notes
        if failing:
            console.out.print(feedback_text(result, failures_only=True), markup=False, highlight=False, soft_wrap=True)
        else:
            console.out.print(f"All {len(result.functions)} functions pass every check. Well done.")
        source = {"reference": "the reference engine, cross-checked by torch", "oracle": "the torch oracle"}.get(result.engine, "nowhere")
        console.out.print(f"[dim]{result.seconds:.1f} s; expected values from {source}; public cases (graded ones are drawn anew)[/]")
    sandbox_line = summary_line(result.protections)  # a student's machine lacks some: say which, never refuse
    if sandbox_line:
        (console.err if as_json else console.out).print(sandbox_line, markup=False, highlight=False, soft_wrap=True)
    if result.status == Status.INTERNAL_ERROR:
        raise SystemExit(3)
    if result.status == Status.UNGRADABLE:
        raise SystemExit(2)
    raise SystemExit(0 if all(f.passed for f in result.functions) else 1)


def _warn_other_grader(file: Path, assignment: str) -> None:
    """Say so when the course released the notebook for another grader than this one (see `autograder.engine.fingerprint`)."""
    course = metadata_of(file).get("grader")
    if not isinstance(course, dict):
        return
    differences = fingerprint_differences(course, grader_fingerprint(rubrics.get(assignment)))
    for line in differences:
        console.err.print(f"[yellow]note:[/] {line}", highlight=False, soft_wrap=True)


def _instructor_commands() -> None:
    """Register the instructor's commands, or, in the students' package, commands that say where they are (see `_Commands`)."""
    try:
        from .instructor import register
    except ModuleNotFoundError as missing:
        if missing.name != "autograder.cli.instructor":
            raise  # the instructor's install is broken: say so, don't hide it
        for name in INSTRUCTOR_COMMANDS:
            main.add_command(_students_stand_in(name))
    else:
        register(main)


def _students_stand_in(name: str) -> click.Command:
    @click.command(name, hidden=True, add_help_option=False,
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def stand_in() -> None:
        console.fail(f"`autograder {name}` is an instructor's command; this is the students' package, "
                     "which checks your own work",
                     next_step="run `autograder check YOUR_NOTEBOOK.ipynb` (instructors: install the course "
                               "repository with `./dev`, which has every command)")

    return stand_in



if __name__ == "__main__":
    main()
