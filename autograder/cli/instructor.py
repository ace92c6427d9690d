"""The instructor's commands: ``grade``, ``release``, ``gradescope``, ``export``, ``report``, ``demo``.

They need the class tools (the gradebook, nbgrader, Dask, the report's plots)
and the reference engine, which the students' package leaves out; importing
`register` adds them to :data:`autograder.cli.main`. Thin, as the rest
of the CLI: each command parses its arguments and calls the API.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .. import rubrics
from ..classroom.batch import BatchError, WeakSandboxError, grade_class
from ..classroom.crosscheck import crosscheck
from ..engine.results import Status
from ..engine.secret import CLASS_SECRET_FILE, COURSE_SECRET_FILE
from ..nbgrader.release import release
from ..outputs.gradescope import build_bundle
from ..outputs.statistics import class_statistics
from . import console

__all__ = ["commands", "register"]

#: The instructor's commands, gathered here and added to the ``autograder`` group by `register`.
commands = click.Group()


def register(group: click.Group) -> None:
    """Add the instructor's commands to ``group`` (the ``autograder`` command)."""
    for name, command in commands.commands.items():
        group.add_command(command, name)


@commands.command()
@click.option("--examples", default=console.api_default(crosscheck, "examples"), show_default=True, help="Drawn cases per op.")
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


@commands.command("grade")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--assignment", default=None, help="Grade only this assignment.")
@click.option("--student", default=None, help="Grade only this student.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Grading processes (default: the number of cores).")
@click.option("--out", type=click.Path(path_type=Path), default=console.api_default(grade_class, "out"), show_default=True, help="Folder for the gradebook, exports and report.")
@click.option("--db", default=None, help="Gradebook path or SQLAlchemy URL (default: OUT/gradebook.db).")
@click.option("--regrade", is_flag=True, help="Grade again what the gradebook already holds for the same content, rubric and secret.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS", help="Grade on an existing Dask distributed scheduler.")
@click.option("--examples", type=click.IntRange(min=1), default=None, help="Cases per check (default: the rubric's, at least 100 per function).")
@click.option("--nbgrader", "to_nbgrader", is_flag=True,
              help="An nbgrader course: take its roster, due dates, extensions and late-penalty plugin, and write the "
              "scores, timestamps and penalties into its gradebook, for nbgrader export and formgrader. Run from the "
              "course root (the folder of nbgrader_config.py) or pass --course-root.")
@click.option("--course-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The nbgrader course root for --nbgrader (default: the current folder); it must hold nbgrader_config.py.")
@click.option("--due-date", "due_date_texts", multiple=True, metavar="[ASSIGNMENT=]DATE",
              help="Due date, UTC unless a zone follows (2024-03-01 23:59, 2024-03-01 23:59:00 Europe/Paris); "
              "without ASSIGNMENT=, for every assignment graded. Repeatable. Not with --nbgrader (nbgrader's are used).")
@click.option("--late-penalty", type=click.Choice(["none", "zero", "subtract"]), default=None,
              help="Late submissions: none (recorded only; the default), zero (score 0), subtract (--penalty-per-unit "
              "points per started --penalty-unit late). Not with --nbgrader (nbgrader_config.py's plugin is used).")
