"""How fast one submission is graded: overhead, whole-assignment time, examples per second.

Run: ``.venv/bin/python bench/bench_grading.py [--repeat R] [--markdown]``

Measures, for ``examples/conv_layers/correct.py`` (loops over output
positions, vectorized over batch and channels):

- overhead: starting the sandboxed child and loading the code, forked from
  the grader's warm zygote (the default) and, for comparison, as a new
  Python interpreter importing NumPy;
- the whole ``conv_layers`` grading at the rubric's default budget, inside a
  running grader (after one warm-up grading), and the examples it checked
  per second;
- ``autograder check FILE`` from the shell, interpreter start and imports
  included, at its default budget and at the grading budget.

Targets (issue 3): overhead under 50 ms per submission; the whole check
under 2 s; ``autograder check`` under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "examples" / "conv_layers" / "correct.py"


def _median_seconds(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def overhead(repeat: int) -> tuple[float, float]:
    """(new interpreter, forked from the zygote) seconds to start a sandbox, load the submission and close it."""
    from autograder.engine.submission import read_submission
    from autograder.sandbox import Sandbox, prestart

    submission = read_submission(SUBMISSION)
    prestart()  # the zygote: started once per grader process

    def start_and_load(method):
        with Sandbox(submission, start_method=method) as box:
            box.load()

    start_and_load("zygote")  # warm-up
    return _median_seconds(lambda: start_and_load("exec"), repeat), _median_seconds(lambda: start_and_load("zygote"), repeat)


def grading(repeat: int):
    """(median seconds, examples checked, result) of a whole conv_layers grading, warm."""
    from autograder import grade
    from autograder.sandbox import prestart

    prestart(True)
    grade(SUBMISSION, examples=5)  # warm-up: torch's first calls, Hypothesis' strategy caches
    results = []

    def once():
        start = time.perf_counter()
        results.append((grade(SUBMISSION), time.perf_counter() - start))

    for _ in range(repeat):
        once()
    seconds = statistics.median(t for _, t in results)
    result = results[-1][0]
    examples = sum(check_examples for check_examples in _examples_per_check(result))
    return seconds, examples, result


def _examples_per_check(result):
    seen = set()
    for function in result.functions:
        for prop in function.properties:
            key = (function.name, prop.check)
            if key not in seen:
                seen.add(key)
                yield prop.examples


def check_from_shell(repeat: int, extra: list[str]) -> float:
    command = [str(ROOT / ".venv" / "bin" / "autograder"), "check", str(SUBMISSION), *extra]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "autograder.cli", "check", str(SUBMISSION), *extra]

    def run():
        subprocess.run(command, check=True, capture_output=True)

    return _median_seconds(run, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    args = parser.parse_args()

    cold, warm = overhead(args.repeat)
    seconds, examples, result = grading(args.repeat)
    shell_default = check_from_shell(max(1, args.repeat // 2), [])
    shell_full = check_from_shell(max(1, args.repeat // 2), ["--examples", "100"])
    rows = [
        ("overhead: start child + load code + close, forked from the zygote", f"{warm * 1e3:.0f} ms", "< 50 ms", warm < 0.05),
        ("overhead: the same with a new interpreter (the fallback)", f"{cold * 1e3:.0f} ms", "(no target)", None),
        (f"grade conv_layers, {len(result.functions)} functions, default budget (in a running grader)", f"{seconds:.2f} s", "< 2 s", seconds < 2),
        ("examples checked (distinct cases, all checks)", f"{examples}", ">= 100 per function", None),
        ("examples per second", f"{examples / seconds:.0f}", "", None),
        ("`autograder check FILE` from the shell, default (30 per check)", f"{shell_default:.2f} s", "< 5 s", shell_default < 5),
        ("`autograder check FILE --examples 100` from the shell", f"{shell_full:.2f} s", "< 5 s", shell_full < 5),
    ]
    assert result.points == result.max_points, "the correct example must score full marks"
    if args.markdown:
        print("| measure | value | target | met |")
        print("| --- | ---: | --- | --- |")
        for name, value, target, met in rows:
            print(f"| {name} | {value} | {target} | {'' if met is None else ('yes' if met else 'NO')} |")
    else:
        for name, value, target, met in rows:
            print(f"{name:90s} {value:>10s}  {target:20s} {'' if met is None else ('met' if met else 'NOT MET')}")
    print(f"\n{sys.version.split()[0]} on {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
          f"repeat {args.repeat}; medians")


if __name__ == "__main__":
    main()
