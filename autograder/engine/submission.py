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
[('code cell 1', 'pass\\nx = 1\\n')]
>>> submission.notes
['code cell 1: skipped the shell/magic line `!pip install torch`']

A ``.py`` file becomes one unit per top-level statement (see
`split_statements`), so that one failing line loses only what depends on it:

>>> _ = (folder / "hw.py").write_text("import numpy as np\\n\\n# pads\\ndef pad(x):\\n    return x\\n")
>>> [(cell.where, cell.source) for cell in read_submission(folder / "hw.py").cells]
[('line 1', 'import numpy as np\\n'), ('line 4', '\\n# pads\\ndef pad(x):\\n    return x\\n')]
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path

from ..sandbox.cells import Cell, Submission, location  # noqa: F401 - location: named here for the engine

#: Largest submission read, in bytes; notebooks with big embedded outputs exceed it.
MAX_SUBMISSION_BYTES = 5 * 2**20
#: Most units a ``.py`` file is cut into; beyond, neighbouring statements share a unit (a file of
#: thousands of one-line statements would otherwise cost a message each, on every load).
MAX_STATEMENT_UNITS = 1000
#: Longest ``.py`` file cut into statements: parsing happens in the grader's process, outside the
#: sandbox's time budget (about 20 µs a line), so a longer file loads as one unit, as Python reads it.
MAX_SPLIT_LINES = 10_000

# Cell magics whose body is ordinary Python: the grader runs the body once.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})


class SubmissionError(ValueError):
    """The submission cannot be read; the message says what to do about it."""


def read_submission(path: str | Path, *, notebooks: Sequence[str] = ()) -> Submission:
    """Read a ``.py`` file, an ``.ipynb`` notebook or a submission folder into a `Submission`.

    Parameters
    ----------
    path : str or Path
        The student's file, or their submission folder (see `read_submission_folder`).
    notebooks : sequence of str
        The assignment's released notebooks (``"conv_layers.ipynb"``): in a
        folder, these are the submission (see `read_submission_folder`).
        A file given directly is graded whatever its name.

    Returns
    -------
    Submission
        One unit per top-level statement of a ``.py`` file (none if it is
        empty); one per non-empty code cell of a notebook.

    Raises
    ------
    SubmissionError
        If the file is missing, unreadable, larger than 5 MB, not UTF-8, not
        valid JSON, or not a notebook; the message says what was expected,
        what was found, and what to do.
    """
    path = Path(path)
    if path.is_dir():
        return read_submission_folder(path, notebooks=notebooks)
    suffix = path.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        found = f"a {suffix} file" if suffix else "a file without an extension"
        raise SubmissionError(
            f"{path.name}: expected a Python file (.py) or a Jupyter notebook (.ipynb), got {found}; "
            "submit your .py or .ipynb file")
    text = _read_text(path)
    if suffix == ".py":
        return Submission(path, _statement_cells(text, "file"))
    return _read_notebook(path, text)


def split_statements(text: str) -> list[tuple[int, str]]:
    r"""A ``.py`` file's top-level statements, as ``(first line, source)`` pairs that cover every line.

    Comments and blank lines go with the statement after them, decorators
    with their function, statements sharing a line (``a = 1; b = 2``) stay
    together. A file that does not parse is cut where a line starts at
    column 0 with code (a ``def``, ``class``, ``import``, an assignment),
    joining pieces while that makes them parse (a docstring or bracket
    spanning such lines), so a syntax error loses only the statement it is in.

    >>> split_statements("import numpy as np\n@cache\ndef f():\n    return 1\nx = 1; y = 2\n")
    [(1, 'import numpy as np\n'), (2, '@cache\ndef f():\n    return 1\n'), (5, 'x = 1; y = 2\n')]
    >>> [line for line, _ in split_statements("def f(:\n    pass\ndef g():\n    pass\n")]
    [1, 3]
    """
    lines = text.splitlines(keepends=True)
    if len(lines) > MAX_SPLIT_LINES:
        return [(1, text)] if text.strip() else []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        starts = _recovered_starts(lines)
        ends = [start - 1 for start in starts[1:]] + [len(lines)]
    else:
        ends = []
        for node in tree.body:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            if ends and first <= ends[-1]:  # on the line where the statement before it ends
                ends[-1] = max(ends[-1], node.end_lineno)
            else:
                ends.append(node.end_lineno)
    if not text.strip():
        return []
    # Each piece runs from the line after the previous one to its statement's end; the last to the file's end.
    bounds = [0, *ends[:-1], len(lines)]
    pieces = [(end + 1, "".join(lines[end:after])) for end, after in zip(bounds, bounds[1:])]
    return [(first, piece) for first, piece in pieces if piece.strip()]