@click.option("--penalty-per-unit", type=click.FloatRange(min=0), default=1.0, show_default=True, help="Points per unit late, for --late-penalty subtract.")
@click.option("--penalty-unit", type=click.Choice(["minute", "hour", "day", "week"]), default="hour", show_default=True, help="The unit of --late-penalty subtract.")
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV of the class (id, and optionally first_name, last_name, email: nbgrader db student import's format); "
              "students without a submission are reported missing. Not with --nbgrader (nbgrader's students are used).")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"File of the course secret the graded cases are drawn from, created at first use "
    f"(default: OUT/{CLASS_SECRET_FILE}; with --nbgrader, {COURSE_SECRET_FILE} in the course root). Keep it, and back it up.",
)
@click.option(
    "--secret",
    "secret_text",
    default=None,
    metavar="TEXT",
    help="The course secret itself, instead of a file; '-' reads it from standard input "
    "(a secret on the command line is visible to other users in the process list).",
)
@click.option(
    "--allow-weak-sandbox",
    is_flag=True,
    help="Grade even where the sandbox lacks kernel-level protections (Landlock, seccomp, namespaces, ...); they are recorded as missing.",
)
def grade_command(
    submissions, assignment, student, workers, out, db, regrade, dask_address, examples, to_nbgrader, course_root,
    due_date_texts, late_penalty, penalty_per_unit, penalty_unit, roster_file, secret_file, secret_text, allow_weak_sandbox
) -> None:
    """Grade a class: SUBMISSIONS/<student_id>/<assignment_id>/ (nbgrader's layout).

    Results go to an SQLite gradebook, written one submission at a time; run the
    same command again after an interruption and it grades only what is missing.
    Cases are drawn from the course secret (not the public cases of
    `autograder check`): the same secret gives the same cases, scores and feedback.
    Each submission's time is its timestamp.txt (nbgrader's); with a due date
    (--due-date, or nbgrader's with --nbgrader) lateness is recorded and the
    late penalty applied as nbgrader's late-submission plugins do. With a
    roster (--roster, or nbgrader's students), students without a submission
    are listed as missing, with 0, in every export and the report.
    Exit status: 0 all graded, 2 nothing to grade, a usage error, not an
    nbgrader course root with --nbgrader, or a sandbox without its kernel
    protections, 3 the grader failed on some submission (recorded as an
    internal error).
    """
    schedule = _schedule(submissions, assignment, student, to_nbgrader, course_root, due_date_texts, late_penalty,
                         penalty_per_unit, penalty_unit, roster_file)
    course_root = schedule.pop("course_root")
    if secret_text is not None and secret_file is not None:
        console.fail("--secret and --secret-file both give the course secret", next_step="pass only one of them")
    if secret_text == "-":
        secret_text = sys.stdin.read()
    if secret_text is not None and not secret_text.strip():
        console.fail("--secret is empty", next_step="pass the course secret (the text of its file), or leave --secret out to use the secret file")
    if to_nbgrader and secret_file is None and secret_text is None:
        secret_file = course_root / COURSE_SECRET_FILE  # one secret per course, whatever --out says
    counts = {"graded": 0, "failed": 0}
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]grading[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console.err, transient=False) as bar:
        task = bar.add_task("grading", total=None, counts="")

        def progress(event, entry):
            if event == "start":
                bar.update(task, total=entry)
                return
            if event == "skipped":
                return
            counts["graded"] += 1
            counts["failed"] += entry.status != Status.GRADED or entry.points < entry.max_points
            remaining = (bar.tasks[0].total or 0) - counts["graded"]
            bar.update(
                task,
                advance=1,
                counts=f"graded {counts['graded']}, not full marks {counts['failed']}, remaining {remaining}",
            )

        try:
            summary = grade_class(
                submissions,
                out=out,
                db=db,
                assignment=assignment,
                student=student,
                workers=workers,
                dask=dask_address,
                regrade=regrade,
                examples=examples,
                progress=progress,
                secret=secret_text.strip().encode() if secret_text is not None else None,
                secret_file=secret_file,
                allow_weak_sandbox=allow_weak_sandbox,
                **schedule,
            )
        except WeakSandboxError as error:
            bar.stop()
            console.fail(str(error), next_step="grade on a machine with these protections, or pass --allow-weak-sandbox")
        except (BatchError, KeyError) as error:
            bar.stop()
            message = error.args[0] if isinstance(error, KeyError) else str(error)
            console.fail(message, next_step="check the folder and the --assignment/--student names, then run again")
    _print_summary(summary)
    if to_nbgrader:
        from ..nbgrader.sync import NbgraderSyncError, course_db_url, write_to_nbgrader

        try:
            written = write_to_nbgrader(summary.entries, course_root)
        except NbgraderSyncError as error:
            console.fail(str(error), next_step="run from the nbgrader course root (the folder of nbgrader_config.py)")
        console.out.print(f"  nbgrader: {written['grades']} scores of {written['submissions']} submissions in {course_db_url(course_root)}")
    if summary.internal_errors:
        console.err.print(
            f"[yellow]{summary.internal_errors} submission(s) hit an internal error of the grader[/] "
            "(not the students' fault; recorded with status 'internal error' and a traceback in the JSON export)"
        )
    raise SystemExit(summary.exit_code)


