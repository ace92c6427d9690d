"""The Hypothesis search behind each check: find a failing case, shrink it, explain it.

For each check of a function, cases are drawn from the check's strategy
(seeded, no example database: the same submission always meets the same
cases). The seed is public (Hypothesis's derandomized one) unless a course
secret is active (:mod:`autograder.engine.secret`): then it is derived from the
secret, so graded cases cannot be drawn in advance by anyone who lacks it,
while the same secret always draws the same ones. The drawn cases depend
only on the check and the secret, so a grader process
draws them once and replays them for every submission (:func:`drawn_cases`):
a passing submission costs only its calls. Each case is judged once (trials
are cached by case), every property of the check at once. A property that
fails is then searched for again by Hypothesis, which meets the same cases
in the same order up to the failure and shrinks it to a minimal case that
still fails *that* property; each failing property gets its own minimal
counterexample.

A speed check has no search: see :mod:`autograder.engine.speed`.
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky

from .cache import hypothesis_storage
from .cascade import describe_cache
from .expected import ExpectedValues, InternalError, array_digest
from .hints import HintContext, first_matching_hint
from .judge import judge_many
from .results import PropertyResult
from .secret import current_secret, derived_seed
from .verdicts import ERROR_PROPERTY, SIDE_CONDITIONS, TINY, Trial

if TYPE_CHECKING:
    from .checks import Check, SearchedCheck
    from .rubric import FunctionSpec

__all__ = ["search_check", "describe_call", "explain_failure", "drawn_cases", "remember_drawn", "case_key", "HangGuard"]


class HangGuard:
    """Wraps a sandbox for one submission: once a function hangs, later calls to it fail at once.

    Without it, shrinking a counterexample for a function with an infinite
    loop would wait out the per-call timeout at every step. It also holds the
    submission's forward calls that worked (``forwards``), for the backward
    checks to reuse.
    """

    def __init__(self, box) -> None:
        self.box = box
        self.hung: dict[str, object] = {}
        # Forward calls that worked, by function and arguments: a backward check reuses their
        # caches, still kept in the child, instead of calling the forward again (see forward_cache.py).
        self.forwards: dict[str, object] = {}
        # Whether the forward was wrong on a case, by the same key: a backward that fails with
        # the cache of a wrong forward is tried again with the course's standard cache (cascade.py).
        self.forward_wrong: dict[str, bool] = {}

    @property
    def submission(self):
        """The wrapped sandbox's submission."""
        return getattr(self.box, "submission", None)

    def paused(self):
        """The wrapped sandbox's `Sandbox.paused`: its child stopped while the grader times the reference."""
        return self.box.paused()

    def call_many(self, function: str, calls: list, *, stop_after=frozenset({"timeout"}), **options) -> list:
        """`Sandbox.call_many`, unless *function* hung before; *options* (``value_items``, ``timed``, ...) pass through."""
        if function in self.hung:
            return [self.hung[function]] * len(calls)
        outcomes = self.box.call_many(function, calls, stop_after=stop_after, **options)
        for outcome in outcomes:
            if outcome.status == "timeout":
                error = outcome.error
                if not error.endswith("(so it was not run again on other cases)"):
                    error += " (so it was not run again on other cases)"
                self.hung[function] = replace(outcome, error=error, value=None, ref=None, args_after=(), output="")
                break
        return outcomes


class _PropertyFailed(Exception):
    """Raised inside the Hypothesis test so that it shrinks toward this property's failure."""

    def __init__(self, case, trial: Trial) -> None:
        super().__init__()
        self.case, self.trial = case, trial


_FAILURE_TYPES: dict[str, type] = {}


def _failure_type(name: str) -> type:
    # Hypothesis tells failures apart by exception type: one type per property keeps
    # the shrinker on the property it started with.
    if name not in _FAILURE_TYPES:
        _FAILURE_TYPES[name] = type(f"PropertyFailed[{name}]", (_PropertyFailed,), {"property": name})
    return _FAILURE_TYPES[name]


