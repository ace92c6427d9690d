"""Two checkouts of the grader against each other, in turns: per submission, and on a whole class.

Run from the repository root (``git worktree add /tmp/before <commit>`` makes the other checkout)::

    .venv/bin/python bench/ab_grading.py BEFORE AFTER [--rounds 3] [--repeat 10]
                                         [--files FILE ...] [--class-size 100] [--workers-list 2,1]

Both checkouts run with this venv's Python, each on its own sources
(``PYTHONPATH``, from a neutral folder). The two take turns within each
round, so that a drift of the shared machine's speed falls on both.

1. **Per submission** (``--files``, default the ``conv_layers`` correct
   example and one buggy one; each file is graded for the assignment its
   folder is named after, as in ``examples/<assignment>/``): a fresh process grades the file once (the
   warm-up), then ``--repeat`` times more; reported per grading: wall time,
   CPU of the grader's process, and CPU of the sandboxed child (read from
   the kernel's clock of the child before it is killed). The grader's store
   is the process's own (``CONV_AUTOGRADER_CACHE``, kept across rounds), so
   rounds measure a worker's steady state, not its warm-up.
2. **A class** (``--class-size``, 0 to skip): ``autograder grade`` of the
   same class of notebooks (``bench_batch.py``'s: half correct, half one of
   the mutants) with each of ``--workers-list``, every run with an empty
   cache and a new course secret (a class's first run, warm-up included).

Prints one line per run and the medians; exit status 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_FILES = [ROOT / "examples" / "conv_layers" / "correct.py", ROOT / "examples" / "conv_layers" / "buggy_stride_ignored.py"]

# Runs in a fresh process on one checkout: grade FILE once, then REPEAT times, and print the means as JSON.
_PER_SUBMISSION = r"""
import json, sys, time
from autograder.sandbox import process
from autograder.engine.grading import grade
child_cpu = []
kill = process.Child.kill
def timed_kill(self):
    if not self.closed:
        seconds = self.cpu_seconds()
        if seconds is not None:
            child_cpu.append(seconds)
    return kill(self)
process.Child.kill = timed_kill
path, assignment, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
grade(path, assignment=assignment)
child_cpu.clear()
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(repeat):
    result = grade(path, assignment=assignment)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall": wall / repeat, "grader": cpu / repeat, "child": sum(child_cpu) / repeat, "points": result.points}))
"""


def _environment(checkout: Path, cache: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(checkout), "CONV_AUTOGRADER_CACHE": str(cache),
            "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def per_submission(checkout: Path, path: Path, repeat: int, cache: Path) -> dict:
    done = subprocess.run([PYTHON, "-c", _PER_SUBMISSION, str(path), path.parent.name, str(repeat)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(), env=_environment(checkout, cache))
    if done.returncode != 0:
        raise RuntimeError(f"{checkout}: grading {path} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def class_run(checkout: Path, class_root: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as work:
        command = [PYTHON, "-m", "autograder.cli", "grade", str(class_root), "--out", f"{work}/out", "--workers", str(workers)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                              env=_environment(checkout, Path(work) / "cache"))
        seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise RuntimeError(f"{checkout}: `autograder grade` exited with {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def _bench_batch():
    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "bench" / "bench_batch.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--files", type=Path, nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--class-size", type=int, default=100)
    parser.add_argument("--workers-list", default="2,1")
    args = parser.parse_args(argv)
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    workers_list = [int(part) for part in args.workers_list.split(",") if part]
    results: dict[tuple, list] = {}
    with tempfile.TemporaryDirectory() as work:
        caches = {name: Path(work) / f"cache-{name}" for name in sides}
        class_root = None
        if args.class_size:
            batch = _bench_batch()
            class_root = batch.write_class(batch.make_students(args.class_size), Path(work) / "class")
        for round_number in range(1, args.rounds + 1):
            for path in args.files:
                for name, checkout in sides.items():
                    measured = per_submission(checkout, path.resolve(), args.repeat, caches[name])
                    results.setdefault(("file", path.name, name), []).append(measured)
                    print(f"round {round_number} {name:6s} {path.name}: wall {1000 * measured['wall']:.0f} ms, "
                          f"grader CPU {1000 * measured['grader']:.0f} ms, child CPU {1000 * measured['child']:.0f} ms, "
                          f"points {measured['points']:g}", flush=True)
            for workers in workers_list if class_root else ():
                for name, checkout in sides.items():
                    seconds = class_run(checkout, class_root, workers)
                    results.setdefault(("class", workers, name), []).append(seconds)
                    print(f"round {round_number} {name:6s} class of {args.class_size}, {workers} worker(s): {seconds:.1f} s", flush=True)
    print("\nmedians:")
    for key, runs in results.items():
        if key[0] == "file":
            print(f"  {key[2]:6s} {key[1]}: wall {1000 * statistics.median(r['wall'] for r in runs):.0f} ms, grader CPU "
                  f"{1000 * statistics.median(r['grader'] for r in runs):.0f} ms, child CPU "
                  f"{1000 * statistics.median(r['child'] for r in runs):.0f} ms")
        else:
            print(f"  {key[2]:6s} class of {args.class_size}, {key[1]} worker(s): {statistics.median(runs):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