def _schedule(submissions, assignment, student, to_nbgrader, course_root, due_date_texts, late_penalty,
              penalty_per_unit, penalty_unit, roster_file) -> dict:
    """``grade_class``'s roster, due dates, extensions and late policy from the options, or from the nbgrader course.

    Also ``course_root``: the nbgrader course root (None without --nbgrader).
    Refuses --nbgrader outside a course root before anything is graded.
    """
    from ..classroom.gradebook import RosterError, read_roster
    from ..classroom.lateness import LatePolicy, parse_timestamp

    if to_nbgrader:
        from ..nbgrader.sync import NbgraderSyncError, read_course

        given = [name for name, value in (("--due-date", due_date_texts), ("--late-penalty", late_penalty), ("--roster", roster_file)) if value]
        if given:
            console.fail(f"{', '.join(given)} cannot be combined with --nbgrader: the course's own are used",
                         next_step="set them in nbgrader: `nbgrader db assignment add A --duedate=...`, `nbgrader db student import "
                         "students.csv`, and the late-penalty plugin in nbgrader_config.py (see the README)")
        root = course_root or Path.cwd()
        try:
            course = read_course(root)
        except NbgraderSyncError as error:
            console.fail(str(error), next_step="run from the course root (the folder of nbgrader_config.py), "
                         "or pass --course-root PATH; without --nbgrader, scores go only to --out")
        return {"course_root": Path(root).resolve(), "roster": course.roster, "due_dates": course.due_dates,
                "extensions": course.extensions, "late_policy": course.late_policy}
    if course_root is not None:
        console.fail("--course-root is for --nbgrader", next_step="add --nbgrader, or leave --course-root out")
    schedule: dict = {"course_root": None, "late_policy": LatePolicy(late_penalty or "none", penalty_per_unit, penalty_unit)}
    if roster_file is not None:
        try:
            schedule["roster"] = read_roster(roster_file)
        except RosterError as error:
            console.fail(str(error), next_step="pass a CSV whose first line is id,first_name,last_name,email")
    if due_date_texts:
        schedule["due_dates"] = _due_dates(submissions, assignment, student, due_date_texts, parse_timestamp)
    return schedule


def _due_dates(submissions, assignment, student, texts, parse) -> dict:
    """``{assignment: due date}`` from ``--due-date [ASSIGNMENT=]DATE`` options."""
    from ..classroom.batch import discover

    dates = {}
    for text in texts:
        name, _, date = text.rpartition("=")
        if name:
            if name not in rubrics.ASSIGNMENTS:
                console.fail(f"--due-date {text}: no assignment named {name!r}", next_step=f"use one of {', '.join(sorted(rubrics.ASSIGNMENTS))}")
            names = [name]
        else:
            try:
                names = sorted({job.assignment for job in discover(submissions, assignment=assignment, student=student)[0]})
            except (BatchError, KeyError) as error:
                console.fail(str(error.args[0]), next_step="check the folder and the --assignment/--student names, then run again")
        try:
            due = parse(date.strip())
        except ValueError as error:
            console.fail(f"--due-date {text}: {error}", next_step="write it as 2024-03-01 23:59 (UTC) or 2024-03-01 23:59:00 America/New_York")
        dates.update(dict.fromkeys(names, due))
    return dates


