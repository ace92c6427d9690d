"""What a sandbox is given and what it gives back: `Limits`, `CellReport`, `LoadReport`, `CallOutcome`.

Every way a call can go wrong comes back as a `CallOutcome` with a status
and a one-line message for the student, never as an exception in the
grader; the one exception, `SandboxStartError`, is the grader's machine's
problem, not the student's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from .child.protocol import Ref

CallStatus = Literal["ok", "raised", "timeout", "crashed", "memory", "budget", "missing", "stale", "protocol"]
CellStatus = Literal["ok", "raised", "exited", "hung", "crashed", "protocol", "not run"]


@dataclass(frozen=True)
class Limits:
    """How much one submission may use.

    Parameters
    ----------
    call_timeout : float
        Seconds one call (or one cell while loading) may take.
    budget : float
        Wall-clock seconds for the whole submission: loading, every call and
        every restart after a timeout or crash (the grader's own time between
        calls does not count).
    memory_bytes : int
        Address-space cap of the child (``RLIMIT_AS``).
    output_bytes : int
        Printed output kept per submission (stdout and stderr together); the
        rest is read and discarded.
    message_bytes : int
        Largest reply the parent accepts.
    file_bytes : int
        Largest file the child may write (``RLIMIT_FSIZE``).
    scratch_bytes : int
        Size of the child's private scratch folder, where it has one.
    kept_results : int
        How many call results the child keeps for `Ref` handles; older ones
        are released.  A batch of N forwards followed by a batch of N
        backwards that use their caches needs N kept: the default, 512,
        covers batches of up to 512 calls (whose arrays fit in
        *kept_result_bytes*).
    start_timeout : float
        Seconds the child may take to start (Python, NumPy, restrictions).
    kept_result_bytes : int
        Memory the kept results' arrays may hold (a view counts as the array
        it looks into); beyond it the oldest results are released even if
        there are fewer than *kept_results*.  The newest result is always kept.
    """

    call_timeout: float = 10.0
    budget: float = 120.0
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 64 * 1024
    message_bytes: int = 256 * 2**20
    file_bytes: int = 16 * 2**20
    scratch_bytes: int = 64 * 2**20
    kept_results: int = 512
    start_timeout: float = 30.0
    kept_result_bytes: int = 256 * 2**20

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"Limits.{name} must be positive, got {value!r}")


@dataclass
class CellReport:
    """What happened to one cell while loading.

    ``status`` is ``"ok"``, ``"raised"``, ``"exited"`` (called ``sys.exit``),
    ``"hung"`` or ``"crashed"`` (skipped after the process was restarted),
    ``"protocol"`` (garbled the channel to the grader; skipped) or
    ``"not run"`` (the budget ran out first, or an earlier statement of its
    file called ``sys.exit``).

    ``origin`` is where the unit is, as the student finds it (``"code cell
    3"``, ``"line 12"``); ``error`` the note on what stopped it (or on its
    last error), naming the line; ``stopped_at`` the line of its cell or file
    where it stopped (0 when it ran to its end, or when that is unknown):
    what comes after it in the unit was not run.
    """

    index: int
    origin: str
    status: CellStatus
    error: str = ""
    stopped_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class LoadReport:
    """The result of running a submission's cells.

    Parameters
    ----------
    functions : list of str
        Functions and classes the cells defined, in definition order.
    notes : list of str
        One line per thing a student should know: magics skipped, cells that
        raised, hung or crashed.
    cells : list of CellReport
        One per cell, in notebook order.
    output : str
        What the cells printed (capped, see `Limits.output_bytes`).
    seconds : float
        Wall-clock time of the load, restarts included.
    defined : dict of str to str
        Where each function was defined, as the student finds it
        (``"code cell 3, line 1"``, ``"line 12"``), as far as the child says.
    """

    functions: list[str]
    notes: list[str]
    cells: list[CellReport]
    output: str = ""
    seconds: float = 0.0
    defined: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every cell ran to its end without an error."""
        return all(cell.status == "ok" for cell in self.cells)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, ``ok`` included."""
        return dataclasses.asdict(self) | {"ok": self.ok}


@dataclass
class CallOutcome:
    """The result of calling one student function in the sandbox.

    Parameters
    ----------
    status : str
        ``"ok"``; ``"raised"`` (the function raised); ``"timeout"``;
        ``"crashed"`` (the process died); ``"memory"``; ``"budget"`` (the
        submission's time budget is spent; nothing ran); ``"missing"`` (no
        such function); ``"stale"`` (a `Ref` from before a restart);
        ``"protocol"`` (a malformed or oversized reply).
    value : object
        The decoded return value (numbers, strings, lists, tuples, dicts,
        NumPy arrays and scalars; `Opaque` placeholders for anything else).
    ref : Ref or None
        A handle to the full return value, which stays in the child.
    error : str
        One line for the student; empty when ``status == "ok"``.
    args_after, kwargs_after
        The arguments as the child sent them back after the call, for the
        grader to compare with what it sent (see `Sandbox.call_many`'s
        ``arguments_after``); empty when they were not asked for.
    output : str
        What the call printed (capped).
    seconds : float
        Wall-clock time of the call as the grader saw it, from sending the
        call (or, in a batch, from the answer to the call before it) to its
        answer. Measured by the grader: nothing the child reports about
        itself is believed.
    cpu_seconds : float or None
        For a call made with ``timed=True``: the CPU time the child process
        spent on it (every thread), read by the grader from the child's
        process CPU clock just before the call was sent and just after its
        answer arrived; it includes reading the arguments and encoding the
        result. None when not timed, or when that clock cannot be read (see
        ``Sandbox.protections["speed timing"]``).
    """

    status: CallStatus
    value: Any = None
    ref: Ref | None = None
    error: str = ""
    args_after: tuple = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the function returned normally."""
        return self.status == "ok"


class SandboxStartError(RuntimeError):
    """The child process could not be started: a problem of the grader's machine, not the student's."""


def format_bytes(count: int) -> str:
    """``2 GiB``, ``64 KiB``, ``300 bytes``.

    >>> format_bytes(2 * 2**30), format_bytes(65536), format_bytes(300)
    ('2 GiB', '64 KiB', '300 bytes')
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"
