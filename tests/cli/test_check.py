"""`autograder check FILE`: what a student runs while working."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from autograder.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conv_layers"


def _check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--examples", "10"])


def test_correct_file_passes_with_exit_0():
    result = _check(EXAMPLES / "correct.py")
    assert result.exit_code == 0, result.output
    assert "33 / 33 points" in result.output and "pass every check" in result.output


def test_buggy_file_shows_counterexample_and_hint_with_exit_1():
    result = _check(EXAMPLES / "buggy_bias_forgotten.py")
    assert result.exit_code == 1
    assert "Smallest failing call:" in result.output
    assert "conv_forward_naive(x, w, b, conv_param) with x.shape=(1, 1, 1, 1)" in result.output
    assert "Hint: Your output is exactly the expected one minus the bias" in result.output


def test_json_output_has_everything():
    result = _check(EXAMPLES / "buggy_nhwc.py", "--json")
    data = json.loads(result.output)
    assert data["points"] == 27 and data["max_points"] == 33 and data["engine"] == "reference"
    forward = next(f for f in data["functions"] if f["name"] == "conv_forward_naive")
    assert any("NHWC" in p["hint"] for p in forward["properties"])


def test_missing_file_and_unknown_assignment_exit_2_with_a_next_step(tmp_path):
    missing = _check(tmp_path / "nope.py")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    unknown = _check(EXAMPLES / "correct.py", "--assignment", "conv_layer")
    assert unknown.exit_code == 2
    assert "Did you mean 'conv_layers'" in unknown.output and "next:" in unknown.output


def test_ungradable_file_exits_2(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    result = _check(path)
    assert result.exit_code == 2 and "could not be graded" in result.output


def test_works_without_the_reference_engine_installed():
    # A student's machine: the course hands out the grader but not the reference source.
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'reference' or name.startswith('reference.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from autograder.cli import main\n"
        "main()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, "check", str(EXAMPLES / "buggy_stride_ignored.py"), "--examples", "10", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(completed.stdout)
    assert data["engine"] == "oracle"
    assert data["points"] == 29


def test_the_assignment_is_inferred_and_named(tmp_path):
    # A correct fast_conv file, named nothing in particular: the functions tell, and check says so.
    path = tmp_path / "homework.py"
    path.write_text((EXAMPLES.parent / "fast_conv" / "correct.py").read_text())
    result = _check(path)
    assert result.exit_code == 0, result.output
    assert "Checking homework.py against fast_conv (from the functions it defines: 2 of its 2)" in result.output
    assert "19 / 19 points" in result.output


def test_a_file_nothing_identifies_exits_2_naming_the_flag(tmp_path):
    path = tmp_path / "scratch.py"
    path.write_text("x = 1\n")
    result = _check(path)
    assert result.exit_code == 2
    assert "cannot tell which assignment" in result.output and "--assignment" in result.output


def test_the_instructors_commands_are_all_known_to_the_students_package():
    from autograder.cli import INSTRUCTOR_COMMANDS
    from autograder.cli import instructor as cli_instructor

    assert set(cli_instructor.commands.commands) == set(INSTRUCTOR_COMMANDS)


def test_without_the_instructors_modules_their_commands_say_where_they_are():
    # The students' package leaves out autograder/cli/instructor.py (and the class tools).
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('autograder.cli.instructor', 'autograder.classroom.batch', 'reference'):\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from autograder.cli import main\n"
        "main()\n"
    )
    run = lambda *args: subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    grade = run("grade", "submissions", "--workers", "2")
    assert grade.returncode == 2
    assert "`autograder grade` is an instructor's command" in grade.stderr and "autograder check" in grade.stderr
    listing = run("--help")
    commands = listing.stdout.split("Commands:")[1].split()
    assert listing.returncode == 0 and commands[0] == "check" and "grade" not in commands


def test_a_notebook_released_for_another_grader_says_what_differs(tmp_path):
    import copy

    from autograder import rubrics
    from autograder.engine.fingerprint import grader_fingerprint

    released = json.loads((EXAMPLES.parents[1] / "assignments" / "conv_layers" / "conv_layers.ipynb").read_text())
    same = tmp_path / "same.ipynb"
    same.write_text(json.dumps(released))
    assert "note:" not in _check(same).output
    other = copy.deepcopy(released)
    course = grader_fingerprint(rubrics.get("conv_layers"))
    other["metadata"]["autograder"]["grader"] = {**course, "hypothesis": "6.151.0", "digest": "0" * 12}
    path = tmp_path / "other.ipynb"
    path.write_text(json.dumps(other))
    result = _check(path)
    assert "note: Hypothesis" in result.output and "6.151.0 in the course" in result.output
    assert "pip install hypothesis==6.151.0" in result.output
