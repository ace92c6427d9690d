"""The instructor's HTML report: self-contained, real PNG plots, the class's mistakes counted, student text escaped."""

import base64
import html
import re
import statistics
import sys
from pathlib import Path

import pytest

from autograder import grade
from autograder.classroom.gradebook import GradebookEntry
from autograder.outputs.report import hint_summary, write_report
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conv_layers"
FUNCTIONS = ["zero_pad", "conv_output_size", "conv_param_count", "conv_forward_naive", "conv_backward_naive",
             "max_pool_forward_naive", "max_pool_backward_naive"]
FAST = 5
LIMITS = Limits(call_timeout=2.0, budget=60.0)
BIAS_HINT = "Your output is exactly the expected one minus the bias"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'<img class="plot" alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
WORKER_DIED = "RuntimeError: worker died on <img src=x onerror=alert(1)>"  # an error that quotes a student's markup


def _entry(student, result):
    return GradebookEntry(
        student, result.assignment, "0" * 64, result.rubric_version, result.status,
        result.points, result.max_points, result.seconds, result.error, result.to_dict(), "2026-01-15T09:30:00+00:00",
    )


@pytest.fixture(scope="module")
def entries(tmp_path_factory):
    """A small class: two students forgot the bias (one id is markup), NHWC, a stub, an unreadable file, an internal error."""
    class_list = [("alice", "correct"), ("bob", "buggy_bias_forgotten"), ("<b>eve</b>", "buggy_bias_forgotten"), ("carol", "buggy_nhwc"), ("dave", "stub")]
    graded = [_entry(student, grade(EXAMPLES / f"{example}.py", examples=FAST, limits=LIMITS)) for student, example in class_list]
    broken = tmp_path_factory.mktemp("olga") / "conv.ipynb"
    broken.write_text("this is not a notebook", encoding="utf-8")
    ungradable = _entry("olga", grade(broken, examples=FAST, limits=LIMITS))
    internal = GradebookEntry("pat", "conv_layers", "1" * 64, "1", "internal error", 0.0, 33.0, 0.4, WORKER_DIED, {})
    return [*graded, ungradable, internal]


@pytest.fixture(scope="module")
def page(entries, tmp_path_factory):
    path = write_report(entries, tmp_path_factory.mktemp("report") / "report.html", title="Week 5 <conv>")
    return path.read_text(encoding="utf-8")


def test_report_is_written_where_asked(entries, tmp_path):
    path = write_report(entries[:2], tmp_path / "sub" / "class.html")
    assert path == tmp_path / "sub" / "class.html"
    page = path.read_text(encoding="utf-8")
    assert "<title>Grading report: conv_layers</title>" in page and "from 2 submissions." in page
    assert re.findall(r'<section class="student" id="student-(\w+)">', page) == ["alice", "bob"]


def test_plots_are_embedded_pngs(page):
    images = IMAGE.findall(page)
    assert [alt for alt, _ in images] == [
        "conv_layers: histogram of scores", "conv_layers: pass rate per function",
        "conv_layers: pass rate per property", "conv_layers: students per mistake",
    ]
    for _, data in images:
        assert base64.b64decode(data, validate=True).startswith(PNG_MAGIC)


def _card(page, label):
    return re.search(rf"<b>([^<]*)</b><span>{label}</span>", page)[1]


def test_the_cards_count_the_class_and_leave_the_excluded_out(page, entries):
    scores = [entry.points for entry in entries if entry.status == "graded"]
    assert sorted(scores) == [0, 27, 29, 29, 33]  # the stub's zero is a score
    cards = {label: _card(page, label) for label in
             ("submissions", "graded", "ungradable", "internal errors", "missing", "late", "mean points", "median points", "full marks")}
    assert cards == {"submissions": "7", "graded": "5", "ungradable": "1", "internal errors": "1", "missing": "0", "late": "0",
                     "mean points": f"{statistics.fmean(scores):.1f}", "median points": "29", "full marks": "1"}
    assert "Left out here: 1 ungradable submission and 1 internal error." in page


def test_the_students_table_holds_each_functions_points(page, entries):
    table = page[page.index("<h3>Students</h3>"):page.index("</table>", page.index("<h3>Students</h3>"))]
    for entry in entries:
        row = re.search(rf'<tr><td class="id"><a [^>]*>{re.escape(html.escape(entry.student))}</a></td>.*?</tr>', table)
        assert row, entry.student
        cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row[0])
        functions = {f["name"]: f["points"] for f in entry.result.get("functions", [])}
        expected = [f"{functions[name]:g}" if name in functions else "" for name in FUNCTIONS]
        assert cells == [f"{entry.score:g} / {entry.max_points:g}", *expected], entry.student


