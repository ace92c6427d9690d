"""Time the vectorized NumPy reference against torch: one forward then one backward per op.

Run from the repository root::

    .venv/bin/python bench/bench_reference.py [--threads N] [--repeat R] [--quick] [--only TEXT] [--markdown]

Both engines run on the CPU in float64 with the same number of threads. For
torch the timed code is what a user writes: ``F.conv2d`` (``F.max_pool2d``,
``F.avg_pool2d``) on tensors that require gradients, then ``.backward(dout)``;
the tensors are made from the NumPy arrays once, outside the timed region. For
the reference it is ``conv_forward`` then ``conv_backward`` on the forward's
cache. Each time is the fastest of ``--repeat`` samples taken after a warm-up
(``--statistic median`` for the median); a sample runs the op as many times
as it takes to last at least 100 ms, so the timer's resolution does not
matter for the small shapes, and a sample measures a run of calls, as in
training, rather than the first call after the pause below (which for either
engine can take 1.5x longer while caches and idle cores wake up).

The fastest sample is the default because, as the ``timeit`` documentation
puts it, slower ones are typically caused by other processes interfering: on
a shared virtual machine whole seconds run 1.5-2x slow for either engine. The
summary gives the targets on both statistics.

The engines take turns, one sample each per round, with a pause before every
sample: OpenBLAS's and OpenMP's worker threads spin for a while after each
call, and on a two-core machine the spinning threads of one library slow the
other one down by up to 40x.

Targets: the geometric mean of reference/torch is at most 1.0 and no shape is
above 2.0. The exit status is 0 either way: this is a measurement, not a test.

BLAS reads its thread count when it is loaded, so this module imports NumPy
and torch only after :func:`limit_threads` has set the environment.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_THREADS = 2  # the cores of the course machines
SETTLE_SECONDS = 0.3  # long enough for idle BLAS and OpenMP threads to stop spinning
GEOMEAN_TARGET = 1.0
MAX_RATIO_TARGET = 2.0
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Old-OpenBLAS workarounds that some machines set; they can pin a slower kernel.
OPENBLAS_TUNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class ConvShape:
    """One convolution: input (N, C, H, W), F filters of size K x K, stride, pad, dilation."""

    label: str
    batch: int
    channels: int
    size: int
    filters: int
    kernel: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1

    @property
    def op(self) -> str:
        return "conv"

    def describe(self) -> str:
        text = (
            f"x ({self.batch}, {self.channels}, {self.size}, {self.size}), "
            f"w ({self.filters}, {self.channels}, {self.kernel}, {self.kernel}), s{self.stride} p{self.pad}"
        )
        return text + (f" d{self.dilation}" if self.dilation != 1 else "")


@dataclass(frozen=True)
class PoolShape:
    """One pooling layer (``kind`` is "max" or "avg"): input (N, C, H, W), K x K windows, stride."""

    label: str
    kind: str
    batch: int
    channels: int
    size: int
    window: int
    stride: int

    @property
    def op(self) -> str:
        return f"{self.kind} pool"

    def describe(self) -> str:
        x_shape = (self.batch, self.channels, self.size, self.size)
        return f"x {x_shape}, {self.window}x{self.window} s{self.stride}"


CONV_SHAPES = (
    ConvShape("grading", 2, 3, 7, 4, 3, stride=1, pad=1),
    ConvShape("small", 4, 3, 16, 8, 3, stride=1, pad=1),
    ConvShape("stride 2", 8, 16, 17, 32, 3, stride=2, pad=1),
    ConvShape("5x5 filter", 8, 16, 16, 16, 5, stride=1, pad=2),
    ConvShape("1x1", 16, 64, 16, 32, 1, stride=1, pad=0),
    ConvShape("dilated", 8, 16, 16, 16, 3, stride=1, pad=2, dilation=2),
    ConvShape("medium", 16, 32, 16, 32, 3, stride=1, pad=1),
    ConvShape("CIFAR first layer", 32, 3, 32, 32, 3, stride=1, pad=1),
    ConvShape("CIFAR", 32, 64, 32, 64, 3, stride=1, pad=1),
)

POOL_SHAPES = tuple(
    PoolShape(label, kind, *sizes)
    for kind in ("max", "avg")
    for label, sizes in (
        ("grading", (2, 3, 8, 2, 2)),
        ("medium", (8, 16, 16, 2, 2)),
        ("CIFAR", (32, 64, 32, 2, 2)),
        ("overlapping", (16, 32, 33, 3, 2)),
    )
)


# --------------------------------------------------------------------------- threads


def limit_threads(threads: int) -> None:
    """Give BLAS and OpenMP ``threads`` threads; must run before NumPy or torch is imported."""
    if "numpy" in sys.modules or "torch" in sys.modules:
        raise RuntimeError("limit_threads must run before numpy and torch are imported")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def blas_summary() -> list[str]:
    """One line per thread pool (threadpoolctl), or NumPy's BLAS entry when it is not installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [f"numpy BLAS: {blas.get('name')} {blas.get('version')} (install threadpoolctl to see the kernel)"]
    lines = []
    for pool in threadpool_info():
        name = " ".join(str(pool[key]) for key in ("internal_api", "version", "architecture") if pool.get(key))
        lines.append(f"{name}: {pool['num_threads']} threads ({os.path.basename(pool['filepath'])})")
    return lines