_CASE_KEYS: dict[int, tuple[weakref.ref, str]] = {}


def case_key(case) -> str:
    """A content hash of a case; remembered for the drawn cases, which live as long as the grader."""
    entry = _CASE_KEYS.get(id(case))
    if entry is not None and entry[0]() is case:
        return entry[1]
    return _hash_case(case)


def _freeze(case) -> None:
    """Make a drawn case's arrays read-only and remember its key: it is shared by every submission."""
    for item in fields(case):
        value = getattr(case, item.name)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    _CASE_KEYS[id(case)] = (weakref.ref(case), _hash_case(case))


def _hash_case(case) -> str:
    digest = hashlib.sha256(repr(type(case)).encode())
    for item in fields(case):
        value = getattr(case, item.name)
        if isinstance(value, np.ndarray):
            digest.update(item.name.encode() + array_digest(value))  # dtype, shape and bytes
        else:
            digest.update(f"{item.name}={value!r}".encode())
    return digest.hexdigest()


def _arrays_of(case) -> list[tuple[str, np.ndarray]]:
    return [(f.name, getattr(case, f.name)) for f in fields(case) if isinstance(getattr(case, f.name), np.ndarray)]


def _array_text(array: np.ndarray) -> str:
    text = np.array2string(array, precision=4, separator=", ")
    return "\n".join(line for line in text.splitlines() if line.strip())  # no blank lines between 4-D blocks


def describe_call(function: FunctionSpec, check: Check, case) -> str:
    """The failing call as a student reads it, with tiny input arrays written out."""
    if check.cache_from:
        dout = getattr(case, "dout", None)
        text = (
            f"{function.signature} with the cache from {check.cache_from} on {case.describe()}"
            + (f", and dout.shape={tuple(dout.shape)}" if dout is not None else "")
        )
        shown = _arrays_of(case)
    else:
        text = f"{function.signature} with {case.describe()}"
        used = {name for name, _ in _arrays_of(case)} - {"dout"}
        shown = [(name, array) for name, array in _arrays_of(case) if name in used]
    if shown and all(array.size <= TINY for _, array in shown):
        for name, array in shown:
            label = f"  {name} = "
            text += "\n" + label + _array_text(array).replace("\n", "\n" + " " * len(label))  # under the first bracket
    return text


@dataclass
class _Search:
    box: object
    function: FunctionSpec
    check: SearchedCheck
    expected: ExpectedValues

    def __post_init__(self) -> None:
        # Every case judged, by key: its verdicts only, except for the first failure of each
        # property, whose values explain it (see `explained`).
        self.trials: dict[str, Trial] = {}
        self.first_failure: dict[str, tuple] = {}
        self.internal_error = ""

    def evaluate(self, case) -> Trial | None:
        """The trial of one case (judged now if it is new); None after an internal error."""
        self.evaluate_many([case])
        return self.trials.get(case_key(case))

    def evaluate_many(self, cases: list) -> None:
        """Judge the new ones among ``cases``, in batches of calls."""
        fresh, keys = [], set()
        for case in cases:
            key = case_key(case)
            if key not in self.trials and key not in keys:
                keys.add(key)
                fresh.append((key, case))
        for start in range(0, len(fresh), BATCH):
            chunk = fresh[start : start + BATCH]
            trials = judge_many(self.box, self.function, self.check, [case for _, case in chunk], self.expected)
            for (key, case), trial in zip(chunk, trials):
                if isinstance(trial, InternalError):
                    self.internal_error = self.internal_error or str(trial)
                    continue
                first = [name for name, verdict in trial.verdicts.items()
                         if not verdict.passed and name not in self.first_failure]
                for name in first:
                    self.first_failure[name] = (case, trial)
                self.trials[key] = trial if first else trial.without_values()

    def explained(self, name: str, case, trial: Trial) -> Trial:
        """``trial`` with the values that explain its failure of ``name``, judging ``case`` again if they were let go.

        A function that now passes on ``case`` (it answers differently from
        call to call) keeps the verdicts it failed with.
        """
        if not trial.values_dropped:
            return trial
        [again] = judge_many(self.box, self.function, self.check, [case], self.expected)
        if isinstance(again, Trial) and not again.verdicts[name].passed:
            return again
        return trial

    def run(self, targets: tuple[str, ...], examples: int, collect: list | None = None):
        """Search for a failure of any of ``targets``; returns ``(property, case, trial)`` or None.

        With ``collect``, judge nothing: append each drawn case to it. The
        Hypothesis test below is the same function either way, so its
        derandomized seed, and the cases it draws, are the same too. With a
        course secret active, an explicit seed derived from it replaces the
        derandomized one (Hypothesis lets ``@seed`` override ``derandomize``;
        every other setting stays the same), for screening and shrinking alike.
        """

        @_seeded()
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(self.check.strategy)
        def search(case):
            if collect is not None:
                collect.append(case)
                return
            trial = self.evaluate(case)
            if trial is None:
                return
            for name in targets:
                if not trial.verdicts[name].passed:
                    raise _failure_type(name)(case, trial)

        try:
            with hypothesis_storage(), _hypothesis_constants_only():  # nothing written where the grader runs
                search()
        except _PropertyFailed as failure:
            return type(failure).property, failure.case, failure.trial
        except Flaky:
            # The function answered the same case differently on replay (randomness, state
            # between calls): report the first failure seen, unshrunk.
            for name in targets:
                if name in self.first_failure:
                    case, trial = self.first_failure[name]
                    return name, case, trial
        return None


