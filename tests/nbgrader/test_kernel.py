"""`autograder.notebook` in a real Jupyter kernel: test cells evaluate to the rubric's points, nothing on stderr."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import notebook, rubrics
from autograder.engine.submission import Submission

ROOT = Path(__file__).resolve().parents[2]


def run_in_kernel(path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in a fresh python3 kernel (as nbgrader autograde does)."""
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def test_points_in_a_kernel_gives_full_marks_without_stderr(course, tmp_path):
    nb = run_in_kernel(ROOT / "solutions" / "conv_layers" / "conv_layers.ipynb", tmp_path)
    spec = rubrics.get("conv_layers")
    scores, stderr, errors = {}, [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                stderr.append((cell.get("id"), output.text))
            elif output.output_type == "error":
                errors.append((cell.get("id"), output.ename, output.evalue))
            elif output.output_type == "execute_result" and cell.metadata.get("nbgrader", {}).get("grade"):
                scores[cell.metadata["nbgrader"]["grade_id"]] = float(output.data["text/plain"])
    assert not stderr and not errors
    assert scores == {f.name: f.max_points for f in spec.functions}
    check_output = "".join(o.text for c in nb.cells if c.get("id") == "check" for o in c.outputs if o.output_type == "stream")
    assert check_output.startswith("# conv_layers: 33 / 33 points")
    assert "All 7 functions pass every check" in check_output


def _shell(*inputs: str):
    return SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", *inputs]), user_ns={})


def test_kernel_submission_keeps_student_code_in_order_and_leaves_ours_out():
    shell = _shell(
        "import numpy as np",
        "def zero_pad(x, pad):\n    return np.pad(x, pad)",
        "from autograder.notebook import points\npoints('zero_pad')",
        "points('zero_pad')",
        "%matplotlib inline\nzero_pad(np.ones((1, 1, 1, 1)), 1)",
        "   ",
        "import autograder.notebook as nb; nb.check()",
    )
    submission = notebook.kernel_submission(shell)
    assert submission.is_notebook
    assert [(c.index, c.origin) for c in submission.cells] == [(1, "In [1]"), (2, "In [2]"), (5, "In [5]")]
    assert submission.cells[2].source.startswith("pass\n")
    assert submission.notes == ["In [5]: skipped the shell/magic line `%matplotlib inline`"]


@pytest.mark.parametrize("source, ours", [
    ("from autograder.notebook import points\npoints('zero_pad')", True),
    ("check()", True),
    ("points('zero_pad'); check('conv_layers')", True),
    ("x = points('zero_pad')", False),  # a student's own variable: not one of our cells
    ("def check(x):\n    return x", False),
    ("def zero_pad(x, pad):\n    return x", False),
    ("# the autograder said my padding was off\ndef zero_pad(x, pad):\n    return x", False),
    ("import autograder.notebook as nb\nnb.points('zero_pad')", True),
    ("from autograder.notebook import check\ncheck(\n    'conv_layers',\n)", True),
    ("this is not python (", False),
])
def test_is_ours(source, ours):
    assert notebook.is_ours(source) is ours


def test_a_cell_mixing_student_code_and_ours_keeps_the_student_code_on_its_lines():
    source = "from autograder.notebook import points\ndef zero_pad(x, pad):\n    return x\npoints(\n    'zero_pad')\ny = 2; check()\n"
    assert notebook.strip_ours(source) == "pass\ndef zero_pad(x, pad):\n    return x\npass\n\ny = 2; check()\n"


def test_assignment_of_names_the_known_functions_when_it_does_not_know_one():
    assert notebook.assignment_of("conv_forward_naive") == "conv_layers"
    with pytest.raises(KeyError, match="zero_pad"):
        notebook.assignment_of("zero_padd")


def test_points_outside_a_kernel_says_where_to_call_it():
    with pytest.raises(RuntimeError, match="Jupyter kernel"):
        notebook.points("zero_pad")


def test_grade_submission_matches_grade_on_the_same_code(tmp_path):
    import autograder

    source = (ROOT / "examples" / "conv_layers" / "buggy_bias_forgotten.py").read_text()
    path = tmp_path / "buggy.py"
    path.write_text(source)
    from_file = autograder.grade(path, assignment="conv_layers", examples=10)
    from autograder.engine.submission import Cell

    in_memory = notebook.grade_submission(Submission(tmp_path / "buggy.ipynb", [Cell(0, source, "In [1]")]),
                                          assignment="conv_layers", examples=10)
    assert [(f.name, f.points) for f in in_memory.functions] == [(f.name, f.points) for f in from_file.functions]
    assert in_memory.points == 29.0
