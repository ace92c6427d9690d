"""Secret graded cases: a table of answers to the public cases scores under `check`, not under `grade`.

Also: the same secret draws the same cases in every process, replays and
shrinking meet them in order, the secret file is created once and never
shipped, and a class is refused where the sandbox lacks its kernel protections.
"""

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder import rubrics
from autograder.classroom import batch
from autograder.classroom.gradebook import Gradebook, GradebookEntry
from autograder.cli import main
from autograder.engine import search
from autograder.engine.secret import (
    SecretError,
    current_secret,
    derived_seed,
    fingerprint_of,
    read_or_create_secret,
    secret_fingerprint,
    secret_in_use,
)
from autograder.nbgrader.release import ReleaseError, release
from autograder.rubrics import conv_layers
from autograder.sandbox import KERNEL_PROTECTIONS, missing_kernel_protections, probe_protections

sys.path.insert(0, str(Path(__file__).parent))
import lookup_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
CHECKS = [(f, c) for f in conv_layers.ASSIGNMENT.functions for c in f.checks]
SECRET = b"a course secret for the tests"


def _autograder(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# --------------------------------------------------------------------------- the attack


@pytest.fixture(scope="module")
def lookup_class(tmp_path_factory):
    """A class of one: the lookup table of every public case the grader draws at the rubric's 100 per check."""
    root = tmp_path_factory.mktemp("lookup")
    folder = root / "submissions" / "table" / "conv_layers"
    folder.mkdir(parents=True)
    answers = lookup_table.build(folder / "conv_layers.py", examples=100)
    assert answers > 700  # every drawn case of every check
    return root


def test_a_lookup_table_of_the_public_cases_passes_check(lookup_class):
    # `autograder check` keeps the public cases: the table answers them all (accepted: a student
    # fooling their own practice run fools nobody).
    table = lookup_class / "submissions" / "table" / "conv_layers" / "conv_layers.py"
    completed = _autograder("check", table, "--examples", "100", "--json")
    assert json.loads(completed.stdout)["points"] == 33, completed.stderr[-2000:]


def test_a_lookup_table_of_the_public_cases_scores_nothing_under_grade(lookup_class, tmp_path):
    out = tmp_path / "grades"
    completed = _autograder("grade", lookup_class / "submissions", "--out", out, "--workers", "1")
    assert completed.returncode == 0, completed.stderr[-2000:]
    with Gradebook(out / "gradebook.db") as book:
        [entry] = book.entries()
    assert entry.points == 0, entry.result  # before the secret: 33 / 33
    assert entry.secret_fingerprint == fingerprint_of((out / ".secret").read_bytes().strip())


# --------------------------------------------------------------------------- drawing from the secret


@pytest.mark.parametrize(("function", "check"), CHECKS, ids=[f"{f.name}-{c.kind}" for f, c in CHECKS])
def test_with_a_secret_the_search_meets_the_drawn_cases_in_order(function, check):
    with secret_in_use(SECRET):
        drawn = [search.case_key(case) for case in search.drawn_cases(check, 40)]
        met = []
        recorder = search._Search(box=None, function=function, check=check, expected=None)
        recorder.evaluate = lambda case: met.append(search.case_key(case))  # every case passes
        recorder.run(tuple(check.points), search.draws_needed(check, 40))
    assert drawn == list(dict.fromkeys(met))[:40]


def test_the_drawn_cases_are_cached_per_secret():
    check = conv_layers.CONV_FORWARD.checks[0]
    public = search.drawn_cases(check, 30)
    with secret_in_use(SECRET):
        secret = search.drawn_cases(check, 30)
        assert search.drawn_cases(check, 30) is secret
    with secret_in_use(SECRET + b"!"):
        other = search.drawn_cases(check, 30)
    assert search.drawn_cases(check, 30) is public
    keys = [{search.case_key(case) for case in cases} for cases in (public, secret, other)]
    # Hypothesis starts from the simplest case whatever the seed; beyond a few, the draws differ.
    assert len(keys[0] & keys[1]) <= 3 and len(keys[1] & keys[2]) <= 3


DRAW_IN_A_PROCESS = """
import sys
from autograder import grade
from autograder.engine import search
from autograder.outputs.feedback import feedback_text
from autograder.rubrics import conv_layers
from autograder.engine.secret import secret_in_use
secret = sys.argv[1].encode()
with secret_in_use(secret):
    print([search.case_key(c) for c in search.drawn_cases(conv_layers.CONV_FORWARD.checks[0], 20)])
result = grade(sys.argv[2], examples=20, secret=secret)
print(result.points)
print(feedback_text(result))
"""


def test_same_submission_and_secret_give_the_same_cases_score_and_feedback_in_two_processes():
    submission = EXAMPLES / "buggy_bias_forgotten.py"  # its feedback shows minimal counterexamples

    def run(secret: str, *extra_imports: str) -> str:
        script = "\n".join(f"import {name}" for name in extra_imports) + DRAW_IN_A_PROCESS
        done = subprocess.run([sys.executable, "-c", script, secret, str(submission)], capture_output=True, text=True, timeout=600, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    first = run("course secret")
    # Another process, other modules loaded (the CLI's): the same cases, score and feedback.
    assert run("course secret", "autograder.cli", "autograder.classroom.crosscheck") == first
    other = run("another secret")
    assert other.splitlines()[0] != first.splitlines()[0]  # other cases
    assert float(first.splitlines()[1]) == float(other.splitlines()[1]) < 33  # the same mistakes cost the same
    assert "Smallest failing call" in first


def test_grading_a_buggy_submission_under_a_secret_still_shrinks_to_a_minimal_case():
    from autograder import grade

    result = grade(EXAMPLES / "buggy_bias_forgotten.py", examples=25, secret=SECRET)
    [failed] = [p for p in result.function("conv_forward_naive").properties if p.property == "output values"]
    assert not failed.passed
    assert "x.shape=(1, 1, 1, 1)" in failed.counterexample  # the smallest conv there is
    assert current_secret() == b""  # grade() leaves the process's secret as it found it


def test_grade_refuses_a_secret_that_is_not_bytes():
    from autograder import grade

    with pytest.raises(TypeError, match="bytes"):
        grade(EXAMPLES / "stub.py", examples=5, secret="text")


def test_derived_seeds_depend_on_the_secret():
    with secret_in_use(b"one"):
        one, fingerprint = derived_seed("graded cases"), secret_fingerprint()
    with secret_in_use(b"two"):
        two = derived_seed("graded cases")
    assert one != two and fingerprint == fingerprint_of(b"one") and len(fingerprint) == 16
    assert secret_fingerprint() == ""


# --------------------------------------------------------------------------- the secret file


def test_the_secret_file_is_created_once_private_and_read_back(tmp_path):
    path = tmp_path / "grades" / ".secret"
    first = read_or_create_secret(path)
    assert len(first) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_secret(path) == first


def test_runs_starting_together_share_one_secret(tmp_path):
    path = tmp_path / ".secret"
    got = []
    threads = [threading.Thread(target=lambda: got.append(read_or_create_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(got)) == 1 and len(got) == 8
    assert [p.name for p in tmp_path.iterdir()] == [".secret"]  # no temporary files left


def test_an_empty_secret_file_is_an_error_that_says_what_to_do(tmp_path):
    (tmp_path / ".secret").write_text("\n")
    with pytest.raises(SecretError, match="restore it from your backup"):
        read_or_create_secret(tmp_path / ".secret")


def test_release_refuses_to_ship_a_secret(tmp_path):
    assignment = tmp_path / "solutions" / "conv_layers"
    assignment.mkdir(parents=True)
    (assignment / "conv_layers.ipynb").write_text("{}")
    (assignment / ".autograder-secret").write_text("00ff\n")
    (tmp_path / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())  # a course that grades in the sandbox
    with pytest.raises(ReleaseError, match="is a course secret"):
        release(course_root=tmp_path)
    assert not (tmp_path / "assignments").exists()  # refused before nbgrader copied anything


# --------------------------------------------------------------------------- class runs


@pytest.fixture()
def small_class(tmp_path):
    """Two submissions: one correct, one a stub; quick to grade at a few cases."""
    for name in ("correct", "stub"):
        folder = tmp_path / "submissions" / name / "conv_layers"
        folder.mkdir(parents=True)
        (folder / "conv_layers.py").write_text((EXAMPLES / f"{name}.py").read_text())
    return tmp_path / "submissions"


def test_a_class_run_records_the_secret_fingerprint_and_versions_never_the_secret(small_class, tmp_path):
    out = tmp_path / "grades"
    summary = batch.grade_class(small_class, out=out, workers=1, examples=5)
    secret = (out / ".secret").read_bytes().strip()
    assert summary.secret_fingerprint == fingerprint_of(secret) and summary.secret_file == str(out / ".secret")
    exported = (out / "grades.json").read_text()
    grading = json.loads(exported)["summary"]["grading"]
    assert grading["secret_fingerprints"] == [{"fingerprint": fingerprint_of(secret), "submissions": 2}]
    [versions] = grading["versions"]
    assert {"python", "hypothesis", "numpy", "rubric"} <= set(versions) and versions["rubric"] == f"conv_layers {rubrics.get('conv_layers').version}"
    [sandbox] = grading["sandboxes"]
    assert missing_kernel_protections(sandbox["protections"]) == []
    for written in [out / "grades.json", out / "report.html", out / "gradebook.db", *out.rglob("*.md")]:
        assert secret not in written.read_bytes(), written
    assert fingerprint_of(secret).encode() in (out / "report.html").read_bytes()


def test_a_changed_secret_regrades_and_the_same_secret_skips(small_class, tmp_path):
    out = tmp_path / "grades"
    assert batch.grade_class(small_class, out=out, workers=1, examples=5, secret=b"one", export=False).graded == 2
    again = batch.grade_class(small_class, out=out, workers=1, examples=5, secret=b"one", export=False)
    assert (again.graded, again.skipped) == (0, 2)
    changed = batch.grade_class(small_class, out=out, workers=1, examples=5, secret=b"two", export=False)
    assert (changed.graded, changed.skipped) == (2, 0)
    with Gradebook(out / "gradebook.db") as book:
        assert {e.secret_fingerprint for e in book.entries()} == {fingerprint_of(b"two")}


def test_a_gradebook_from_before_the_secret_gains_its_columns(tmp_path):
    import sqlalchemy as sa

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # the table as it was before secret_fingerprint and grader_json
        connection.exec_driver_sql(
            "CREATE TABLE submissions (student VARCHAR(255), assignment VARCHAR(255), content_hash VARCHAR(64) NOT NULL, "
            "rubric_version VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL, error TEXT NOT NULL, points FLOAT NOT NULL, "
            "max_points FLOAT NOT NULL, seconds FLOAT NOT NULL, graded_at VARCHAR(40) NOT NULL, result_json TEXT NOT NULL, "
            "PRIMARY KEY (student, assignment))"
        )
        connection.exec_driver_sql("INSERT INTO submissions VALUES ('ann', 'conv_layers', 'h', '1', 'graded', '', 3, 33, 1, 't', '{}')")
    engine.dispose()
    with Gradebook(path) as book:
        [entry] = book.entries()
        assert (entry.secret_fingerprint, entry.grader) == ("", {})
        # No grader fingerprint: nothing says what drew its cases, so it is graded again.
        assert not book.is_graded("ann", "conv_layers", "h", "1", "", grader_fingerprint="f" * 12)
        book.record(GradebookEntry("bob", "conv_layers", "h", "1", "graded", 1, 33, secret_fingerprint="abc", grader={"numpy": "2"},
                                   grader_fingerprint="f" * 12))
        assert book.entries(student="bob")[0].grader == {"numpy": "2"}
        assert book.is_graded("bob", "conv_layers", "h", "1", "abc", grader_fingerprint="f" * 12)
        assert not book.is_graded("bob", "conv_layers", "h", "1", "", grader_fingerprint="f" * 12)


def _processes_showing(marker: bytes, command: list[str]) -> set[tuple[str, str]]:
    """Run ``command``; meanwhile, which processes show ``marker`` in their command line or environment."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = set()
    while process.poll() is None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            for name in ("cmdline", "environ"):
                try:
                    if marker in Path(f"/proc/{pid}/{name}").read_bytes():
                        seen.add((pid, name))
                except OSError:
                    continue
    assert process.wait() == 0
    return seen


def _grade_command(small_class, out, *secret_args):
    return [sys.executable, "-m", "autograder.cli", "grade", str(small_class), "--out", str(out), "--workers", "2", "--examples", "20", *secret_args]


def test_the_secret_reaches_workers_through_no_command_line_or_environment(small_class, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("f00d" * 16 + "\n")
    assert _processes_showing(b"f00df00d", _grade_command(small_class, tmp_path / "g", "--secret-file", secret_file)) == set()


@pytest.mark.slow
def test_the_process_scan_sees_a_secret_given_on_the_command_line(small_class, tmp_path):
    # The control for the test above: a secret on the command line shows (as --secret's help warns).
    seen = _processes_showing(b"f00df00d", _grade_command(small_class, tmp_path / "g", "--secret", "f00d" * 16))
    assert {name for _, name in seen} == {"cmdline"}


# --------------------------------------------------------------------------- protections and refusal


@pytest.mark.parametrize(
    ("protections", "missing"),
    [
        ({name: "on" for name in KERNEL_PROTECTIONS} | {"capabilities": "dropped"}, []),
        ({"landlock": "unavailable (Function not implemented)"}, list(KERNEL_PROTECTIONS)),
        ({name: "on" for name in KERNEL_PROTECTIONS if name != "ipc namespace"} | {"capabilities": "dropped"}, ["ipc namespace"]),
        ({name: "on" for name in KERNEL_PROTECTIONS} | {"ipc namespace": "unavailable (Operation not permitted)"}, ["ipc namespace"]),
        ({name: "on" for name in KERNEL_PROTECTIONS} | {"capabilities": "unchanged (Operation not permitted)"}, ["capabilities"]),
        ({name: "on" for name in KERNEL_PROTECTIONS} | {"audit hook": "unavailable (x)"}, []),
    ],
    ids=["all on", "only landlock reported", "ipc namespace not reported", "ipc namespace unavailable", "capabilities kept", "audit hook is not kernel-level"],
)
def test_missing_kernel_protections(protections, missing):
    assert missing_kernel_protections(protections) == missing


def test_this_machine_has_every_kernel_protection():
    protections = probe_protections()
    assert missing_kernel_protections(protections) == [], protections
    assert "landlock" in protections and "process start" in protections


WEAK = {
    "network namespace": "on", "private scratch tmpfs": "on (64 MiB)", "resource limits": "on", "capabilities": "dropped",
    "seccomp": "on", "audit hook": "on", "landlock": "unavailable (Function not implemented)", "ipc namespace": "on",
    "read allow-list": "on", "proc hidden": "on",  # as if kept by other means: only Landlock is missing here
}


def test_a_class_is_refused_where_a_kernel_protection_is_missing(small_class, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "machine_protections", lambda: dict(WEAK))
    result = CliRunner().invoke(main, ["grade", str(small_class), "--out", str(tmp_path / "g"), "--examples", "5"])
    assert result.exit_code == 2, result.output
    assert "landlock: unavailable (Function not implemented)" in result.output
    assert "Linux 5.13" in result.output and "--allow-weak-sandbox" in result.output
    assert not (tmp_path / "g" / "gradebook.db").exists() or not Gradebook(tmp_path / "g" / "gradebook.db").entries()


def test_allow_weak_sandbox_grades_and_says_what_is_missing(small_class, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "machine_protections", lambda: dict(WEAK))
    args = ["grade", str(small_class), "--out", str(tmp_path / "g"), "--examples", "5", "--workers", "1", "--allow-weak-sandbox"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "lacks landlock (graded anyway: --allow-weak-sandbox)" in result.output
    assert "landlock unavailable" in result.output


def test_the_summary_shows_the_protections_and_the_secret(small_class, tmp_path):
    result = CliRunner().invoke(main, ["grade", str(small_class), "--out", str(tmp_path / "g"), "--examples", "5", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "landlock on" in result.output and "seccomp on" in result.output and "network namespace on" in result.output
    fingerprint = fingerprint_of((tmp_path / "g" / ".secret").read_bytes().strip())
    assert f"fingerprint {fingerprint}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--secret", "x", "--secret-file", "f"], "both give the course secret"), (["--secret", " "], "--secret is empty")],
    ids=["both", "empty"],
)
def test_bad_secret_options_say_what_to_do(args, message, small_class):
    result = CliRunner().invoke(main, ["grade", str(small_class), *args])
    assert result.exit_code == 2 and message in result.output and "next:" in result.output


def test_secret_from_standard_input_equals_the_file(small_class, tmp_path):
    args = ["grade", str(small_class), "--out", str(tmp_path / "g"), "--examples", "5", "--workers", "1", "--secret", "-"]
    result = CliRunner().invoke(main, args, input="typed secret\n")
    assert result.exit_code == 0, result.output
    with Gradebook(tmp_path / "g" / "gradebook.db") as book:
        assert {e.secret_fingerprint for e in book.entries()} == {fingerprint_of(b"typed secret")}
    assert not (tmp_path / "g" / ".secret").exists()  # a secret given is not written anywhere


READS_THE_SECRET = '''
def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    with open({path!r}) as handle:  # the path a student would find in the grader's command line
        handle.read()
    height, width = filter_size if isinstance(filter_size, tuple) else (filter_size, filter_size)
    return num_filters * (height * width * in_channels + (1 if bias else 0))
'''


def test_a_submission_cannot_read_the_secret_file_during_a_class_run(tmp_path):
    out = tmp_path / "grades"
    folder = tmp_path / "submissions" / "mallory" / "conv_layers"
    folder.mkdir(parents=True)
    (folder / "conv_layers.py").write_text(READS_THE_SECRET.format(path=str(out / ".secret")))
    batch.grade_class(tmp_path / "submissions", out=out, workers=1, examples=5, export=False)
    with Gradebook(out / "gradebook.db") as book:
        [entry] = book.entries()
    [function] = [f for f in entry.result["functions"] if f["name"] == "conv_param_count"]
    assert function["points"] == 0  # were the file readable, the formula would earn 2
    assert "not allowed" in json.dumps(function) or "Permission denied" in json.dumps(function)