_CONTINUES = re.compile(r"(else|elif|except|finally)\b|[)\]}]")


def _recovered_starts(lines: list[str]) -> list[int]:
    """Where top-level statements seem to start in a file that does not parse (see `split_statements`)."""
    candidates = [number for number, line in enumerate(lines, 1)
                  if line[:1].strip() and not line.startswith("#") and not _CONTINUES.match(line)]
    # A decorator belongs to what follows it.
    candidates = [number for index, number in enumerate(candidates)
                  if index == 0 or not lines[candidates[index - 1] - 1].startswith("@")]
    if len(candidates) > MAX_STATEMENT_UNITS:  # joining would parse too much: one piece, as Python reads it
        return candidates[:1]
    starts, index = [], 0
    while index < len(candidates):
        starts.append(candidates[index])
        after = index + 1
        # Join with the next pieces while that makes a piece that parses (a docstring with column-0 lines).
        for joined in range(index + 1, min(index + 8, len(candidates)) + 1):
            end = candidates[joined] - 1 if joined < len(candidates) else len(lines)
            if _parses("".join(lines[candidates[index] - 1:end])):
                after = joined
                break
        index = after
    return starts


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _statement_cells(text: str, origin: str) -> list[Cell]:
    pieces = split_statements(text)
    if len(pieces) > MAX_STATEMENT_UNITS:  # neighbours share a unit, in order, so that there are at most the maximum
        size = -(-len(pieces) // MAX_STATEMENT_UNITS)
        pieces = [(pieces[start][0], "".join(piece for _, piece in pieces[start:start + size]))
                  for start in range(0, len(pieces), size)]
    return [Cell(index, source, origin, first_line=first, kind="statement", runs_code=not _defines_only(source))
            for index, (first, source) in enumerate(pieces)]


def _defines_only(source: str) -> bool:
    """Whether ``source`` only defines functions, evaluating nothing but names and constants while doing so.

    >>> _defines_only("def f(x, y=1, *, z: int = None) -> float:\\n    while True: pass\\n")
    True
    >>> [_defines_only(text) for text in ("@cache\\ndef f(): pass", "def f(x=g()): pass", "x = 1", "def f(:")]
    [False, False, False, False]
    """
    if source.count("\n") > MAX_SPLIT_LINES // 10 or not re.search(r"^(async\s+)?def\b", source, re.MULTILINE):
        return False  # a whole long file, or no def at all: not worth parsing here
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    plain = (ast.Name, ast.Constant, ast.Load)
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.decorator_list:
            return False
        evaluated = [*node.args.defaults, *node.args.kw_defaults, node.returns,
                     *(arg.annotation for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                                                  node.args.vararg, node.args.kwarg) if arg is not None)]
        if not all(isinstance(part, plain) for item in evaluated if item is not None for part in ast.walk(item)):
            return False
    return bool(body)


def submission_files(folder: str | Path) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files of a submission folder, sorted by name.

    Hidden files and Jupyter checkpoints are left out. A symbolic link that
    leads outside the folder raises `SubmissionError` (it could make the
    grader read any file on the machine into a gradebook). Folders that are
    links out of a student's own folder are refused when a class is
    discovered (`autograder.classroom.batch.discover`), before this is called.
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


def graded_files(folder: str | Path, notebooks: Sequence[str] = ()) -> tuple[list[Path], list[str]]:
    """The files of a submission folder that are graded, and the names of those that are not.

    As nbgrader decides: the assignment's released notebooks found in the
    folder are the submission, and nothing else is (scratch files, exports
    of the notebook, ``.ipynb_checkpoints/``). A folder holding none of them
    is graded from all its ``.py`` and ``.ipynb`` files, in name order.
    """
    folder = Path(folder)
    files = submission_files(folder)
    released = [folder / name for name in notebooks if (folder / name).is_file()]
    if not released:
        return files, []
    not_graded = [path.name for path in files if path not in released]
    if (folder / ".ipynb_checkpoints").is_dir():
        not_graded.append(".ipynb_checkpoints/")
    return released, not_graded