def _print_summary(summary) -> None:
    table = Table(title="Class summary")
    for column in ("assignment", "submissions", "mean", "full marks", "late", "ungradable", "internal errors", "missing"):
        table.add_column(column, justify="left" if column == "assignment" else "right")
    figures = class_statistics(summary.entries)
    for name, stats in figures.items():
        table.add_row(
            name,
            str(stats.submissions),
            _mean_cell(stats),
            str(stats.full_marks),
            str(stats.late),
            str(stats.ungradable),
            str(stats.internal_errors),
            str(len(stats.missing)),
        )
    console.out.print(table)
    excluded = [f"{name}: {stats.excluded_note()}" for name, stats in figures.items() if stats.excluded]
    if excluded:
        console.out.print("Means and full marks are over the graded submissions; ungradable ones and internal errors are "
                          f"not scores and are left out ({'; '.join(excluded)}).", markup=False)
    missing = [e for e in summary.entries if e.status == Status.MISSING]
    if missing:
        names = ", ".join(f"{e.student} ({e.assignment})" for e in missing[:10])
        console.out.print(f"Missing (on the roster, no submission; 0 in every export): {names}"
                          + (f", and {len(missing) - 10} more" if len(missing) > 10 else ""), markup=False)
    for problem in summary.timestamp_problems:
        console.out.print(f"[yellow]No timestamp:[/] {escape(problem)}", highlight=False)
    console.out.print(
        f"Graded {summary.graded}, skipped {summary.skipped} already graded (same content, secret and grader fingerprint), "
        f"in {summary.seconds:.1f} s."
    )
    _print_grading_conditions(summary)
    if summary.ignored:
        console.out.print(f"Ignored {len(summary.ignored)} folder(s) of assignments without a rubric, e.g. {summary.ignored[0]}")
    console.out.print(f"Gradebook: {summary.db_url}")
    for name, path in summary.outputs.items():
        console.out.print(f"{name:>10}: {path}")


def _mean_cell(stats) -> str:
    """``27.5 / 33`` (raw points), with the mean after late penalties when they lower it; ``-`` with nothing graded."""
    if stats.mean_score is None:
        return "-"
    after = f" ({stats.mean_final_score:.1f} after penalties)" if f"{stats.mean_final_score:.1f}" != f"{stats.mean_score:.1f}" else ""
    return f"{stats.mean_score:.1f} / {stats.max_points:g}{after}"


def _print_grading_conditions(summary) -> None:
    """Where the cases came from and how student code was confined in this run."""
    if summary.secret_fingerprint:
        where = f" in {summary.secret_file}" if summary.secret_file else ""
        console.out.print(f"Cases drawn from the course secret{where} (fingerprint {summary.secret_fingerprint}); keep a copy of it.")
    else:
        console.out.print("[yellow]Cases: the public ones of `autograder check` (no course secret)[/]")
    for machine, protections in summary.protections.items():
        states = ", ".join(f"{name} {_short_state(state)}" for name, state in protections.items())
        console.out.print(f"Sandbox on {machine}: {states}", markup=False)
    for machine, missing in summary.weak_sandbox.items():
        console.out.print(f"[yellow]Sandbox on {machine} lacks {', '.join(missing)} (graded anyway: --allow-weak-sandbox)[/]")
    for line in summary.grader_mismatches:
        console.out.print(f"[yellow]Grader differs:[/] {escape(line)}", highlight=False)


def _short_state(state: str) -> str:
    """``"on"``, ``"dropped"``, ``"unavailable"``: a protection's state without its details."""
    return state.split(" (", 1)[0]


@commands.command("release")
@click.option("--assignment", default=None, help="Only this assignment (default: every folder of solutions/).")
@click.option("--course", "course_root", type=click.Path(file_okay=False, path_type=Path), default=console.api_default(release, "course_root"), show_default=True, help="The course root: the folder of nbgrader_config.py, solutions/ and assignments/.")
@click.option("--install-from", default=None, metavar="SOURCE",
              help="Where the notebooks' first cell installs the students' package from when it is missing "
                   "(a URL or path of the wheel `./dev wheel` builds, or a package name); default: what the solution notebook says.")