def test_page_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "http://" not in page and "https://" not in page
    assert all(source.startswith("data:image/png;base64,") for source in re.findall(r'src="([^"]*)"', page))


def test_student_text_is_escaped(page):
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "<b>eve</b>" not in page
    assert "<title>Week 5 &lt;conv&gt;</title>" in page
    assert html.escape(WORKER_DIED) in page and "<img src=x" not in page


def test_the_most_common_mistake_is_counted_once_per_student(page):
    # bob and <b>eve</b> forgot the bias (on "output values"); carol's NHWC hint shows on two properties but counts once.
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td class="num">(\d+)%</td><td>([^<]*)', page)
    counts = {sentence: int(students) for students, _, sentence in rows}
    assert counts[BIAS_HINT] == 2
    assert counts["Your output has shape (N, H&#x27;, W&#x27;, F), channels last (NHWC)."] == 1
    assert rows[0][2] == BIAS_HINT  # the most common first
    assert rows[0][1] == "40"  # 2 of the 5 graded submissions (not of all 7)


def test_not_graded_submissions_are_counted_with_their_reasons(page):
    assert "1 ungradable" in page and "1 internal error" in page
    assert "&lt;file&gt;: expected a Jupyter notebook (JSON), but the file is not valid JSON" in page
    assert html.escape(WORKER_DIED) in page


def test_students_table_lists_every_student_with_score(page):
    table = page[page.index("<h3>Students</h3>") :]
    for student, score in [("alice", "33 / 33"), ("bob", "29 / 33"), ("&lt;b&gt;eve&lt;/b&gt;", "29 / 33"), ("carol", "27 / 33"), ("olga", "0 / 33")]:
        link = rf'<a class="student" href="#student-[^"]+">{re.escape(student)}</a>'
        assert re.search(rf'<td class="id">{link}</td><td[^>]*>[^<]*</td><td>.*?</td><td class="num">{score}</td>', table)


def test_output_is_deterministic_apart_from_the_generated_line(entries, tmp_path):
    def without_date(path):
        return re.sub(r'<p class="generated">[^<]*</p>', "", path.read_text(encoding="utf-8"))

    first = write_report(entries, tmp_path / "a.html")
    second = write_report(list(reversed(entries)), tmp_path / "b.html")
    assert without_date(first) == without_date(second)


def test_report_does_not_import_pyplot(entries, tmp_path):
    had_pyplot = "matplotlib.pyplot" in sys.modules
    write_report(entries[:1], tmp_path / "report.html")
    assert ("matplotlib.pyplot" in sys.modules) == had_pyplot


def test_an_empty_gradebook_gives_a_page_that_says_so(tmp_path):
    page = write_report([], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No submissions yet." in page and "<img" not in page


@pytest.mark.parametrize(
    "hint, summary",
    [
        ("Your output matches stride 1: the stride was ignored.", "Your output matches stride 1"),
        ("Your dw holds the right numbers (transposed, flipped). dw has the shape of w.", "Your dw holds the right numbers (transposed, flipped)."),
        ("Pad once, e.g. with np.pad. Then convolve.", "Pad once, e.g. with np.pad."),
        ("Use x[i: j] for windows.", "Use x[i: j] for windows."),
        ("No full stop", "No full stop"),
    ],
    ids=["colon", "full stop", "e.g.", "colon in brackets", "one clause"],
)
def test_hint_summary(hint, summary):
    assert hint_summary(hint) == summary


def test_every_student_has_a_section_the_class_table_links_to(page, entries):
    links = re.findall(r'<a class="student" href="#([^"]+)">', page)
    sections = re.findall(r'<section class="student" id="([^"]+)">', page)
    assert sorted(set(links)) == sorted(sections) and len(sections) == len({e.student for e in entries})
    assert all(re.fullmatch(r"student-[A-Za-z0-9_.-]+", anchor) for anchor in sections)  # markup in an id stays out
    assert "student-.3Cb.3Eeve.3C.2Fb.3E" in sections


def test_a_students_section_holds_their_feedback(page):
    bob = page[page.index('id="student-bob"'):page.index('id="student-carol"')]
    assert "conv_forward_naive" in bob and '<td class="bad">failed</td>' in bob
    assert BIAS_HINT in bob and "<pre>conv_forward_naive(x, w, b, conv_param)" in bob  # the smallest failing call
    olga = page[page.index('id="student-olga"'):]
    assert "expected a Jupyter notebook (JSON)" in olga[:3000]