# --------------------------------------------------------------------------- timing


def loops_per_sample(run: Callable[[], object], *, min_sample: float) -> int:
    """How many calls make one sample last at least ``min_sample`` seconds (as timeit's autorange)."""
    run()  # warm-up: first-call allocations, lazy imports, thread start
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            run()
        if time.perf_counter() - start >= min_sample:
            return loops
        loops *= 2 if loops < 1000 else 10


def seconds_per_call(
    runs: dict[str, Callable[[], object]],
    *,
    repeat: int,
    min_sample: float,
    pause: float = SETTLE_SECONDS,
    alternate: bool = False,
) -> dict[str, list[float]]:
    """The ``repeat`` samples of the time of one call of each of ``runs``.

    Each round takes one sample of every engine in turn, after a ``pause``,
    so that a burst of load from another process hits both engines alike;
    with ``alternate``, every other round takes them in reverse order.
    """
    loops = {}
    for name, run in runs.items():
        time.sleep(pause)
        loops[name] = loops_per_sample(run, min_sample=min_sample)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(repeat):
            order = list(runs.items())
            for name, run in reversed(order) if alternate and round_ % 2 else order:
                time.sleep(pause)
                start = time.perf_counter()
                for _ in range(loops[name]):
                    run()
                samples[name].append((time.perf_counter() - start) / loops[name])
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


STATISTICS = {"min": min, "median": statistics.median}


@dataclass(frozen=True)
class Timing:
    """Milliseconds of forward + backward in each engine (one statistic of the samples), and the disagreement."""

    op: str
    shape: str
    label: str
    reference_ms: float
    torch_ms: float
    error: float

    @property
    def ratio(self) -> float:
        return self.reference_ms / self.torch_ms


def case_inputs(case, rng, reference) -> tuple:
    """Seeded inputs of ``case``: ``(x, w, b, conv_param, dout)`` or ``(x, pool_param, dout)``.

    ``reference`` (a module with the reference's API) gives the output shape, for ``dout``.
    """
    x = rng.standard_normal((case.batch, case.channels, case.size, case.size))
    if isinstance(case, ConvShape):
        w = rng.standard_normal((case.filters, case.channels, case.kernel, case.kernel))
        b = rng.standard_normal(case.filters)
        conv_param = {"stride": case.stride, "pad": case.pad, "dilation": case.dilation}
        return x, w, b, conv_param, rng.standard_normal(reference.conv_forward(x, w, b, conv_param)[0].shape)
    pool_param = {"pool_height": case.window, "pool_width": case.window, "stride": case.stride}
    return x, pool_param, rng.standard_normal(reference.max_pool_forward(x, pool_param)[0].shape)