def read_submission_folder(folder: str | Path, *, notebooks: Sequence[str] = ()) -> Submission:
    """Read a submission folder into one `Submission` (see `graded_files` for which files count).

    The files graded run one after the other, like the cells of one
    notebook; with several, each unit's origin names its file
    (``"conv.ipynb code cell 3"``, ``"helpers.py"``). A note lists the files
    left out, or says that no released notebook was found.
    """
    folder = Path(folder)
    files, not_graded = graded_files(folder, notebooks)
    if sum(path.stat().st_size for path in files) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(
            f"{folder.name}: the files add up to more than {MAX_SUBMISSION_BYTES // 2**20} MB; "
            "clear the notebooks' outputs and submit again")
    notes = []
    graded_names = ", ".join(path.name for path in files)
    if not_graded:
        notes.append(f"not graded: {', '.join(not_graded)} (only {graded_names}, the released notebook"
                     f"{'s' if len(files) > 1 else ''}, {'are' if len(files) > 1 else 'is'} graded)")
    elif notebooks:
        expected = " or ".join(notebooks)
        notes.append(f"no {expected} (the released notebook) in the folder: graded {graded_names}"
                     + (" in name order, like the cells of one notebook" if len(files) > 1 else ""))
    if len(files) == 1:
        part = read_submission(files[0])
        return Submission(part.path, part.cells, notes + part.notes)
    cells = []
    for path in files:
        part = read_submission(path)
        for cell in part.cells:
            origin = path.name if cell.kind == "statement" else f"{path.name} {cell.origin}"
            cells.append(dataclasses.replace(cell, index=len(cells), origin=origin))
        notes += [f"{path.name}: {note}" for note in part.notes]
    return Submission(folder, cells, notes)


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

    Ours are the top-level imports of ``autograder`` (a ``try:`` that starts
    with one too: the released notebooks' install cell, which would try pip
    in the sandbox) and the bare calls of
    ``points``, ``check`` or of what those imports bound. Lines keep their
    numbers, so a student's traceback still points at the right line. A
    comment that mentions the grader is not ours; a cell that does not
    parse is ours only if it imports the grader.

    >>> strip_ours("def f():\n    return 1\nfrom autograder.notebook import check\ncheck()\n")
    'def f():\n    return 1\npass\npass\n'
    >>> strip_ours("import autograder.notebook as nb\nnb.points('zero_pad')") is None
    True
    >>> strip_ours("SOURCE = 'x'\ntry:\n    import autograder\nexcept ImportError:\n    pass\n")
    "SOURCE = 'x'\npass\n\n\n\n"
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None if _IMPORTS_AUTOGRADER.search(source) else source
    imports = [node for node in tree.body if _imports_autograder(node)]
    callers = set(_OUR_CALLS) | {"autograder"} | {
        (alias.asname or alias.name).split(".")[0] for node in imports for alias in getattr(node, "names", ())}
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
    if isinstance(node, ast.Try) and node.body:  # `try: import autograder` / `except ...: pip install`
        return _imports_autograder(node.body[0])
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
    code_cells = 0
    for index, raw_cell in enumerate(notebook["cells"]):
        if type(raw_cell) is not dict:
            raise SubmissionError(
                f"{path.name}: cell {index + 1} is a JSON {type(raw_cell).__name__}, expected an object; "
                "open the notebook in Jupyter, save it, and submit again")
        if raw_cell.get("cell_type") != "code":
            continue
        # Numbered as the student sees them: code cells only, with the prompt Jupyter showed, if any.
        code_cells += 1
        count = raw_cell.get("execution_count")
        origin = f"code cell {code_cells}" + (f" (In [{count}])" if type(count) is int else "")
        source = _cell_source(raw_cell.get("source", ""), path, origin)
        source = strip_magics(source, origin, notes)
        if source is not None:
            # The course's test and check cells call the grader: not student code, and the
            # sandbox refuses to import it (which would only add a misleading note).
            source = strip_ours(source)
        if source is not None and source.strip():
            cells.append(Cell(len(cells), source, origin))
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


def strip_magics(source: str, origin: str, notes: list[str]) -> str | None:
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
