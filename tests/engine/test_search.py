"""The search: screening replays exactly the cases Hypothesis would draw, and failures shrink."""

import pytest

from autograder.engine import search
from autograder.rubrics import conv_layers

CHECKS = [(f, c) for f in conv_layers.ASSIGNMENT.functions for c in f.checks]


@pytest.mark.parametrize(("function", "check"), CHECKS, ids=[f"{f.name}-{c.kind}" for f, c in CHECKS])
def test_drawn_cases_are_the_cases_the_search_meets(function, check):
    drawn = [search.case_key(case) for case in search.drawn_cases(check, 40)]
    met = []
    recorder = search._Search(box=None, function=function, check=check, expected=None)
    recorder.evaluate = lambda case: met.append(search.case_key(case))  # judges nothing: every case passes
    recorder.run(tuple(check.points), search.draws_needed(check, 40))
    assert drawn == list(dict.fromkeys(met))[:40]  # the search meets them, in order, repeats aside


@pytest.mark.parametrize(("function", "check"), CHECKS, ids=[f"{f.name}-{c.kind}" for f, c in CHECKS])
def test_every_check_screens_the_requested_number_of_distinct_cases(function, check):
    assert len({search.case_key(case) for case in search.drawn_cases(check, 100)}) == 100


def test_drawn_cases_are_drawn_once_per_process():
    check = conv_layers.CONV_FORWARD.checks[0]
    assert search.drawn_cases(check, 7) is search.drawn_cases(check, 7)