def reference_run(reference, case, inputs) -> Callable[[], tuple]:
    """One forward then one backward of ``case`` in ``reference`` (a module); the call returns the gradients."""
    if isinstance(case, ConvShape):
        x, w, b, conv_param, dout = inputs

        def run():
            _, cache = reference.conv_forward(x, w, b, conv_param)
            return reference.conv_backward(dout, cache)

        return run
    x, pool_param, dout = inputs
    forward = getattr(reference, f"{case.kind}_pool_forward")
    backward = getattr(reference, f"{case.kind}_pool_backward")

    def run():
        _, cache = forward(x, pool_param)
        return (backward(dout, cache),)

    return run


def _engines(case, rng):
    """``(run_reference, torch_run, check)``: two zero-argument callables and one that compares them."""
    import numpy as np
    import torch
    import torch.nn.functional as functional

    import reference

    def tensor(array):
        return torch.from_numpy(array).requires_grad_(True)

    inputs = case_inputs(case, rng, reference)
    run_reference = reference_run(reference, case, inputs)
    if isinstance(case, ConvShape):
        x, w, b, _, dout = inputs
        xt, wt, bt, dout_t = tensor(x), tensor(w), tensor(b), torch.from_numpy(dout)
        options = {"stride": case.stride, "padding": case.pad, "dilation": case.dilation}

        def torch_run():
            xt.grad = wt.grad = bt.grad = None  # a fresh gradient each time, as in one training step
            functional.conv2d(xt, wt, bt, **options).backward(dout_t)
            return xt.grad, wt.grad, bt.grad

    else:
        torch_op = {"max": functional.max_pool2d, "avg": functional.avg_pool2d}[case.kind]
        x, _, dout = inputs
        xt, dout_t = tensor(x), torch.from_numpy(dout)

        def torch_run():
            xt.grad = None
            torch_op(xt, kernel_size=case.window, stride=case.stride).backward(dout_t)
            return (xt.grad,)

    def check() -> float:
        """Largest normwise difference between the two engines' gradients."""
        errors = []
        for ours, theirs in zip(run_reference(), torch_run()):
            theirs = theirs.numpy()
            errors.append(float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300)))
        return max(errors)

    return run_reference, torch_run, check


