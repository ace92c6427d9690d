"""Read a student's submission (a ``.py`` file or a Jupyter notebook) into cells.

Nothing here runs the student's code: it only turns the file into the list of
Python sources the sandbox will execute, in order, and notes what it had to
leave out (IPython magics and shell lines do not run in the grader).

Examples
--------
>>> import json, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> notebook = {"nbformat": 4, "cells": [
...     {"cell_type": "markdown", "source": "# Conv"},
...     {"cell_type": "code", "source": ["!pip install torch\\n", "x = 1\\n"]}]}
>>> _ = (folder / "hw.ipynb").write_text(json.dumps(notebook))
>>> submission = read_submission(folder / "hw.ipynb")
>>> [(cell.origin, cell.source) for cell in submission.cells]
[('cell 2', 'pass\\nx = 1\\n')]
>>> submission.notes
['cell 2: skipped the shell/magic line `!pip install torch`']
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Largest submission read, in bytes; notebooks with big embedded outputs exceed it.
MAX_SUBMISSION_BYTES = 5 * 2**20

# Cell magics whose body is ordinary Python: the grader runs the body once.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})


class SubmissionError(ValueError):
    """The submission cannot be read; the message says what to do about it."""


@dataclass(frozen=True)
class Cell:
    """One unit of student code, run in order in a shared namespace.

    Parameters
    ----------
    index : int
        Position of the cell in the notebook, counting every cell from 0
        (markdown too); 0 for a ``.py`` file.
    source : str
        The Python source, with magic and shell lines replaced by ``pass``
        so that line numbers and indented blocks stay intact.
    origin : str
        Where it came from, as a student would say it: ``"cell 3"`` (counting
        from 1) or ``"file"``.
    """

    index: int
    source: str
    origin: str


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


def read_submission(path: str | Path) -> Submission:
    """Read a ``.py`` file or an ``.ipynb`` notebook into a `Submission`.

    Parameters
    ----------
    path : str or Path
        The student's file.

    Returns
    -------
    Submission
        One cell for a ``.py`` file (none if it is empty); one per non-empty
        code cell of a notebook.

    Raises
    ------
    SubmissionError
        If the file is missing, unreadable, larger than 5 MB, not UTF-8, not
        valid JSON, or not a notebook; the message says what was expected,
        what was found, and what to do.
    """
    path = Path(path)
    if path.is_dir():
        return read_submission_folder(path)
    suffix = path.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        found = f"a {suffix} file" if suffix else "a file without an extension"
        raise SubmissionError(
            f"{path.name}: expected a Python file (.py) or a Jupyter notebook (.ipynb), got {found}; "
            "submit your .py or .ipynb file")
    text = _read_text(path)
    if suffix == ".py":
        cells = [Cell(0, text, "file")] if text.strip() else []
        return Submission(path, cells)
    return _read_notebook(path, text)


def submission_files(folder: str | Path) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files of a submission folder, sorted by name.

    Hidden files and Jupyter checkpoints are left out. A symbolic link that
    leads outside the folder raises `SubmissionError` (it could make the
    grader read any file on the machine into a gradebook). Folders that are
    links out of a student's own folder are refused when a class is
    discovered (`autograder.batch.discover`), before this is called.
    """
    folder = Path(folder)
    root = folder.resolve()
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in (".py", ".ipynb"):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise SubmissionError(
                f"{path.name}: a symbolic link that leads outside the submission folder, to {path.resolve()}; "
                "submit the file itself")
        if path.is_file():
            files.append(path)
    if not files:
        raise SubmissionError(f"{folder}: no .py or .ipynb file in this folder; submit your notebook or Python file")
    return files


def read_submission_folder(folder: str | Path) -> Submission:
    """Read every ``.py`` and ``.ipynb`` file of a submission folder into one `Submission`.

    The files run one after the other, in name order, like the cells of one
    notebook; each cell's origin names its file (``"conv.ipynb cell 3"``).
    """
    files = submission_files(folder)
    if sum(path.stat().st_size for path in files) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(
            f"{Path(folder).name}: the files add up to more than {MAX_SUBMISSION_BYTES // 2**20} MB; "
            "clear the notebooks' outputs and submit again")
    if len(files) == 1:
        return read_submission(files[0])
    cells, notes = [], []
    for path in files:
        part = read_submission(path)
        for cell in part.cells:
            cells.append(Cell(len(cells), cell.source, f"{path.name} {cell.origin}"))
        notes += [f"{path.name}: {note}" for note in part.notes]
    return Submission(Path(folder), cells, notes)