@contextlib.contextmanager
def _hypothesis_constants_only():
    """Draw without the "local constants" Hypothesis collects from the modules loaded in this process.

    Hypothesis sometimes draws a literal found in any loaded module outside
    site-packages (the CLI's, the tests', an editable install's), so which
    modules happen to be loaded would change the cases: ``autograder check``
    and a grading worker, or an editable and a regular install, would draw
    differently from the same seed. Hypothesis's own constants stay.
    """
    from hypothesis.internal.conjecture import providers  # private: absent, nothing to switch off

    collect = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if collect is None or cache is None:
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()  # it holds the local constants allowed per kind of draw
    try:
        yield
    finally:
        providers._get_local_constants = collect
        cache.clear()


def _seeded():
    """``@seed(...)`` from the active course secret; no decorator at all when the cases are public."""
    if not current_secret():
        return lambda test: test
    return seed(derived_seed("graded cases"))


BATCH = 128  # cases judged per batch of calls (a backward's forwards stay in the child until judged)
_DRAWN: dict[tuple[int, int, bytes], tuple[object, list, int]] = {}


def drawn_cases(check: SearchedCheck, examples: int) -> list:
    """``examples`` distinct cases for ``check``, the first ones Hypothesis draws; drawn once per process and secret.

    Hypothesis may draw the same case twice, so it is asked for more
    (:func:`draws_needed`) until the first ``examples`` distinct ones are there.
    """
    return _drawn(check, examples)[1]


def draws_needed(check: SearchedCheck, examples: int) -> int:
    """How many examples Hypothesis is asked for to meet :func:`drawn_cases`' cases (the search asks the same)."""
    return _drawn(check, examples)[2]


def remember_drawn(check: SearchedCheck, examples: int, cases: list, draws: int, keys: list[str]) -> bool:
    """Take :func:`drawn_cases` drawn before (:mod:`autograder.engine.store`); False, nothing taken, if a case's content is not ``keys``'."""
    if [_hash_case(case) for case in cases] != list(keys):
        return False
    for case in cases:
        _freeze(case)
    _DRAWN[(id(check.strategy), examples, current_secret())] = (check.strategy, list(cases), draws)
    return True


