"""A Gradescope autograder bundle: the zip Gradescope builds its grading image from, and what runs in it.

Gradescope's layout (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the zip holds ``setup.sh`` and ``run_autograder`` at its root and is unpacked
to ``/autograder/source/``; ``setup.sh`` runs once, as root, when the image
is built (Ubuntu); for each submission a fresh container gets the student's
files in ``/autograder/submission/``, runs ``run_autograder``, and reads
``/autograder/results/results.json``.

:func:`build_bundle` writes that zip for one assignment:

``setup.sh``
    Makes a virtual environment at ``/autograder/venv`` with a Python of at
    least 3.11 (Ubuntu 22.04's ``python3`` is 3.10: ``python3.11`` is
    installed from apt then), installs torch pinned as ``pyproject.toml``
    pins it from PyTorch's CPU index (PyPI's Linux wheels pull several GB of
    CUDA), then this package from the wheel in the zip with its declared
    dependencies.
``run_autograder``
    Runs :func:`run_autograder` with that environment's Python.
``conv_autograder-<version>-py3-none-any.whl``
    This package (``autograder`` and ``reference``), built with
    ``pip wheel --no-deps`` from a clean copy of the checkout's sources.
``gradescope.json``
    The assignment, the wheel's and the secret's file names, the package
    version, and which secret the bundle holds.
``.autograder-secret``
    The secret the graded cases are drawn from: the course's own only when
    ``secret_file`` is given; otherwise one made for this bundle alone, so
    Gradescope never grades on the public cases ``autograder check`` shows
    students, and a bundle shared with a TA does not carry the course secret.

:func:`run_autograder` grades the folder ``<root>/submission`` as
``autograder grade`` grades a student's assignment folder (same file rule,
same sandbox, the bundle's secret kept unreadable to the student's code) and
writes ``<root>/results/results.json`` with
:func:`autograder.outputs.exports.gradescope_results`. ``<root>`` is
``$AUTOGRADER_ROOT``, by default ``/autograder``, so the whole tree can be
simulated in a temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, rubrics
from ..engine.secret import COURSE_SECRET_FILE, SECRET_BYTES, SecretError, fingerprint_of

__all__ = ["Bundle", "GradescopeError", "build_bundle", "run_autograder", "ROOT_ENV", "DEFAULT_ROOT", "TORCH_INDEX"]

#: The environment variable naming Gradescope's root folder (for a simulated tree).
ROOT_ENV = "AUTOGRADER_ROOT"
#: Where Gradescope puts everything.
DEFAULT_ROOT = "/autograder"
#: PyTorch's index of CPU-only wheels: PyPI's Linux torch pulls CUDA libraries of several GB.
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
#: The bundle's own description, read by ``run_autograder``.
BUNDLE_CONFIG = "gradescope.json"
#: The exact versions the course grades with (the checkout's constraints.txt): Gradescope draws the same cases.
CONSTRAINTS = "constraints.txt"
#: The files of the package's source a wheel is built from.
_SOURCES = ("pyproject.toml", "README.md", "autograder", "reference")


class GradescopeError(RuntimeError):
    """The bundle cannot be built or run; the message says why and what to do."""


@dataclass
class Bundle:
    """A built bundle: the zip, what it holds, and which secret its cases are drawn from."""

    path: Path
    assignment: str
    files: list[str]
    wheel: str
    course_secret: bool  # True: the course's secret file; False: a secret made for this bundle
    secret_fingerprint: str


# --------------------------------------------------------------------------- build


def build_bundle(assignment: str, *, out: str | Path = "build/gradescope", secret_file: str | Path | None = None) -> Bundle:
    """Write ``<out>/<assignment>-gradescope.zip``, the autograder zip to upload to Gradescope.

    Parameters
    ----------
    assignment : str
        The rubric's name (see :mod:`autograder.rubrics`).
    out : str or Path
        The folder the zip is written to (created).
    secret_file : str or Path, optional
        The course secret to bundle (``.autograder-secret`` of the course
        root, or ``.secret`` of ``autograder grade``'s output folder), so that
        Gradescope draws the cases your own grading draws. Without it the
        bundle holds a new secret of its own.

    Returns
    -------
    Bundle

    Raises
    ------
    KeyError
        An assignment without a rubric.
    GradescopeError
        The package's sources are not a checkout (no ``pyproject.toml``), the
        wheel cannot be built, or the secret file cannot be read.
    """
    rubrics.get(assignment)  # a KeyError naming the known assignments
    project = _project_root()
    metadata = {**tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"], "version": __version__}
    secret = _read_secret(Path(secret_file)) if secret_file is not None else os.urandom(SECRET_BYTES).hex().encode()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-gradescope-") as work:
        wheel = _build_wheel(project, Path(work))
        config = {
            "assignment": assignment,
            "package": metadata["name"],
            "version": metadata["version"],
            "wheel": wheel.name,
            "secret_file": COURSE_SECRET_FILE,
            "course_secret": secret_file is not None,
            "secret_fingerprint": fingerprint_of(secret),
        }
        members = {
            "setup.sh": (setup_script(metadata, wheel.name), 0o755),
            "run_autograder": (run_script(), 0o755),
            BUNDLE_CONFIG: (json.dumps(config, indent=1) + "\n", 0o644),
            COURSE_SECRET_FILE: (secret.decode() + "\n", 0o600),
            wheel.name: (wheel.read_bytes(), 0o644),
            CONSTRAINTS: (_constraints(project), 0o644),
        }
        path = out / f"{assignment}-gradescope.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name, (content, mode) in members.items():
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16  # a regular file with its permissions
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, content)
    return Bundle(path, assignment, list(members), wheel.name, secret_file is not None, fingerprint_of(secret))


def _project_root() -> Path:
    """The checkout this package runs from (the folder of its ``pyproject.toml``)."""
    root = Path(__file__).resolve().parents[2]  # autograder/outputs/ -> the checkout
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or 'name = "conv-autograder"' not in pyproject.read_text(encoding="utf-8"):
        raise GradescopeError(
            f"the bundle is built from the package's sources, and {root} is not a checkout of conv-autograder "
            "(no pyproject.toml); run `autograder gradescope` from a clone of the repository (`pip install -e .`)")
    return root


def _build_wheel(project: Path, work: Path) -> Path:
    """``pip wheel --no-deps`` of a clean copy of the sources (no stale ``build/``, no caches, nothing else)."""
    source = work / "source"
    source.mkdir()
    for name in _SOURCES:
        origin = project / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        else:
            shutil.copy2(origin, source / name)
    dist = work / "dist"
    # Without isolation when setuptools is here: no download, the build backend this environment has.
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--no-cache-dir", "--quiet",
         "--wheel-dir", str(dist), str(source)],
        cwd=work, capture_output=True, text=True, timeout=600)
    wheels = list(dist.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise GradescopeError(f"pip wheel could not build the package: {(done.stderr or done.stdout).strip()[-2000:]}; "
                              "check that pip and setuptools are installed in this environment")
    return wheels[0]


def _read_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as error:
        raise GradescopeError(f"cannot read the course secret {path}: {error.strerror}; pass the file "
                              f"`autograder grade` uses ({COURSE_SECRET_FILE} in the course root, or .secret "
                              "in its output folder)") from None
    if not secret:
        raise GradescopeError(f"the course secret {path} is empty; restore it from your backup")
    return secret


def torch_requirement(dependencies: list[str]) -> str:
    """The package's own torch requirement (``"torch==2.13.0"``), as ``setup.sh`` installs it first.

    >>> torch_requirement(["numpy>=1.26", "torch==2.13.0"])
    'torch==2.13.0'
    """
    for requirement in dependencies:
        if re.match(r"torch\b", requirement.strip()):
            return requirement.strip()
    raise GradescopeError("pyproject.toml names no torch requirement; the grader's oracle needs torch")


def _constraints(project: Path) -> str:
    """The checkout's constraints file; a `GradescopeError` when it is missing."""
    try:
        return (project / CONSTRAINTS).read_text(encoding="utf-8")
    except OSError as error:
        raise GradescopeError(f"{project / CONSTRAINTS}: {error.strerror}; the bundle installs the course's exact "
                              "versions from it (run `autograder gradescope` from a clone of the repository)") from None


def setup_script(metadata: dict, wheel: str) -> str:
    """``setup.sh``: a Python >= 3.11 virtual environment with CPU torch and this package's wheel."""
    torch = torch_requirement(metadata["dependencies"])
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# Written by `autograder gradescope` ({metadata["name"]} {metadata["version"]}).
set -euo pipefail
root="${{{ROOT_ENV}:-{DEFAULT_ROOT}}}"
venv="$root/venv"

# {metadata["name"]} needs Python >= 3.11: Ubuntu 22.04's python3 is 3.10 (python3.11 is in its
# universe archive), Ubuntu 24.04's is 3.12.
apt-get update
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python=python3
else
    apt-get install -y python3.11
    python=python3.11
fi
apt-get install -y "$python-venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip

# torch as {metadata["name"]} pins it, CPU only: PyPI's Linux wheels pull several GB of CUDA libraries.
"$venv/bin/python" -m pip install --index-url {TORCH_INDEX} "{torch}"
# The grader itself (autograder and reference) with its declared dependencies, at the course's
# versions: Hypothesis and NumPy decide the drawn cases.
"$venv/bin/python" -m pip install "$root/source/{wheel}" -c "$root/source/{CONSTRAINTS}"
"$venv/bin/python" -c "import autograder.outputs.gradescope, torch; print('conv-autograder ready, torch', torch.__version__)"
"""


def run_script() -> str:
    """``run_autograder``: grade ``$root/submission`` with the environment ``setup.sh`` made."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades {DEFAULT_ROOT}/submission/ and writes
# {DEFAULT_ROOT}/results/results.json. {ROOT_ENV} moves the root (a simulated tree);
# AUTOGRADER_PYTHON names another Python that has conv-autograder installed.
set -euo pipefail
root="${{{ROOT_ENV}:-{DEFAULT_ROOT}}}"
python="${{AUTOGRADER_PYTHON:-$root/venv/bin/python}}"
cd "$root/source"
# -P: the current folder is not put on the import path, so no file can stand in for the grader's modules.
exec "$python" -P -m autograder.outputs.gradescope "$root"
"""


# --------------------------------------------------------------------------- run (inside Gradescope)


def run_autograder(root: str | Path | None = None) -> dict:
    """Grade ``<root>/submission`` and write ``<root>/results/results.json``; returns that document.

    Parameters
    ----------
    root : str or Path, optional
        Gradescope's root folder; by default ``$AUTOGRADER_ROOT``, else ``/autograder``.
        It holds ``source/`` (the unpacked bundle) and ``submission/``.

    Returns
    -------
    dict
        The ``results.json`` document (see :func:`autograder.outputs.exports.gradescope_results`).

    Raises
    ------
    GradescopeError
        ``source/`` is not an unpacked bundle, or its secret cannot be read.
        A submission that cannot be graded is not an error: its results say why.
    """
    from ..classroom.batch import Job, grade_job
    from ..classroom.gradebook import GradebookEntry
    from ..engine.secret import keep_from_students
    from .exports import gradescope_results

    root = Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    source = root / "source"
    try:
        config = json.loads((source / BUNDLE_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GradescopeError(f"{source / BUNDLE_CONFIG} cannot be read ({error}); upload the zip "
                              "`autograder gradescope` builds as the assignment's autograder") from None
    secret_path = source / config["secret_file"]
    try:
        secret = _read_secret(secret_path)
    except (GradescopeError, SecretError) as error:
        raise GradescopeError(str(error)) from None
    keep_from_students(secret_path)  # unreadable to the student's code, as in `autograder grade`
    job = Job(student="gradescope", assignment=config["assignment"], path=str(root / "submission"))
    entry = GradebookEntry.from_dict(grade_job(job, secret=secret))
    results = gradescope_results(entry)
    # For the instructor (Gradescope stores extra_data, students do not see it): how the code was confined here.
    results["extra_data"]["protections"] = entry.grader.get("protections", {})
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.outputs.gradescope [ROOT]``: what ``run_autograder`` runs."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        results = run_autograder(argv[0] if argv else None)
    except GradescopeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = [test["name"] for test in results["tests"] if test["status"] != "passed"]
    protections = results["extra_data"].get("protections", {})
    print("sandbox protections: " + ", ".join(f"{name}={state}" for name, state in protections.items()))
    print(f"{results['score']:g} / {sum(t['max_score'] for t in results['tests']):g} points"
          + (f"; not full marks: {', '.join(failed)}" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
