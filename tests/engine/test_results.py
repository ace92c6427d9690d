"""The result model: statuses as one small type, the grader's traceback as a field kept from students."""

import json
from pathlib import Path

import pytest

from autograder import rubrics
from autograder.classroom import batch
from autograder.classroom.gradebook import GradebookEntry
from autograder.engine import grading
from autograder.engine.results import TRACEBACK_NOTE, Status, SubmissionResult
from autograder.notebook import feedback_for
from autograder.outputs import exports
from autograder.outputs.feedback import feedback_text, function_sections

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "conv_layers" / "correct.py"
SPEC = rubrics.get("conv_layers")


@pytest.mark.parametrize("status, word", [(Status.GRADED, "graded"), (Status.UNGRADABLE, "ungradable"),
                                          (Status.INTERNAL_ERROR, "internal error"), (Status.MISSING, "missing")])
def test_a_status_is_its_word_in_json_and_text(status, word):
    assert status == word and f"{status}" == word and json.dumps({"status": status}) == json.dumps({"status": word})
    assert SubmissionResult("x.py", "a", "1", status=word).status is status  # read back as the type


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="'finished' is not a valid Status"):
        SubmissionResult("x.py", "a", "1", status="finished")


@pytest.fixture(scope="module")
def crashed():
    """An internal error as `grade_job` records it: the grader raised while grading the submission."""
    def broken_grade(*args, **kwargs):
        raise RuntimeError("the oracle fell over")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grading, "grade", broken_grade)
        data = batch.grade_job(batch.Job(student="pat", assignment=SPEC.name, path=str(EXAMPLE)), secret=b"0" * 32)
    return GradebookEntry.from_dict(data)


def test_the_traceback_is_a_field_for_the_instructor(crashed):
    result = SubmissionResult.from_dict(crashed.result)
    assert (crashed.status, crashed.error) == (Status.INTERNAL_ERROR, "RuntimeError: the oracle fell over")
    assert result.traceback.startswith("Traceback (most recent call last)") and "broken_grade" in result.traceback
    assert result.notes == [] and crashed.result["traceback"] == result.traceback  # in the JSON export, not a note


def test_the_traceback_stays_out_of_student_feedback(crashed):
    result = SubmissionResult.from_dict(crashed.result)
    gradescope = json.dumps(exports.gradescope_results(crashed))
    for text in (feedback_text(result), gradescope, feedback_for(result)):
        assert "RuntimeError: the oracle fell over" in text  # the reason is said
        assert "Traceback" not in text and "broken_grade" not in text


def test_a_stored_traceback_note_is_read_into_the_field(crashed):
    stored = {**crashed.result, "notes": ["code cell 2: skipped `%time`", TRACEBACK_NOTE + "Traceback ..."]}
    del stored["traceback"]
    result = SubmissionResult.from_dict(stored)
    assert (result.notes, result.traceback) == (["code cell 2: skipped `%time`"], "Traceback ...")


def test_a_result_without_traceback_keeps_its_json_keys():
    result = SubmissionResult("x.py", "a", "1")
    assert "traceback" not in result.to_dict() and SubmissionResult.from_dict(result.to_dict()) == result


def test_function_sections_are_the_feedbacks_own():
    result = grading.failed_result("x.py", SPEC, Status.GRADED, "")
    for function in result.functions[:3]:
        function.note = ""
        for prop in function.properties:
            prop.passed = prop.property.startswith("output")
    text = feedback_text(result)
    assert text.endswith(function_sections(result.functions))
    for function in result.functions:
        section = exports.function_feedback(function)
        assert section.startswith(f"## {function.name}: ") and section.rstrip("\n") in text
    only = [result.functions[1].name, result.functions[3].name]
    assert feedback_for(result, only, header=False) == function_sections([result.functions[1], result.functions[3]])
