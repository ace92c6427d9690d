"""The code a sandbox runs: a submission's cells, in order, and where each is as a student finds it.

`autograder.engine.submission` reads a student's file or notebook into these; the
sandbox runs them in order in one namespace and names them in its notes
(``"code cell 3"``, ``"line 12"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Cell:
    """One unit of student code, run in order in a shared namespace.

    A notebook's code cell is one unit; a ``.py`` file gives one unit per
    top-level statement (``kind="statement"``), so that a failing statement
    loses only itself (see `autograder.engine.submission.split_statements`).

    Parameters
    ----------
    index : int
        The unit's number, unique within the submission, in reading order.
    source : str
        The Python source, with magic and shell lines replaced by ``pass``
        so that line numbers and indented blocks stay intact.
    origin : str
        The cell or file it came from, as a student would say it:
        ``"code cell 3"`` (code cells counted from 1), ``"code cell 3 (In [7])"``
        where the notebook records an execution count, ``"In [7]"`` (a
        kernel's history), ``"conv.py"`` (a file of a folder), or ``"file"``
        (the lone ``.py`` file graded, whose name need not be repeated).
    first_line : int
        The line of ``origin`` on which ``source`` starts (line numbers in
        tracebacks and notes count from the start of the cell or file).
    kind : {"cell", "statement"}
        A whole notebook cell, or top-level statements of a ``.py`` file.
    runs_code : bool
        False for a plain function definition (see `autograder.engine.submission`): running
        it runs none of the student's code, so it cannot hang or crash, and
        the child need not tell the grader when it starts (a message less
        per function each time the submission loads).
    """

    index: int
    source: str
    origin: str
    first_line: int = 1
    kind: str = "cell"
    runs_code: bool = True

    @property
    def where(self) -> str:
        """The unit as a student finds it: ``"code cell 3"``, ``"line 12"`` (its first line of code), ``"conv.py, line 12"``."""
        if self.kind != "statement":
            return self.origin
        lines = self.source.splitlines()
        comments = next((number for number, line in enumerate(lines)
                         if line.strip() and not line.lstrip().startswith("#")), 0)
        return location(self.origin, self.first_line + comments)


def location(origin: str, line: int) -> str:
    """``"line 7"`` in the lone file, ``"code cell 3, line 7"`` elsewhere; ``origin`` alone without a line.

    >>> location("file", 7), location("code cell 3 (In [5])", 2), location("conv.py", 0)
    ('line 7', 'code cell 3 (In [5]), line 2', 'conv.py')
    """
    if not line:
        return origin
    return f"line {line}" if origin in ("file", "") else f"{origin}, line {line}"


@dataclass
class Submission:
    """A submission read from disk: its code cells and notes about what was left out.

    Parameters
    ----------
    path : Path
        The file that was read.
    cells : list of Cell
        The code to run, in order; empty for an empty file.
    notes : list of str
        One line per thing the reader changed or skipped.
    """

    path: Path
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)

    @property
    def is_notebook(self) -> bool:
        """Whether the submission is a Jupyter notebook (cells run like a kernel's)."""
        return self.path.suffix.lower() == ".ipynb"
