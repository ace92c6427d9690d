"""The ``autograder`` command. Thin: it parses arguments and calls the API.

Defaults come from the API functions' own keyword defaults, so the two
cannot drift apart.
"""

from __future__ import annotations

import click
from rich.progress import Progress
from rich.table import Table

from . import console
from .crosscheck import crosscheck


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