def run_benchmarks(
    *, repeat: int = 7, quick: bool = False, only: str = "", seed: int = 0
) -> dict[str, list[Timing]]:
    """Time the cases in both engines (NumPy and torch must already see the thread limit).

    ``quick`` keeps four shapes per op and shortens the samples; ``only`` keeps
    the cases whose op, label or shape contains that text. Returns the
    timings under each of :data:`STATISTICS`, from the same samples.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    cases = CONV_SHAPES + POOL_SHAPES
    if quick:
        cases = tuple(case for case in cases if case.label in ("grading", "stride 2", "overlapping", "CIFAR"))
    if only:
        cases = tuple(case for case in cases if only in f"{case.op} {case.label} {case.describe()}")
    min_sample = 0.005 if quick else 0.1
    timings: dict[str, list[Timing]] = {name: [] for name in STATISTICS}
    for case in cases:
        run_reference, torch_run, check = _engines(case, rng)
        error = check()
        runs = {"reference": run_reference, "torch": torch_run}
        samples = seconds_per_call(runs, repeat=repeat, min_sample=min_sample)
        for name, statistic in STATISTICS.items():
            ms = {engine: 1e3 * statistic(values) for engine, values in samples.items()}
            timings[name].append(Timing(case.op, case.describe(), case.label, ms["reference"], ms["torch"], error))
    return timings


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


# --------------------------------------------------------------------------- report


HEADERS = ("op", "shape", "reference ms", "torch ms", "reference/torch")


def _row(timing: Timing) -> tuple[str, ...]:
    return (
        timing.op,
        f"{timing.shape} [{timing.label}]",
        f"{timing.reference_ms:.3f}",
        f"{timing.torch_ms:.3f}",
        f"{timing.ratio:.2f}",
    )


def _summary(timings: dict[str, list[Timing]], shown: str) -> list[str]:
    """The targets, on the statistic in the table first, then on the others."""
    lines = []
    for name in sorted(timings, key=lambda name: name != shown):
        ratios = [t.ratio for t in timings[name]]
        geomean, worst = geometric_mean(ratios), max(timings[name], key=lambda t: t.ratio)
        met = geomean <= GEOMEAN_TARGET and worst.ratio <= MAX_RATIO_TARGET
        lines += [
            f"{name} of the samples{' (the table)' if name == shown else ''}:",
            f"  geometric mean of reference/torch: {geomean:.2f} (target <= {GEOMEAN_TARGET})",
            f"  max reference/torch: {worst.ratio:.2f}, {worst.op} {worst.label} (target <= {MAX_RATIO_TARGET})",
            f"  targets met: {'yes' if met else 'no'}",
        ]
    return lines


def environment_lines(threads: int, load_before: float) -> list[str]:
    import numpy as np
    import torch

    tuning = [f"{name}={os.environ[name]}" for name in OPENBLAS_TUNING_VARIABLES if name in os.environ]
    return [
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, {threads} threads (torch.get_num_threads() = {torch.get_num_threads()})",
        *blas_summary(),
        "OpenBLAS tuning variables: " + (", ".join(tuning) if tuning else "none set"),
        f"load average before the run: {load_before:.2f}"
        + (" (other processes were busy: expect noisy times)" if load_before > 0.5 else ""),
    ]


def markdown_table(timings: list[Timing]) -> str:
    """The timings as a Markdown table, numbers right-aligned."""
    lines = ["| " + " | ".join(HEADERS) + " |", "| --- | --- | ---: | ---: | ---: |"]
    lines += ["| " + " | ".join(_row(t)) + " |" for t in timings]
    return "\n".join(lines)


def print_report(
    all_timings: dict[str, list[Timing]], threads: int, *, statistic: str, markdown: bool, load_before: float
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)  # no wrapping in logs
    for line in environment_lines(threads, load_before):
        console.print(line, markup=False)
    console.print(f"times: the {statistic} of the samples, in milliseconds", markup=False)
    console.print()
    timings = all_timings[statistic]
    if markdown:
        console.print(markdown_table(timings), markup=False, soft_wrap=True)
    else:
        table = Table("op", "shape", "reference ms", "torch ms", "reference/torch")
        for column in table.columns[2:]:
            column.justify = "right"
        for timing in timings:
            style = "red" if timing.ratio > MAX_RATIO_TARGET else ("green" if timing.ratio <= 1.0 else None)
            table.add_row(*_row(timing), style=style)
        console.print(table)
    console.print()
    for line in _summary(all_timings, statistic):
        console.print(line, markup=False)
    worst_error = max(timings, key=lambda t: t.error)
    if worst_error.error > 1e-10:
        console.print(
            f"warning: the engines disagree on {worst_error.op} {worst_error.label}: "
            f"normwise error {worst_error.error:.2g} (expected <= 1e-10)",
            style="bold red",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads for BLAS and torch (default 2)")
    parser.add_argument("--repeat", type=int, default=7, help="timed samples per engine and shape")
    parser.add_argument(
        "--statistic", choices=sorted(STATISTICS), default="min", help="what the table shows of the samples (default min)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer shapes and shorter samples (a smoke run)")
    parser.add_argument("--only", default="", help="only the cases whose op, label or shape contains this text")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for bench/README.md)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1:
        parser.error("--threads and --repeat must be at least 1")

    load_before = os.getloadavg()[0]
    limit_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(args.threads, user_api="blas")

    timings = run_benchmarks(repeat=args.repeat, quick=args.quick, only=args.only)
    print_report(timings, args.threads, statistic=args.statistic, markdown=args.markdown, load_before=load_before)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
    sys.exit(main())
