"""Build the students' package, ``conv-autograder-student``, into ``dist/student/`` (``./dev wheel``).

What students get: the grading engine, the rubrics, the Hypothesis strategies
and hints, the torch oracle, the sandbox and the notebook helpers, so that
``autograder check`` and a notebook's ``points``/``check`` cells grade their
work as the course does. What they never get: the reference engine
(``reference/``, whose loop versions are the exercises' answers), the
solution notebooks, the examples, and the instructor's class tools (batch
grading, the gradebook, exports, the report, nbgrader and Gradescope
integration), with their dependencies (nbgrader, Jupyter, Dask, SQLAlchemy,
matplotlib).

The package is staged in a temporary folder from this checkout's
``autograder/`` without the modules in `INSTRUCTOR_ONLY`, with a
``pyproject.toml`` written here: dependencies are what a self-check needs,
and the versions that decide the drawn cases are copied exactly from
``constraints.txt``, so a student's ``check`` meets the cases the course's
``grade`` meets. Then ``python -m build`` makes the wheel and the sdist, and
both are read back: a file outside ``autograder/`` or of an instructor-only
module fails the build.

Usage: ``python packaging/build_student.py [--out dist/student]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The distribution students install; its import package is ``autograder``, as the instructor's.
NAME = "conv-autograder-student"

#: Modules of ``autograder/`` for instructors only: the class, its exports and nbgrader/Gradescope.
INSTRUCTOR_ONLY = (
    "classroom", "nbgrader", "outputs/exports.py", "outputs/report.py", "outputs/gradescope.py",
    "cli/instructor.py",
)


def instructor_only(name: str) -> bool:
    """Whether ``name`` (a path inside ``autograder/``, with ``/``) is for instructors only."""
    return any(name == entry or name.startswith(entry + "/") for entry in INSTRUCTOR_ONLY)


#: Pinned exactly from constraints.txt: they decide the drawn cases (see `autograder.engine.fingerprint`).
EXACT = ("hypothesis",)

#: What else a self-check needs. Ranges, not pins: a student's machine (Google Colab above all)
#: brings its own NumPy and torch, and replacing them costs a restart or gigabytes.
RANGES = {
    "numpy": ">=1.26",
    "torch": ">=2.1",
    "rich": ">=13",
    "click": ">=8.1",
    "threadpoolctl": ">=3.1",
}


class BuildError(RuntimeError):
    """The package could not be built, or holds what students must not get."""


def pins(constraints: Path = ROOT / "constraints.txt") -> dict[str, str]:
    """``name -> version`` of the exact pins (``name==version``) of a constraints file."""
    found = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)\s*(#.*)?", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def dependencies(constraints: Path = ROOT / "constraints.txt") -> list[str]:
    """The students' package's requirements: exact where they decide the cases, ranges elsewhere."""
    pinned = pins(constraints)
    missing = [name for name in EXACT if name not in pinned]
    if missing:
        raise BuildError(f"{constraints} pins no version of {', '.join(missing)}; add `{missing[0]}==VERSION`")
    return [f"{name}=={pinned[name]}" for name in EXACT] + [f"{name}{spec}" for name, spec in RANGES.items()]


def version() -> str:
    text = (ROOT / "autograder" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def pyproject() -> str:
    requirements = "".join(f'    "{requirement}",\n' for requirement in dependencies())
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{NAME}"
version = "{version()}"
description = "Check your CS231n convolutional-layer exercises as the course grades them: drawn cases, counterexamples, hints."
readme = "README.md"
requires-python = ">=3.11"
dependencies = [
{requirements}]

[project.scripts]
autograder = "autograder.cli:main"

[tool.setuptools.packages.find]
include = ["autograder*"]
'''


def stage(folder: Path) -> None:
    """The package's source tree in ``folder``: ``autograder/`` minus the instructor's modules, a pyproject, a README."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        inside = Path(directory).resolve().relative_to((ROOT / "autograder").resolve()).as_posix()
        prefix = "" if inside == "." else inside + "/"
        return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or instructor_only(prefix + n)}

    shutil.copytree(ROOT / "autograder", folder / "autograder", ignore=ignore)
    (folder / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    shutil.copy(ROOT / "packaging" / "student" / "README.md", folder / "README.md")


def inspect(paths: list[Path]) -> None:
    """Raise `BuildError` if a built file holds anything but the allowed package files."""
    for path in paths:
        names = (zipfile.ZipFile(path).namelist() if path.suffix == ".whl"
                 else [name.split("/", 1)[1] for name in tarfile.open(path).getnames() if "/" in name])
        for name in names:
            top = name.split("/", 1)[0]
            allowed = (top == "autograder" or top.endswith((".dist-info", ".egg-info"))
                       or name in ("pyproject.toml", "README.md", "PKG-INFO", "setup.cfg"))
            if not allowed or (top == "autograder" and "/" in name and instructor_only(name.split("/", 1)[1])):
                raise BuildError(f"{path.name} holds {name}, which students must not get")


def build(out: Path = ROOT / "dist" / "student") -> list[Path]:
    """Build the wheel and the sdist into ``out`` (emptied first); return their paths."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="autograder-student-") as work:
        staged = Path(work) / "conv-autograder-student"
        stage(staged)
        done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
                               "--outdir", str(out), str(staged)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"python -m build failed:\n{(done.stdout + done.stderr).strip()[-3000:]}\n"
                             "(./dev installs `build` with the test extra; run ./dev wheel)")
    built = sorted(out.glob("*.whl")) + sorted(out.glob("*.tar.gz"))
    inspect(built)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "student", help="folder for the wheel and sdist")
    arguments = parser.parse_args(argv)
    try:
        built = build(arguments.out)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in built:
        print(f"built: {path} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"requires: {', '.join(dependencies())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
