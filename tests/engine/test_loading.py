"""Which files are the submission, and how they load: per statement, failing lines named once, missing functions explained."""

from __future__ import annotations

import json
import re
from pathlib import Path

from autograder import grade
from autograder.engine.submission import read_submission
from autograder.outputs.feedback import feedback_text
from autograder.sandbox import Limits, Sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conv_layers"
FAST = 10  # cases per check: these tests are about loading, not about the checks
LIMITS = Limits(call_timeout=2.0, budget=60.0)
CORRECT = (EXAMPLES / "correct.py").read_text()


def functions_of(source: str) -> list[str]:
    """The top-level ``def`` blocks of a file, each as its own source."""
    body = source.split("import numpy as np\n", 1)[1]
    return ["def " + chunk for chunk in body.split("\ndef ")[1:]]


def write_notebook(path: Path, *sources: str, counts: bool = False) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Convolutions"}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "source": source,
               "execution_count": number if counts else None} for number, source in enumerate(sources, 1)]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    return path


def no_line_twice(notes: list[str]) -> bool:
    return not any(re.search(r"line (\d+)\b.*\(line \1\)", note) for note in notes)


# ---------------------------------------------------------------- .py files: one statement at a time


def test_a_failing_course_import_at_the_top_loses_only_itself():
    result = grade(EXAMPLES / "real_helper_import.py", examples=FAST, limits=LIMITS)
    assert (result.status, result.error, result.points) == ("graded", "", 33)
    assert "line 11: ModuleNotFoundError: No module named 'cs231n'" in result.notes
    assert ("line 12: ImportError: torch is not available here: this exercise asks you to write it in NumPy"
            in result.notes)
    assert result.function("conv_forward_naive").defined_at == "line 36"
    assert "Graded: the definition at line 36." in feedback_text(result)


def test_a_syntax_error_loses_only_its_function_and_says_where():
    result = grade(EXAMPLES / "real_syntax_error.py", examples=FAST, limits=LIMITS)
    assert (result.status, result.points) == ("graded", 29)
    assert result.notes == ["line 80: SyntaxError: expected ':'"]
    assert result.function("max_pool_backward_naive").note == (
        "max_pool_backward_naive is defined at line 80, but that definition could not be read: "
        "line 80: SyntaxError: expected ':'; fix the syntax error")


def test_a_syntax_error_everywhere_is_graded_zero_with_the_reason_as_its_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n" + "".join(f.replace("):\n", ")\n", 1) for f in functions_of(CORRECT)))
    result = grade(path, examples=FAST, limits=LIMITS)
    assert (result.status, result.points) == ("graded", 0)
    assert result.error == "none of the functions of conv_layers could be loaded; line 2: SyntaxError: expected ':'"
    assert "Nothing was graded: none of the functions" in feedback_text(result)
    assert all("could not be read" in function.note for function in result.functions)