def content_hash(path: str | Path) -> str:
    """SHA-256 of a submission's content: the file, or the names and bytes of a folder's files.

    Raises `SubmissionError` where `submission_files` does.
    """
    import hashlib

    path = Path(path)
    digest = hashlib.sha256()
    for file in submission_files(path) if path.is_dir() else [path]:
        digest.update(file.name.encode() + b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


#: What notebook cells call to grade themselves; see `strip_ours`.
_OUR_CALLS = frozenset({"points", "check"})
_IMPORTS_AUTOGRADER = re.compile(r"^\s*(?:from\s+autograder\b|import\s+autograder\b)", re.MULTILINE)


def strip_ours(source: str) -> str | None:
    r"""A cell's student code: our statements become ``pass``; None when nothing else is left.

    Ours are the top-level imports of ``autograder`` and the bare calls of
    ``points``, ``check`` or of what those imports bound. Lines keep their
    numbers, so a student's traceback still points at the right line. A
    comment that mentions the grader is not ours; a cell that does not
    parse is ours only if it imports the grader.

    >>> strip_ours("def f():\n    return 1\nfrom autograder.notebook import check\ncheck()\n")
    'def f():\n    return 1\npass\npass\n'
    >>> strip_ours("import autograder.notebook as nb\nnb.points('zero_pad')") is None
    True
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None if _IMPORTS_AUTOGRADER.search(source) else source
    imports = [node for node in tree.body if _imports_autograder(node)]
    callers = set(_OUR_CALLS) | {"autograder"} | {
        (alias.asname or alias.name).split(".")[0] for node in imports for alias in node.names}
    ours = [node for node in tree.body if node in imports or _calls(node, callers)]
    if not ours:
        return source
    if len(ours) == len(tree.body):
        return None
    lines = source.splitlines(keepends=True)
    shared = {line for node in tree.body if node not in ours for line in range(node.lineno, node.end_lineno + 1)}
    for node in ours:
        numbers = range(node.lineno, node.end_lineno + 1)
        if shared.intersection(numbers):  # `x = 1; check()`: leave the line to the student
            continue
        for number in numbers:
            ending = "\n" if lines[number - 1].endswith("\n") else ""
            lines[number - 1] = ("pass" if number == node.lineno else "") + ending
    return "".join(lines)


def _imports_autograder(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "autograder" for alias in node.names)
    return isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "autograder"


def _calls(node: ast.stmt, names: set[str]) -> bool:
    """Whether ``node`` is a bare call of one of ``names`` (or of an attribute of one)."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    function = node.value.func
    while isinstance(function, ast.Attribute):
        function = function.value
    return isinstance(function, ast.Name) and function.id in names


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionError(
                f"{path.name}: the file is {size / 2**20:.1f} MB, more than the "
                f"{MAX_SUBMISSION_BYTES // 2**20} MB a submission may be; clear the notebook's outputs "
                "(Edit > Clear All Outputs) and submit again")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SubmissionError(f"{path}: no such file; check the path and the file name") from None
    except IsADirectoryError:
        raise SubmissionError(f"{path}: expected a file, found a folder; submit the .py or .ipynb file inside it") from None
    except OSError as error:
        raise SubmissionError(f"{path}: the file could not be read ({error.strerror}); check its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionError(
            f"{path.name}: expected UTF-8 text, found the byte 0x{raw[error.start]:02x} at position {error.start}, "
            "which is not UTF-8; save the file as UTF-8 and submit again") from None
    return text.removeprefix("\ufeff")  # a byte-order mark some editors write


def _read_notebook(path: Path, text: str) -> Submission:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            f"{path.name}: expected a Jupyter notebook (JSON), but the file is not valid JSON "
            f"(line {error.lineno}: {error.msg}); open it in Jupyter, save it, and submit again") from None
    except RecursionError:
        raise SubmissionError(
            f"{path.name}: expected a Jupyter notebook, but the JSON is nested too deeply to read; "
            "open it in Jupyter, save it, and submit again") from None
    if type(notebook) is not dict or type(notebook.get("cells")) is not list:
        found = "an old notebook format (nbformat 3)" if type(notebook) is dict and "worksheets" in notebook \
            else f"a JSON {type(notebook).__name__} without a list of cells"
        raise SubmissionError(
            f"{path.name}: expected a Jupyter notebook with a list of cells, found {found}; "
            "open it in a current Jupyter, save it, and submit again")
    cells: list[Cell] = []
    notes: list[str] = []
    for index, raw_cell in enumerate(notebook["cells"]):
        origin = f"cell {index + 1}"
        if type(raw_cell) is not dict:
            raise SubmissionError(
                f"{path.name}: {origin} is a JSON {type(raw_cell).__name__}, expected an object; "
                "open the notebook in Jupyter, save it, and submit again")
        if raw_cell.get("cell_type") != "code":
            continue
        source = _cell_source(raw_cell.get("source", ""), path, origin)
        source = _strip_magics(source, origin, notes)
        if source is not None:
            # The course's test and check cells call the grader: not student code, and the
            # sandbox refuses to import it (which would only add a misleading note).
            source = strip_ours(source)
        if source is not None and source.strip():
            cells.append(Cell(index, source, origin))
    return Submission(path, cells, notes)


def _cell_source(source: object, path: Path, origin: str) -> str:
    # nbformat allows a string or a list of lines (each keeping its newline).
    if type(source) is str:
        return source
    if type(source) is list and all(type(line) is str for line in source):
        return "".join(source)
    raise SubmissionError(
        f"{path.name}: the source of {origin} is a JSON {type(source).__name__}, expected text; "
        "open the notebook in Jupyter, save it, and submit again")


def _strip_magics(source: str, origin: str, notes: list[str]) -> str | None:
    """Replace IPython magic and shell lines by ``pass``; None if the whole cell is skipped."""
    lines = source.splitlines(keepends=True)
    first_code = next((line.strip() for line in lines if line.strip()), "")
    if first_code.startswith("%%"):
        magic = first_code[2:].split(maxsplit=1)[0] if first_code[2:].strip() else ""
        if magic not in _PYTHON_BODY_CELL_MAGICS:
            notes.append(f"{origin}: skipped the whole cell, which starts with the cell magic `{_shorten(first_code)}` "
                         "(its body is not Python the grader runs)")
            return None
        notes.append(f"{origin}: ran the cell without its `{_shorten(first_code)}` line")
    kept = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            ending = "\n" if line.endswith("\n") else ""
            kept.append(f"{indent}pass{ending}")
            if not stripped.startswith("%%"):
                notes.append(f"{origin}: skipped the shell/magic line `{_shorten(stripped.strip())}`")
        else:
            kept.append(line)
    return "".join(kept)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
