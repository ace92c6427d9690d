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
import gc
import io
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
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


def runner(module, case, arrays):
    """One forward and one backward of ``case`` in ``module``; returns the gradients."""
    if isinstance(case, cases.ConvShape):
        x, w, b, conv_param, dout = arrays

        def run():
            _, cache = module.conv_forward(x, w, b, conv_param)
            return module.conv_backward(dout, cache)

    else:
        x, pool_param, dout = arrays
        forward = getattr(module, f"{case.kind}_pool_forward")
        backward = getattr(module, f"{case.kind}_pool_backward")

        def run():
            _, cache = forward(x, pool_param)
            return (backward(dout, cache),)

    return run


def case_arrays(case, new, rng):
    x = rng.standard_normal((case.batch, case.channels, case.size, case.size))
    if isinstance(case, cases.ConvShape):
        w = rng.standard_normal((case.filters, case.channels, case.kernel, case.kernel))
        b = rng.standard_normal(case.filters)
        conv_param = {"stride": case.stride, "pad": case.pad, "dilation": case.dilation}
        dout = rng.standard_normal(new.conv_forward(x, w, b, conv_param)[0].shape)
        return x, w, b, conv_param, dout
    pool_param = {"pool_height": case.window, "pool_width": case.window, "stride": case.stride}
    return x, pool_param, rng.standard_normal(new.max_pool_forward(x, pool_param)[0].shape)


def compare(base_run, new_run, *, rounds: int, min_sample: float) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each side, one sample of each per round, the order alternating."""
    loops = cases.loops_per_sample(base_run, min_sample=min_sample)
    base, new = [], []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(rounds):
            order = ((base_run, base), (new_run, new)) if round_ % 2 == 0 else ((new_run, new), (base_run, base))
            for run, samples in order:
                time.sleep(PAUSE_SECONDS)
                start = time.perf_counter()
                for _ in range(loops):
                    run()
                samples.append(1e3 * (time.perf_counter() - start) / loops)
    finally:
        if gc_was_enabled:
            gc.enable()
    return base, new


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
        import reference as new
        import reference_base as base

        print(f"base: {args.base} (git archive); new: the working tree {new.__file__}")
        print(f"{args.rounds} rounds, samples of at least {args.sample_ms:g} ms, {args.threads} threads")
        rng = np.random.default_rng(0)
        rows, paired = [], []
        for case in cases.CONV_SHAPES + cases.POOL_SHAPES:
            if args.only and args.only not in f"{case.op} {case.label} {case.describe()}":
                continue
            arrays = case_arrays(case, new, rng)
            base_run, new_run = runner(base, case, arrays), runner(new, case, arrays)
            for ours, theirs in zip(new_run(), base_run()):
                if not np.allclose(ours, theirs, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(theirs).max()))):
                    raise SystemExit(f"{case.op} {case.label}: base and new disagree")
            base_ms, new_ms = compare(base_run, new_run, rounds=args.rounds, min_sample=args.sample_ms / 1e3)
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
