"""Reading .py files and notebooks into cells, and refusing unreadable files clearly."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from autograder.engine.submission import (
    MAX_SPLIT_LINES,
    MAX_STATEMENT_UNITS,
    MAX_SUBMISSION_BYTES,
    Cell,
    SubmissionError,
    content_hash,
    graded_files,
    read_submission,
    split_statements,
)


def notebook(tmp_path: Path, *cells: dict, name: str = "hw.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}))
    return path


def code(source: str | list[str]) -> dict:
    return {"cell_type": "code", "source": source, "outputs": [], "metadata": {}, "execution_count": None}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def test_a_python_file_is_one_unit_per_top_level_statement(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text("import numpy as np\nfrom cs231n.im2col import *\n\n# pads x\n@decorate\ndef f():\n    return 1\n")
    submission = read_submission(path)
    assert submission.cells == [
        Cell(0, "import numpy as np\n", "file", 1, "statement"),
        Cell(1, "from cs231n.im2col import *\n", "file", 2, "statement"),
        Cell(2, "\n# pads x\n@decorate\ndef f():\n    return 1\n", "file", 3, "statement"),
    ]
    assert [cell.where for cell in submission.cells] == ["line 1", "line 2", "line 5"]  # where the code starts
    assert submission.notes == [] and not submission.is_notebook


SPLITS = {
    "statements on one line stay together": ("a = 1; b = 2\nc = 3\n", [1, 2]),
    "a multi-line statement is one piece": ("x = [1,\n2]\nif x:\n    y = 1\nelse:\n    y = 2\n", [1, 3]),
    "a syntax error loses only its statement": ("def f(:\n    pass\n\ndef g():\n    pass\n", [1, 4]),
    "a docstring with column-0 lines in a broken file": (
        'def f():\n    """doc\nat column 0\n"""\n    return 1\ndef g(\n    pass\ndef h():\n    pass\n', [1, 6, 8]),
    "else at column 0 in a broken file": ("if x:\n    y = (\nelse:\n    y = 2\nz = 1\n", [1, 5]),
    "only comments": ("# nothing\n", [1]),
}


def test_a_file_of_very_many_statements_is_cut_into_at_most_the_maximum_of_units(tmp_path):
    path = tmp_path / "many.py"
    path.write_text("x = 1\n" * (3 * MAX_STATEMENT_UNITS + 1))  # within MAX_SPLIT_LINES
    cells = read_submission(path).cells
    assert len(cells) <= MAX_STATEMENT_UNITS
    assert "".join(cell.source for cell in cells) == path.read_text()
    assert [cell.first_line for cell in cells[:2]] == [1, 5]
    broken = tmp_path / "broken.py"
    broken.write_text("x = (\n" * (MAX_STATEMENT_UNITS + 1))  # unparseable, too many pieces to rejoin: one unit
    assert len(read_submission(broken).cells) == 1


def test_a_file_too_long_to_parse_in_the_grader_loads_as_one_unit(tmp_path):
    path = tmp_path / "long.py"
    path.write_text("x = 1\n" * (MAX_SPLIT_LINES + 1))
    start = time.perf_counter()
    assert [(cell.first_line, cell.kind) for cell in read_submission(path).cells] == [(1, "statement")]
    assert time.perf_counter() - start < 1  # never parsed here: the child compiles it, within its budget


@pytest.mark.parametrize("text, starts", SPLITS.values(), ids=SPLITS.keys())
def test_statements_are_split_where_they_start_and_cover_every_line(text, starts):
    pieces = split_statements(text)
    assert [line for line, _ in pieces] == starts
    assert "".join(piece for _, piece in pieces) == text  # nothing lost, nothing added


@pytest.mark.parametrize("text", ["", "\n\n   \n", "\ufeff"], ids=["empty", "blank lines", "only a BOM"])
def test_an_empty_file_has_no_cells(tmp_path, text):
    path = tmp_path / "hw.py"
    path.write_text(text, encoding="utf-8")
    assert read_submission(path).cells == []


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "hw.py"
    path.write_bytes("\ufeffx = 1\n".encode())
    assert read_submission(path).cells[0].source == "x = 1\n"


def test_notebook_cells_are_numbered_as_the_student_sees_them(tmp_path):
    executed = code("w = 0") | {"execution_count": 7}
    path = notebook(tmp_path, markdown("# Title"), code(["x = 1\n", "y = 2\n"]), code(""), markdown("text"),
                    code("z = 3"), {"cell_type": "raw", "source": "raw text"}, executed)
    submission = read_submission(path)
    assert submission.is_notebook
    # Code cells counted from 1 (markdown is never numbered), with the prompt Jupyter showed where there was one.
    assert submission.cells == [Cell(0, "x = 1\ny = 2\n", "code cell 1"), Cell(1, "z = 3", "code cell 3"),
                                Cell(2, "w = 0", "code cell 4 (In [7])")]


def test_magic_and_shell_lines_become_pass_with_a_note(tmp_path):
    path = notebook(tmp_path, code("!pip install torch\nimport numpy as np\nfor i in range(2):\n    %time f(i)\n"))
    submission = read_submission(path)
    # `pass` keeps line numbers and the indented block valid.
    assert submission.cells[0].source == "pass\nimport numpy as np\nfor i in range(2):\n    pass\n"
    compile(submission.cells[0].source, "cell", "exec")
    assert submission.notes == ["code cell 1: skipped the shell/magic line `!pip install torch`",
                                "code cell 1: skipped the shell/magic line `%time f(i)`"]


def test_a_cell_magic_with_a_non_python_body_skips_the_whole_cell(tmp_path):
    submission = read_submission(notebook(tmp_path, code("%%bash\necho hi\n"), code("x = 1")))
    assert [cell.origin for cell in submission.cells] == ["code cell 2"]
    assert submission.notes == ["code cell 1: skipped the whole cell, which starts with the cell magic `%%bash` "
                                "(its body is not Python the grader runs)"]


def test_a_timing_cell_magic_runs_its_python_body(tmp_path):
    submission = read_submission(notebook(tmp_path, code("\n%%time\ndef f():\n    return 1\n")))
    assert submission.cells[0].source == "\npass\ndef f():\n    return 1\n"
    assert submission.notes == ["code cell 1: ran the cell without its `%%time` line"]


def test_a_long_magic_line_is_shortened_in_the_note(tmp_path):
    submission = read_submission(notebook(tmp_path, code("!" + "x" * 200)))
    assert submission.notes[0].endswith("…`") and len(submission.notes[0]) < 120


def make_large(tmp_path: Path) -> Path:
    path = tmp_path / "big.ipynb"
    path.write_bytes(b" " * (MAX_SUBMISSION_BYTES + 1))
    return path


def write(name: str, data: bytes):
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return make


BAD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "nope.py", "no such file"),
    "an empty folder": (lambda tmp_path: (tmp_path / "hw.py").mkdir() or tmp_path / "hw.py", "no .py or .ipynb file in this folder"),
    "wrong extension": (write("hw.txt", b"x = 1"), "expected a Python file (.py) or a Jupyter notebook"),
    "no extension": (write("hw", b"x = 1"), "a file without an extension"),
    "not UTF-8": (write("hw.py", b"x = '\xe9'\n"), "found the byte 0xe9 at position 5, which is not UTF-8"),
    "invalid JSON": (write("hw.ipynb", b'{"cells": [}'), "not valid JSON (line 1"),
    "JSON list": (write("hw.ipynb", b"[1, 2]"), "found a JSON list without a list of cells"),
    "nbformat 3": (write("hw.ipynb", b'{"worksheets": []}'), "an old notebook format"),
    "cell not an object": (write("hw.ipynb", b'{"cells": [3]}'), "cell 1 is a JSON int"),
    "source a number": (write("hw.ipynb", b'{"cells": [{"cell_type": "code", "source": 3}]}'),
                        "the source of code cell 1 is a JSON int"),
    "too large": (make_large, "more than the 5 MB"),
    "deeply nested JSON": (write("hw.ipynb", b"[" * 100000 + b"]" * 100000), "nested too deeply"),
}


@pytest.mark.parametrize("make, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_unreadable_submissions_raise_one_clear_line(tmp_path, make, message):
    with pytest.raises(SubmissionError, match=re.escape(message)) as raised:
        read_submission(make(tmp_path))
    text = str(raised.value)
    assert "\n" not in text
    assert "; " in text  # what went wrong; what to do
    assert isinstance(raised.value, ValueError)


def test_a_folder_reads_its_files_in_name_order_as_one_submission(tmp_path):
    (tmp_path / "b_conv.py").write_text("def conv():\n    return 2\n")
    (tmp_path / "a_pad.py").write_text("def pad():\n    return 1\n")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden.py").write_text("ignored")
    submission = read_submission(tmp_path, notebooks=["conv_layers.ipynb"])
    assert [cell.where for cell in submission.cells] == ["a_pad.py, line 1", "b_conv.py, line 1"]
    assert [cell.index for cell in submission.cells] == [0, 1]
    assert submission.notes == ["no conv_layers.ipynb (the released notebook) in the folder: graded a_pad.py, "
                                "b_conv.py in name order, like the cells of one notebook"]


def test_in_a_folder_only_the_released_notebook_is_graded(tmp_path):
    notebook(tmp_path, code("def zero_pad(x, pad):\n    return x\n"), name="conv_layers.ipynb")
    (tmp_path / "scratch.py").write_text("def zero_pad(x, pad):\n    return None\n")
    (tmp_path / "conv_layers.py").write_text("def zero_pad(x, pad):\n    return None\n")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    notebook(tmp_path / ".ipynb_checkpoints", code("def zero_pad(x, pad):\n    return 0\n"), name="conv_layers-checkpoint.ipynb")
    submission = read_submission(tmp_path, notebooks=["conv_layers.ipynb"])
    assert [cell.origin for cell in submission.cells] == ["code cell 1"]
    assert submission.path == tmp_path / "conv_layers.ipynb" and submission.is_notebook
    assert submission.notes == ["not graded: conv_layers.py, scratch.py, .ipynb_checkpoints/ "
                                "(only conv_layers.ipynb, the released notebook, is graded)"]
    assert graded_files(tmp_path, ["conv_layers.ipynb"])[0] == [tmp_path / "conv_layers.ipynb"]
    # Without the assignment's notebook names (no rubric known), every file counts, as before.
    assert len(read_submission(tmp_path).cells) == 3


def test_a_folder_of_two_files_names_each_units_file(tmp_path):
    notebook(tmp_path, code("x = 1"), name="a.ipynb")
    (tmp_path / "b.py").write_text("y = 2\nz = 3\n")
    submission = read_submission(tmp_path)
    assert [cell.where for cell in submission.cells] == ["a.ipynb code cell 1", "b.py, line 1", "b.py, line 2"]


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "secret.py"
    outside.write_text("x = 1")
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "hw.py").symlink_to(outside)
    with pytest.raises(SubmissionError, match="symbolic link that leads outside"):
        read_submission(folder)
    with pytest.raises(SubmissionError, match="symbolic link"):
        content_hash(folder)


def test_content_hash_changes_with_content_and_names(tmp_path):
    (tmp_path / "hw.py").write_text("x = 1")
    first = content_hash(tmp_path)
    assert content_hash(tmp_path) == first
    (tmp_path / "hw.py").write_text("x = 2")
    assert content_hash(tmp_path) != first