def release_command(assignment, course_root, install_from) -> None:
    """Generate the student notebooks in assignments/ from solutions/ (nbgrader generate_assignment), ready to commit."""
    from ..nbgrader.release import ReleaseError

    try:
        written = release(assignment=assignment, course_root=course_root, install_from=install_from)
    except ReleaseError as error:
        console.fail(str(error), next_step="fix the solutions/ notebook or the course folder, then run `autograder release` again")
    for path in written:
        console.out.print(f"released: {path}")


@commands.command("gradescope")
@click.argument("assignment")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=console.api_default(build_bundle, "out"), show_default=True, help="Folder the zip is written to.")
@click.option("--secret-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help=f"Bundle this course secret (e.g. {COURSE_SECRET_FILE} of the course root), so Gradescope draws your grading's cases; by default the bundle gets a secret of its own.")
def gradescope_command(assignment, out, secret_file) -> None:
    """Build the Gradescope autograder zip (setup.sh, run_autograder, this package) for ASSIGNMENT."""
    from ..outputs.gradescope import GradescopeError

    try:
        bundle = build_bundle(assignment, out=out, secret_file=secret_file)
    except KeyError as error:
        console.fail(str(error.args[0]) if error.args else str(error), next_step="pass one of the assignments above")
    except GradescopeError as error:
        console.fail(str(error), next_step="fix the above, then run `autograder gradescope` again")
    secret = (f"the course secret {secret_file}" if bundle.course_secret
              else "a secret made for this bundle (pass --secret-file to draw your own grading's cases)")
    console.out.print(f"written: {bundle.path} ({', '.join(bundle.files)})")
    console.out.print(f"  cases drawn from {secret}, fingerprint {bundle.secret_fingerprint}")
    console.out.print("  upload it in Gradescope: the assignment's Configure Autograder page, Zip file upload; "
                      "it holds the secret and the reference solutions, so keep it among instructors")


@commands.command("export")
@click.option("--out", type=click.Path(path_type=Path), default=console.api_default(grade_class, "out"), show_default=True, help="Folder of the gradebook; exports are written here.")
@click.option("--db", default=None, help="Gradebook path or SQLAlchemy URL (default: OUT/gradebook.db).")
@click.option("--assignment", default=None, help="Only this assignment.")
def export_command(out, db, assignment) -> None:
    """Write CSV, JSON, Gradescope results.json and feedback files, and the report, from the gradebook."""
    from ..classroom.batch import write_outputs

    entries = _gradebook_entries(out, db, assignment)
    for name, path in write_outputs(entries, out).items():
        console.out.print(f"{name:>10}: {path}")


@commands.command("report")
@click.option("--out", type=click.Path(path_type=Path), default=console.api_default(grade_class, "out"), show_default=True, help="Folder of the gradebook; report.html is written here.")
@click.option("--db", default=None, help="Gradebook path or SQLAlchemy URL (default: OUT/gradebook.db).")
@click.option("--assignment", default=None, help="Only this assignment.")
def report_command(out, db, assignment) -> None:
    """Write the class report (score histogram, pass rates, common mistakes) as one HTML page."""
    from ..outputs.report import write_report

    entries = _gradebook_entries(out, db, assignment)
    console.out.print(f"report: {write_report(entries, Path(out) / 'report.html')}")


def _gradebook_entries(out, db, assignment):
    from ..classroom.gradebook import Gradebook, database_url

    location = db or Path(out) / "gradebook.db"
    if not db and not Path(location).exists():
        console.fail(f"no gradebook at {location}", next_step=f"run `autograder grade SUBMISSIONS --out {out}` first, or pass --db")
    with Gradebook(location) as book:
        entries = book.entries(assignment=assignment, missing=True)
    if not entries:
        console.fail(f"the gradebook {database_url(location)} holds no graded submissions" + (f" for {assignment}" if assignment else ""), next_step="grade some submissions first")
    return entries
