"""A/B the reference engine: a git revision's ``reference`` against the working tree's, in turns.

Run from the repository root::

    .venv/bin/python bench/ab_reference.py [--base REV] [--rounds R] [--only TEXT] [--markdown]

On a shared virtual machine whole minutes run up to 2x slow, so two runs of
``bench_reference.py`` minutes apart cannot tell a 10% change from the noise.
This script times the two versions of the same op back to back, round after
round (the order alternating), on the shapes of ``bench_reference.py``, and
reports for each shape the ratio new/base of the fastest samples and the
median of the per-round ratios: a slow minute slows both samples of a round
alike, so the paired ratio cancels it. It also checks that both versions
give the same results (to 1e-12, relative).

``--base`` (default ``HEAD``) is extracted with ``git archive`` into a
temporary package ``reference_base``; the working tree's ``reference`` is the
new side. Both run with the same thread limits as ``bench_reference.py``.
The exit status is 0 whatever the ratios: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's reference, whatever is installed
sys.path.insert(0, str(ROOT / "bench"))

import bench_reference as cases  # noqa: E402  (imports neither NumPy nor torch)

PAUSE_SECONDS = 0.05  # between samples, for BLAS's spinning threads to stop


def extract_base(revision: str, into: Path) -> None:
    """Write ``revision``'s ``reference/`` as the package ``into/reference_base``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "reference"], cwd=ROOT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision} reference failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                target = into / "reference_base" / Path(member.name).relative_to("reference")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="git revision to compare the working tree with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=21, help="samples of each side per shape (default 21)")
    parser.add_argument("--sample-ms", type=float, default=30.0, help="least length of a sample (default 30 ms)")
    parser.add_argument("--only", default="", help="only the shapes whose op, label or shape contains this text")
    parser.add_argument("--threads", type=int, default=cases.DEFAULT_THREADS, help="threads for BLAS (default 2)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error("--rounds and --threads must be at least 1")

    cases.limit_threads(args.threads)
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="ab-reference-") as tmp:
        extract_base(args.base, Path(tmp))
        sys.path.insert(0, tmp)
        import reference_base as base

        import reference as new

        print(f"base: {args.base} (git archive); new: the working tree {new.__file__}")
        print(f"{args.rounds} rounds, samples of at least {args.sample_ms:g} ms, {args.threads} threads")
        rng = np.random.default_rng(0)
        rows, paired = [], []
        for case in cases.CONV_SHAPES + cases.POOL_SHAPES:
            if args.only and args.only not in f"{case.op} {case.label} {case.describe()}":
                continue
            inputs = cases.case_inputs(case, rng, new)
            base_run, new_run = cases.reference_run(base, case, inputs), cases.reference_run(new, case, inputs)
            for ours, theirs in zip(new_run(), base_run()):
                if not np.allclose(ours, theirs, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(theirs).max()))):
                    raise SystemExit(f"{case.op} {case.label}: base and new disagree")
            samples = cases.seconds_per_call(
                {"base": base_run, "new": new_run},
                repeat=args.rounds,
                min_sample=args.sample_ms / 1e3,
                pause=PAUSE_SECONDS,
                alternate=True,
            )
            base_ms, new_ms = ([1e3 * t for t in samples[side]] for side in ("base", "new"))
            ratio = statistics.median(n / b for b, n in zip(base_ms, new_ms))
            paired.append(ratio)
            rows.append((case.op, case.label, min(base_ms), min(new_ms), min(new_ms) / min(base_ms), ratio))
            if not args.markdown:
                print(f"{case.op:9s} {case.label:18s} base {rows[-1][2]:9.3f} ms  new {rows[-1][3]:9.3f} ms  "
                      f"fastest new/base {rows[-1][4]:5.2f}  paired median {ratio:5.2f}", flush=True)
        if args.markdown:
            print("| op | shape | base ms | new ms | new/base (fastest) | new/base (paired median) |")
            print("| --- | --- | ---: | ---: | ---: | ---: |")
            for op, label, b, n, fastest, ratio in rows:
                print(f"| {op} | {label} | {b:.3f} | {n:.3f} | {fastest:.2f} | {ratio:.2f} |")
        if paired:
            geomean = math.exp(sum(math.log(r) for r in paired) / len(paired))
            print(f"geometric mean of the paired medians, new/base: {geomean:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
