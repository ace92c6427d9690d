"""The one place terminal output goes through (results to stdout, errors to stderr), and the CLI's shared helpers."""

from __future__ import annotations

import shutil
import sys

from rich.console import Console

# Piped output (CI logs, files) gets 120 columns rather than rich's 80, so tables do not fold.
_WIDTH = shutil.get_terminal_size((120, 24)).columns
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, width=_WIDTH)


def fail(message: str, *, next_step: str, code: int = 2) -> NoReturn:  # noqa: F821
    """Print an error and the next step to take on stderr, then exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}")
    err.print(f"[bold]next:[/] {next_step}")
    sys.exit(code)


def api_default(function, name: str):
    """The default of ``function``'s keyword-only ``name``: a CLI option takes it from the API, so the two cannot drift."""
    return function.__kwdefaults__[name]