def test_a_file_that_defines_nothing_says_so(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("# nothing yet\n")
    result = grade(path, examples=FAST, limits=LIMITS)
    assert result.error == "the submission defines none of the functions of conv_layers"


def test_statements_run_again_once_the_name_they_need_is_defined(tmp_path):
    path = tmp_path / "later.py"
    path.write_text("SCALE = helper()\n\ndef scaled(x):\n    return SCALE * x\n\ndef helper():\n    return 3\n")
    with Sandbox(read_submission(path), LIMITS) as box:
        report = box.load()
        assert report.ok and report.notes == []
        assert box.call("scaled", 2).value == 6


def test_a_top_level_loop_that_hangs_loses_only_itself(tmp_path):
    path = tmp_path / "hangs.py"
    path.write_text("def f():\n    return 1\n\nwhile True:\n    pass\n\ndef g():\n    return 2\n")
    with Sandbox(read_submission(path), Limits(call_timeout=1.0, budget=20.0)) as box:
        report = box.load()
        assert report.functions == ["f", "g"]
        assert report.notes == ["line 4 did not finish within 1 s and was skipped"]


def test_errors_in_functions_called_from_a_statement_name_both_places(tmp_path):
    path = tmp_path / "calls.py"
    path.write_text("def f():\n    return 1 / 0\n\nvalue = f()\n")
    with Sandbox(read_submission(path), LIMITS) as box:
        assert box.load().notes == ["line 4: ZeroDivisionError: division by zero (line 2)"]
        assert box.call("f").error == "raised ZeroDivisionError: division by zero (line 2)"


def test_sys_exit_ends_the_file_and_the_functions_after_it_say_why():
    result = grade(EXAMPLES / "hostile_sys_exit.py", examples=FAST, limits=LIMITS)
    assert result.points == 9
    assert result.notes == ["line 29: called sys.exit(bye); the rest of the file was not run"]
    assert result.function("conv_forward_naive").note.startswith(
        "conv_forward_naive is defined at line 32, but that definition did not run: line 29: called sys.exit(bye)")


# ---------------------------------------------------------------- notebooks: a cell stops at its error, except an import


def test_a_cell_keeps_what_it_defined_before_its_error_and_names_what_did_not_run(tmp_path):
    zero_pad, size, count, *others = functions_of(CORRECT)
    path = write_notebook(tmp_path / "conv_layers.ipynb", "import numpy as np",
                          f"{zero_pad}\nraise RuntimeError('my own check failed')\n{size}", count, *others)
    result = grade(path, examples=FAST, limits=LIMITS)
    assert result.points == 30  # conv_output_size (3 points) comes after the error, in the same cell
    assert result.function("zero_pad").defined_at == "code cell 2, line 1"
    assert result.notes == ["code cell 2, line 5: RuntimeError: my own check failed"]
    assert result.function("conv_output_size").note == (
        "conv_output_size is defined at code cell 2, line 6, but that definition did not run: "
        "code cell 2, line 5: RuntimeError: my own check failed")


def test_a_failing_import_does_not_stop_its_cell(tmp_path):
    path = write_notebook(tmp_path / "conv_layers.ipynb",
                          "import numpy as np\nfrom cs231n.im2col import *\nfrom cs231n.fast_layers import *\n"
                          "import math", *functions_of(CORRECT), counts=True)
    result = grade(path, examples=FAST, limits=LIMITS)
    assert result.points == 33
    suffix = "; the rest of the cell still ran (only what needs this import is missing)"
    assert result.notes == [f"code cell 1 (In [1]), line 2: ModuleNotFoundError: No module named 'cs231n'{suffix}",
                            f"code cell 1 (In [1]), line 3: ModuleNotFoundError: No module named 'cs231n'{suffix}"]
    assert result.function("zero_pad").defined_at == "code cell 2 (In [2]), line 1"
    assert no_line_twice(result.notes)


# ---------------------------------------------------------------- folders: the released notebook is the submission


def test_a_folder_grades_the_released_notebook_and_lists_the_files_it_leaves_out(tmp_path):
    folder = tmp_path / "submissions" / "alice" / "conv_layers"
    folder.mkdir(parents=True)
    write_notebook(folder / "conv_layers.ipynb", "import numpy as np", *functions_of(CORRECT))
    stale = "import numpy as np\n\ndef zero_pad(x, pad):\n    return x  # an old draft\n"
    (folder / "scratch.py").write_text(stale)
    (folder / "conv_layers.py").write_text(stale + "\ndef conv_forward_naive(x, w, b, conv_param):\n    return None\n")
    (folder / ".ipynb_checkpoints").mkdir()
    write_notebook(folder / ".ipynb_checkpoints" / "conv_layers-checkpoint.ipynb", "x = 1")
    result = grade(folder, examples=FAST, limits=LIMITS)
    assert result.points == 33
    assert result.notes == ["not graded: conv_layers.py, scratch.py, .ipynb_checkpoints/ "
                            "(only conv_layers.ipynb, the released notebook, is graded)"]
    assert result.function("zero_pad").defined_at == "code cell 2, line 1"
    assert "not graded: conv_layers.py, scratch.py" in feedback_text(result)


def test_a_folder_without_the_released_notebook_is_graded_from_its_files_in_name_order(tmp_path):
    folder = tmp_path / "conv_layers"
    folder.mkdir()
    functions = functions_of(CORRECT)
    (folder / "a_first.py").write_text("import numpy as np\n\n" + "".join(functions[:4]))
    (folder / "b_second.py").write_text("import numpy as np\n\n" + "".join(functions[4:]))
    result = grade(folder, examples=FAST, limits=LIMITS)
    assert result.points == 33
    assert result.notes == ["no conv_layers.ipynb (the released notebook) in the folder: graded a_first.py, "
                            "b_second.py in name order, like the cells of one notebook"]
    assert result.function("conv_backward_naive").defined_at.startswith("b_second.py, line ")


def test_the_rubrics_name_the_notebooks_the_course_releases():
    from autograder import rubrics

    root = Path(__file__).resolve().parents[2]
    for name, spec in rubrics.ASSIGNMENTS.items():
        released = sorted(str(path.relative_to(root / "assignments" / name))
                          for path in (root / "assignments" / name).rglob("*.ipynb"))
        assert sorted(spec.released_notebooks) == released, name
