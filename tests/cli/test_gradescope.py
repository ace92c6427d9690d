"""`autograder gradescope ASSIGNMENT`: the Gradescope autograder zip, run in a simulated /autograder tree.

``setup.sh``'s installs are not run (this environment has everything); it is
checked as a shell script that installs what the package pins. ``run_autograder``
runs as Gradescope runs it, with ``AUTOGRADER_ROOT`` at a temporary folder and
this environment's Python.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import autograder
from autograder.cli import main
from autograder.engine.secret import fingerprint_of
from autograder.outputs.gradescope import TORCH_INDEX, GradescopeError, run_autograder

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
TEST_STATUSES = {"passed", "failed"}
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def _build(out: Path, *args: str) -> Path:
    done = CliRunner().invoke(main, ["gradescope", "conv_layers", "--out", str(out), *args])
    assert done.exit_code == 0, done.output
    return out / "conv_layers-gradescope.zip"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("bundle"))


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(folder.rglob("*"))}


def _gradescope(bundle: Path, root: Path, submission: dict[str, Path]) -> dict:
    """Unpack ``bundle`` to ``root/source``, put ``submission`` in ``root/submission``, run run_autograder."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # zipfile keeps no permissions; Gradescope's unzip does
        (root / "source" / name).chmod(0o755)
    (root / "submission").mkdir()
    for name, origin in submission.items():
        shutil.copy(origin, root / "submission" / name)
    before = _tree(root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root / "submission", env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _tree(root / "submission") == before  # nothing written beside the student's files
    results = json.loads((root / "results" / "results.json").read_text())
    _assert_gradescope_format(results)
    return results


def _assert_gradescope_format(results: dict) -> None:
    """The fields Gradescope's results.json specification names, with their allowed values."""
    assert {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"} <= set(results)
    assert isinstance(results["execution_time"], int) and results["visibility"] in VISIBILITIES
    assert results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert {"score", "max_score", "status", "name", "number", "output", "output_format", "tags", "visibility"} <= set(test)
        assert test["status"] in TEST_STATUSES and test["output_format"] in OUTPUT_FORMATS
        assert test["visibility"] in VISIBILITIES and isinstance(test["tags"], list)
    assert results["score"] == sum(test["score"] for test in results["tests"])


def test_the_zip_holds_gradescopes_two_scripts_the_package_and_a_bundle_secret(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("gradescope.json"))
        modes = {info.filename: info.external_attr >> 16 & 0o777 for info in archive.infolist()}
        wheel = zipfile.ZipFile(io.BytesIO(archive.read(config["wheel"])))
        secret = archive.read(config["secret_file"]).strip()
    assert names == {"setup.sh", "run_autograder", "gradescope.json", ".autograder-secret", "constraints.txt", config["wheel"]}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert config["assignment"] == "conv_layers" and config["course_secret"] is False
    # The wheel is the package and its reference engine, nothing else of the repository.
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"autograder", "reference"}
    assert "autograder/outputs/gradescope.py" in wheel.namelist() and "reference/conv.py" in wheel.namelist()
    assert not [name for name in wheel.namelist() if "solutions" in name or "examples" in name or name.endswith(".pyc")]
    # A secret of its own: not the course's, not empty, so never the public cases.
    assert len(secret) == 64 and config["secret_fingerprint"] == fingerprint_of(secret)
    course_secret = ROOT / ".autograder-secret"
    if course_secret.exists():
        assert secret != course_secret.read_bytes().strip()


def test_secret_file_bundles_the_course_secret(tmp_path):
    course_secret = tmp_path / ".autograder-secret"
    course_secret.write_text("ab" * 32 + "\n")
    with zipfile.ZipFile(_build(tmp_path / "out", "--secret-file", str(course_secret))) as archive:
        assert archive.read(".autograder-secret").strip() == b"ab" * 32
        assert json.loads(archive.read("gradescope.json"))["course_secret"] is True


def test_setup_sh_is_bash_that_installs_the_pinned_cpu_torch_and_the_bundled_wheel(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    setup = tmp_path / "setup.sh"
    for script in (setup, tmp_path / "run_autograder"):
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, script.name
    text = setup.read_text()
    pin = next(d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"] if d.startswith("torch"))
    assert pin == "torch==2.13.0"
    assert f'pip install --index-url {TORCH_INDEX} "{pin}"' in text
    wheel = json.loads((tmp_path / "gradescope.json").read_text())["wheel"]
    assert f'pip install "$root/source/{wheel}" -c "$root/source/constraints.txt"' in text
    assert (tmp_path / "constraints.txt").read_text() == (ROOT / "constraints.txt").read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text


def test_run_autograder_gives_a_correct_notebook_full_marks(bundle, tmp_path):
    solution = ROOT / "solutions" / "conv_layers" / "conv_layers.ipynb"
    results = _gradescope(bundle, tmp_path, {"conv_layers.ipynb": solution})
    assert results["score"] == 33
    assert [t["name"] for t in results["tests"]] == [f.name for f in autograder.rubrics.get("conv_layers").functions]
    assert all(t["status"] == "passed" for t in results["tests"])


def test_run_autograder_gives_a_buggy_file_the_points_autograder_grade_gives(bundle, tmp_path):
    buggy = EXAMPLES / "buggy_bias_forgotten.py"
    results = _gradescope(bundle, tmp_path, {"conv_layers.py": buggy})
    secret = (tmp_path / "source" / ".autograder-secret").read_bytes().strip()
    by_grade = autograder.grade(buggy, assignment="conv_layers", secret=secret)
    assert results["score"] == by_grade.points < 33
    assert {t["name"]: t["score"] for t in results["tests"]} == {f.name: f.points for f in by_grade.functions}
    forward = next(t for t in results["tests"] if t["name"] == "conv_forward_naive")
    assert forward["status"] == "failed" and "Smallest failing call" in forward["output"]


def test_run_autograder_on_an_empty_submission_says_why_and_scores_zero(bundle, tmp_path):
    results = _gradescope(bundle, tmp_path, {})
    assert results["score"] == 0 and "could not be graded" in results["output"]


def test_run_autograder_outside_a_bundle_says_what_to_upload(tmp_path):
    with pytest.raises(GradescopeError, match="autograder gradescope"):
        run_autograder(tmp_path)


@pytest.mark.slow
def test_installed_from_its_wheel_the_grader_keeps_the_secret_and_reference_from_a_hostile_submission(bundle, tmp_path):
    """As setup.sh installs it: the bundle's wheel in a fresh environment (its dependencies from this one's)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    here = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    there = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(there, "dependencies.pth").write_text(here + "\n")  # numpy, torch, ... without a download
    with zipfile.ZipFile(bundle) as archive:
        wheel = tmp_path / json.loads(archive.read("gradescope.json"))["wheel"]
        wheel.write_bytes(archive.read(wheel.name))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True, timeout=300)
    root = tmp_path / "autograder"
    hostile = tmp_path / "conv_layers.py"
    text = (EXAMPLES / "hostile_reads_the_gradescope_bundle.py").read_text()
    hostile.write_text(text.replace('ROOT = "/autograder"', f"ROOT = {str(root)!r}"))

    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    shutil.copy(hostile, root / "submission" / "conv_layers.py")
    done = subprocess.run([str(root / "source" / "run_autograder")], env={**env, "AUTOGRADER_ROOT": str(root),
                          "AUTOGRADER_PYTHON": str(python)}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    _assert_gradescope_format(results)
    assert "site-packages/autograder" in subprocess.run(
        [str(python), "-c", "import autograder; print(autograder.__file__)"], capture_output=True, text=True, env=env, cwd=tmp_path).stdout
    scores = {test["name"]: test["score"] for test in results["tests"]}
    assert scores["zero_pad"] == 0 and scores["conv_forward_naive"] == 0 and results["score"] == 22
    secret = (root / "source" / ".autograder-secret").read_text().strip()
    assert secret not in json.dumps(results) and secret not in done.stdout + done.stderr
