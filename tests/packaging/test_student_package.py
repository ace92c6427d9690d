"""What the students' package holds: the grader without the answers, and only what a self-check needs."""

from __future__ import annotations

import email.parser
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

from autograder import __version__

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def _members(path: Path) -> dict[str, bytes]:
    """Every file of a wheel or sdist by its path inside the package (the sdist's top folder dropped)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(path) as archive:
        return {member.name.split("/", 1)[1]: archive.extractfile(member).read()
                for member in archive.getmembers() if member.isfile() and "/" in member.name}


def _solution_lines() -> list[list[str]]:
    """The code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in every solution notebook, per block."""
    blocks = []
    for notebook in sorted((ROOT / "solutions").rglob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for block in SOLUTION_BLOCK.findall("".join(cell["source"])):
                lines = [" ".join(line.split()) for line in block.splitlines()]
                blocks.append([line for line in lines if line and not line.startswith("#")])
    return blocks


def _normalized_lines(text: str) -> list[str]:
    return [line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line and not line.startswith("#")]


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_reference_solutions_examples_or_class_tools(student_dist, builder, kind):
    names = _members(student_dist[kind])
    assert any(name == "autograder/engine/oracle.py" for name in names), "the torch oracle is what checks students' work"
    assert any(name == "autograder/notebook.py" for name in names) and any(name.startswith("autograder/rubrics/") for name in names)
    for name in names:
        top = name.split("/", 1)[0]
        assert top not in ("reference", "solutions", "examples", "assignments", "tests", "bench"), name
        assert not (top == "autograder" and "/" in name and builder.instructor_only(name.split("/", 1)[1])), name


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_block_of_solution_code(student_dist, kind):
    blocks = _solution_lines()
    assert sum(len(block) for block in blocks) > 100, "the solution notebooks' blocks were not found"
    windows = {tuple(block[i:i + 3]) for block in blocks for i in range(len(block) - 2)}
    # Long lines of code (a message's text, which the oracle shares with the solutions, is not code).
    long_lines = {line for block in blocks for line in block
                  if len(line) >= 50 and not line.startswith(('"', "'", 'f"', "f'", "raise "))}
    for name, data in _members(student_dist[kind]).items():
        if not name.endswith(".py"):
            continue
        lines = _normalized_lines(data.decode("utf-8"))
        leaked = [w for w in (tuple(lines[i:i + 3]) for i in range(len(lines) - 2)) if w in windows]
        assert not leaked, f"{name} holds solution lines: {leaked[0]}"
        assert not long_lines.intersection(lines), f"{name} holds a solution line: {sorted(long_lines.intersection(lines))[0]}"


def test_the_leak_check_can_fail(student_dist):
    # The check above finds a block copied into a package file: the reference's loop twin would be caught.
    blocks = _solution_lines()
    copied = "\n".join(max(blocks, key=len))
    lines = _normalized_lines(copied)
    windows = {tuple(block[i:i + 3]) for block in blocks for i in range(len(block) - 2)}
    assert any(tuple(lines[i:i + 3]) in windows for i in range(len(lines) - 2))


def test_requirements_are_a_self_checks_with_the_case_deciding_pins(student_dist, builder):
    with zipfile.ZipFile(student_dist["wheel"]) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    assert metadata["Name"] == "conv-autograder-student" and metadata["Version"] == __version__
    requires = metadata.get_all("Requires-Dist")
    names = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower() for r in requires}
    assert names == {"numpy", "hypothesis", "torch", "rich", "click", "threadpoolctl"}
    assert not names & {"nbgrader", "jupyter", "distributed", "dask", "sqlalchemy", "matplotlib"}
    pinned = builder.pins()
    assert f"hypothesis=={pinned['hypothesis']}" in requires


def test_the_instructors_install_has_the_pinned_versions():
    # ./dev installs with -c constraints.txt: the grader here draws what students' packages draw.
    import hypothesis
    import numpy

    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.strip()] = version.strip()
    assert hypothesis.__version__ == pinned["hypothesis"] and numpy.__version__ == pinned["numpy"]


def test_a_constraints_file_without_the_pin_is_refused(builder, tmp_path):
    loose = tmp_path / "constraints.txt"
    loose.write_text("numpy==2.0.0\n")
    with pytest.raises(builder.BuildError, match="hypothesis==VERSION"):
        builder.dependencies(loose)