def _drawn(check: SearchedCheck, examples: int) -> tuple[object, list, int]:
    # The search's Hypothesis test is the same for every check, so what it draws depends on the
    # strategy alone (and the secret): checks that share one (a forward's and its backward's) share the cases.
    key = (id(check.strategy), examples, current_secret())
    if key not in _DRAWN:
        draws = examples
        while True:
            raw: list = []
            _Search(box=None, function=None, check=check, expected=None).run((), draws, collect=raw)
            distinct = list({case_key(case): case for case in reversed(raw)}.items())[::-1]  # first occurrences
            if len(distinct) >= examples or len(raw) < draws:  # enough, or the strategy has no more to give
                break
            draws += examples - len(distinct) + max(2, (examples - len(distinct)) // 2)
        firsts, seen = [], set()
        for case in raw:
            if (key_of_case := case_key(case)) not in seen and len(firsts) < examples:
                seen.add(key_of_case)
                firsts.append(case)
        for case in firsts:
            _freeze(case)
        _DRAWN[key] = (check.strategy, firsts, draws)  # keeping the strategy alive keeps its id from being reused
    return _DRAWN[key]


def search_check(box, function: FunctionSpec, check: SearchedCheck, expected: ExpectedValues, *, examples: int | None = None) -> list[PropertyResult]:
    """Judge every property of ``check``; a failing one comes with its minimal counterexample and hint.

    The rules that keep partial credit fair (README, "How a submission is judged"):

    - A call that raises on valid input is judged as an error of its own: each
      property is judged on the cases where the call returned. If it raised on
      more than half the drawn cases, every property fails with the error (no
      points for no work: the stub, or a table of known answers that raises on
      the others). If it raised on fewer, the error is one more result,
      :data:`~autograder.engine.verdicts.ERROR_PROPERTY` (0 points, its own minimal
      case, shown once), and it costs the points of the most valuable property
      that held where the call returned (the first in the rubric's order among
      equals), which fails with a message pointing at the error. Raising on
      the cases where one property would fail never earns more than failing it.
    - A side condition (:data:`~autograder.engine.rubric.SIDE_CONDITIONS`, "inputs
      unchanged") pays only if the function returned an output of the right
      type and shape on at least one case.
    - A backward right with the course's standard cache where its forward was
      wrong holds there (see `autograder.engine.cascade`); the first passing
      property says so.
    """
    examples = examples or check.examples
    search = _Search(box, function, check, expected)
    drawn = drawn_cases(check, examples)
    search.evaluate_many(drawn)  # screening: the drawn cases, in batches of calls
    found: dict[str, tuple] = {}
    for name in (*check.points, ERROR_PROPERTY):
        if name not in search.first_failure:
            continue
        # A minimal case already found for another property that fails this one too serves
        # both (a wrong shape also fails the values): no second shrink.
        shared = next(((case, trial) for case, trial in found.values() if not trial.verdicts[name].passed), None)
        if shared:
            found[name] = shared
            continue
        failure = search.run((name,), draws_needed(check, examples))  # shrink this property's failure
        case, trial = failure[1:] if failure else search.first_failure[name]
        found[name] = case, search.explained(name, case, trial)
    # An error on more than half the drawn cases is no corner case: nothing is judged around it
    # (a table of known answers that raises on every other call earns nothing).
    screened = [trial for case in drawn if (trial := search.trials.get(case_key(case))) is not None]
    raised = sum(not trial.verdicts[ERROR_PROPERTY].passed for trial in screened if ERROR_PROPERTY in trial.verdicts)
    mostly_raised = ERROR_PROPERTY in found and 2 * raised > len(screened)
    results = {}
    for name, points in check.points.items():
        judged = sum(trial.verdicts[name].judged for trial in search.trials.values())
        result = PropertyResult(
            function=function.name,
            property=name,
            max_points=float(points),
            passed=name not in found,
            examples=judged or len(search.trials),
            check=check.description,
        )
        if name in found:
            explain_failure(result, function, check, expected, name, *found[name])
        elif search.internal_error:
            result.internal_error = True
            result.message = f"internal error of the grader (not your fault): {search.internal_error}"
        elif ERROR_PROPERTY in found and (mostly_raised or not judged):  # no points for no work
            explain_failure(result, function, check, expected, ERROR_PROPERTY, *found[ERROR_PROPERTY], property_name=name)
        elif name in SIDE_CONDITIONS and search.trials and not any(trial.usable for trial in search.trials.values()):
            result.passed = False
            result.message = _no_output(function, check, found)
        results[name] = result
    ordered = list(results.values())
    calls = [trial for trial in search.trials.values() if ERROR_PROPERTY in trial.verdicts]
    returned = sum(trial.verdicts[ERROR_PROPERTY].passed for trial in calls)
    if ERROR_PROPERTY in found and returned and not mostly_raised:
        ordered.insert(0, _charge_error(function, check, expected, results, found[ERROR_PROPERTY], len(calls) - returned, len(calls)))
    rescued = [case for case in drawn if (trial := search.trials.get(case_key(case))) is not None and trial.rescued]
    if rescued:
        _say_rescued(box, function, check, results, rescued)
    return ordered


def explain_failure(result: PropertyResult, function: FunctionSpec, check: Check, expected, name: str, case, trial,
                    property_name: str = "") -> None:
    """Fill a failing result with its minimal call, the message and the hint, from the trial of ``name``.

    For a searched check ``case`` is the minimal failing case; for a speed check, its fixed case.
    """
    result.passed = False
    result.message = trial.verdicts[name].message + (f" ({trial.note})" if trial.note else "")
    result.counterexample = describe_call(function, check, case)
    context = HintContext(case=case, property=property_name or name, got=trial.got, want=trial.expected, expected=expected)
    result.hint = first_matching_hint(check.hints, context)


def _no_output(function: FunctionSpec, check: SearchedCheck, found: dict) -> str:
    first = next((trial.verdicts[name].message for name, (_, trial) in found.items() if name not in SIDE_CONDITIONS
                  and name != ERROR_PROPERTY), "")
    why = f" ({first})" if first else ""
    return (f"not credited: {function.name} returned no output of the right type and shape on any case{why}; "
            "this property earns its points only alongside an output")


def _charge_error(function: FunctionSpec, check: SearchedCheck, expected, results: dict, found: tuple, raised: int, tried: int) -> PropertyResult:
    """The error raised on some valid cases, as a result of its own; it costs the most valuable property that held."""
    error = PropertyResult(function=function.name, property=ERROR_PROPERTY, max_points=0.0, passed=False,
                           examples=tried, check=check.description)
    explain_failure(error, function, check, expected, ERROR_PROPERTY, *found, property_name=next(iter(check.points)))
    error.message = f"{error.message.rstrip('.')} (raised on {raised} of {_cases(tried)}; the others were judged)"
    held = [result for result in results.values() if result.passed and not result.internal_error]
    if held:
        charged = max(held, key=lambda result: result.max_points)  # max keeps the first of equals: the rubric's order
        charged.passed, charged.charged_for_error = False, True
        charged.message = (
            f"charged for the error above: {charged.property} held on the {_cases(charged.examples)} where "
            f"{function.name} returned, but an error raised on valid input costs its most valuable property that held"
        )
        error.message += (f"; it costs the {charged.max_points:g} points of {charged.property}, which come back once "
                          f"{function.name} returns on every valid case")
    else:
        error.message += "; every property already failed where it returned, so it costs nothing more"
    return error


def _say_rescued(box, function: FunctionSpec, check: SearchedCheck, results: dict, rescued: list) -> None:
    """The first passing property says that it held thanks to the course's cache, and why, where that can be told."""
    held = next((result for result in results.values() if result.passed and not result.internal_error), None)
    if held is None:
        return
    why = describe_cache(box, check, rescued[0])
    who = "your backward is right" if all(result.passed for result in results.values()) else "where it held, your backward is right"
    held.message = (
        f"{who}: on the {_cases(len(rescued))} where it failed with the cache of {check.forward}, "
        f"which was wrong there, it was judged with the course's standard cache and was right; "
        + (why or f"fix {check.forward}, and check what its cache holds") + "."
    )


def _cases(count: int) -> str:
    return f"{count} case" if count == 1 else f"{count} cases"
