"""`autograder release`: the committed assignments/ is exactly what nbgrader generates, and holds no solution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.nbgrader.release import (
    ReleaseError,
    label_notebook,
    normalize_notebook,
    notebook_text,
    source_assignments,
)

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = source_assignments(ROOT)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_committed_assignments_are_what_autograder_release_generates(released_course):
    generated, committed = _files(released_course / "assignments"), _files(ROOT / "assignments")
    assert sorted(generated) == sorted(committed), "run `autograder release` and commit assignments/"
    for name, content in generated.items():
        assert content == committed[name], f"assignments/{name} differs from a fresh release: run `autograder release`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_line_of_solution_code_is_released(course, assignment):
    released_lines = {line.strip() for cell in course.released(assignment)["cells"] for line in course.source(cell).splitlines()}
    leaked = []
    for cell in course.solution(assignment)["cells"]:
        inside = False
        for line in course.source(cell).splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif inside and line.strip() and line.strip() in released_lines:
                leaked.append(f"{course.grade_id(cell)}: {line.strip()}")
    assert not leaked


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_code_outside_the_markers(course, assignment):
    # Every solution cell is a function whose body holds the markers; nothing but the
    # signature and docstring is released, so the code between them is the whole answer.
    for cell in course.solution(assignment)["cells"]:
        if not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            assert "### BEGIN SOLUTION" not in course.source(cell)
            continue
        lines = course.source(cell).splitlines()
        begin, end = lines.index("    ### BEGIN SOLUTION"), lines.index("    ### END SOLUTION")
        assert lines[0].startswith("def ") and begin < end == len(lines) - 1
        head = "\n".join(lines[1:begin]).strip()
        assert head.startswith('"""') and head.endswith('"""'), f"{course.grade_id(cell)}: only a docstring before the markers"


def test_released_notebooks_are_normalized():
    for path in sorted((ROOT / "assignments").rglob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert text == notebook_text(normalize_notebook(json.loads(text))), path


def test_normalize_notebook_strips_what_changes_between_runs():
    notebook = {"cells": [{"cell_type": "code", "execution_count": 7, "metadata": {}, "outputs": [{"output_type": "stream"}], "source": "x"},
                          {"cell_type": "markdown", "metadata": {}, "source": "y"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    normalized = normalize_notebook(json.loads(json.dumps(notebook)))
    assert normalized["cells"][0]["execution_count"] is None and normalized["cells"][0]["outputs"] == []
    assert normalized["cells"][1] == notebook["cells"][1]
    assert notebook_text(normalized).endswith("}\n")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebooks_say_what_they_are_for(course, assignment):
    from autograder import rubrics
    from autograder.engine.fingerprint import grader_fingerprint

    label = course.released(assignment)["metadata"]["autograder"]
    assert label["assignment"] == assignment
    assert label["grader"] == grader_fingerprint(rubrics.get(assignment))
    install = next(c for c in course.released(assignment)["cells"] if c.get("id") == "install-autograder")
    assert f'AUTOGRADER_SOURCE = "{label["install"]}"' in course.source(install)


def test_install_from_sets_the_install_cells_source(course):
    notebook = label_notebook(course.solution("conv_layers"), "conv_layers", install_from="https://x.edu/a b/w.whl")
    cell = next(c for c in notebook["cells"] if c.get("id") == "install-autograder")
    assert 'AUTOGRADER_SOURCE = "https://x.edu/a b/w.whl"\n' in course.source(cell)
    assert notebook["metadata"]["autograder"]["install"] == "https://x.edu/a b/w.whl"
    # The rest of the cell is untouched, and it still compiles.
    original = next(c for c in course.solution("conv_layers")["cells"] if c.get("id") == "install-autograder")
    assert course.source(cell).replace("https://x.edu/a b/w.whl", "conv-autograder-student") == course.source(original)
    compile(course.source(cell), "install", "exec")


def test_install_from_without_an_install_cell_is_refused(course):
    notebook = course.solution("conv_layers")
    notebook["cells"] = [c for c in notebook["cells"] if c.get("id") != "install-autograder"]
    with pytest.raises(ReleaseError, match="install cell"):
        label_notebook(notebook, "conv_layers", install_from="pkg")
    assert label_notebook(notebook, "conv_layers")["metadata"]["autograder"]["install"] is None


def test_the_install_cell_never_runs_in_the_sandbox(course):
    # Graded code leaves it out (it would try pip in there); a student's own try/import stays theirs.
    from autograder.engine.submission import strip_ours

    install = next(c for c in course.solution("conv_layers")["cells"] if c.get("id") == "install-autograder")
    stripped = strip_ours(course.source(install))
    assert "pip" not in stripped and "import autograder" not in stripped
    assert "AUTOGRADER_SOURCE = " in stripped  # a harmless assignment, kept on its line
    assert strip_ours("try:\n    import scipy\nexcept ImportError:\n    pass\n") == "try:\n    import scipy\nexcept ImportError:\n    pass\n"
