"""The grader's side of the sandbox: start the child, load a submission, call its functions.

Student code never runs in this process, and nothing the child sends is
unpickled or evaluated: replies are length-prefixed frames validated by
`child.protocol` before any value is built.  Every way a call can go wrong (an
exception, an infinite loop, a crash, running out of memory, a garbled reply,
the time budget running out) comes back as a `CallOutcome` with a status and a
one-line message for the student, never as an exception in the grader.

Children are forked by the zygote (see `child.zygote`), a warm interpreter that has
imported NumPy and nothing of any student's, so that starting one costs
milliseconds of CPU instead of a new Python and NumPy; wherever the zygote
cannot be used, a child is a new interpreter (``python -I child/main.py``).  On platforms without
fork, descriptor passing or Linux's kernel features (Windows, macOS), children
start the portable way instead (`portable`): the same protocol and verdicts
over the three standard pipes.

Examples
--------
>>> import pathlib
>>> from autograder.sandbox.cells import Cell, Submission
>>> submission = Submission(pathlib.Path("hw.py"), [Cell(0, "def double(x):\\n    return 2 * x\\n", "file")])
>>> with Sandbox(submission) as box:
...     box.load().functions
...     box.call("double", 21).value
...     [outcome.value for outcome in box.call_many("double", [((1,), {}), ((), {"x": 2})])]
['double']
42
[2, 4]
"""


from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import math
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from . import launch, warm
from .calls import CallRequest
from .capture import OutputCapture
from .cells import Submission
from .child import protocol
from .child.protocol import ProtocolError, Ref
from .child.restrictions import BLOCKED_MODULES
from .outcomes import CallOutcome, CellReport, CellStatus, Limits, LoadReport, SandboxStartError
from .process import Child, ChildDied, DeadlineReached, without_processes
from .replies import read_cell_start, read_loaded, read_ready, read_result, refused_outcome, shown
from .zygote_client import ZygoteUnavailable

# How many bytes of calls `Sandbox.call_many` sends ahead of the one being answered.
_SEND_AHEAD_BYTES = 16 * 2**20
#: With calls in flight, how long to let replies gather before reading them (see `Child.next_message`).
_SETTLE_SECONDS = 0.001


class _Resources:
    """What a sandbox must release, kept apart so a finalizer can release it without the sandbox."""

    def __init__(self) -> None:
        self.child: Child | None = None
        self.scratch: str | None = None
        self.owner_pid = os.getpid()

    def release(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child = None
        # A process forked from the grader must not delete the grader's folders.
        if self.scratch is not None and self.owner_pid == os.getpid():
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch = None


class Sandbox:
    """Run one submission in a restricted child process and call its functions.

    Parameters
    ----------
    submission : Submission
        The cells to run (see `cells.Submission`; the engine reads them with
        `autograder.engine.submission.read_submission`).
    limits : Limits, optional
        Time, memory and size limits.
    forbidden_paths : iterable of path, optional
        Paths the child may never read, even inside what Python needs (the
        child reads nothing but its interpreter, NumPy, the system's shared
        libraries and its scratch folder; see
        `child.read_access.python_read_access`); a refusal names them the
        grader's own files.  The caller's policy (the engine's is
        `autograder.engine.policy.forbidden_paths`: the course's own folder);
        none by default.
    start_method : {"zygote", "exec", "portable"}, optional
        How each child starts: forked from the zygote, a warm interpreter
        that has imported NumPy (a few milliseconds of CPU), or as a new
        interpreter (0.1 s or more).  Either way the child installs the same
        restrictions before it runs any student code.  ``"zygote"`` falls back
        to ``"exec"`` whenever the zygote cannot be used;
        ``protections["process start"]`` says how the current child started.
        ``"portable"`` starts the child with standard pipes only and without
        any kernel protection, as on Windows and macOS (see `portable`), where
        it is chosen whatever is asked.

    Notes
    -----
    Use it as a context manager; `load` runs the cells (implicitly on the first
    `call`).  `call_many` makes many calls to one function without waiting
    for each answer in turn: the same outcomes, far less waiting.  A call
    that times out or crashes ends the child; the next call starts a new one
    and reloads the cells transparently, within the budget, and `Ref`
    handles from before the restart become stale.

    A forked child dies with the zygote, and the zygote with the grader.  A
    child started as a new interpreter dies with the thread that started it
    (a Linux rule): with ``start_method="exec"``, create and use a sandbox in
    one long-lived thread.
    """

    _ids = itertools.count(1)

    def __init__(self, submission: Submission, limits: Limits = Limits(),  # noqa: B008 - frozen, never changed
                 forbidden_paths: Iterable[str | os.PathLike[str]] = (), *,
                 start_method: Literal["zygote", "exec", "portable"] = "zygote") -> None:
        if start_method not in ("zygote", "exec", "portable"):
            raise ValueError(f"start_method must be 'zygote', 'exec' or 'portable', got {start_method!r}")
        self.submission = submission
        self.limits = limits
        self.start_method = start_method
        self.forbidden_paths = tuple(Path(path) for path in forbidden_paths)
        #: Which protections the child could install on this machine, and which it could not;
        #: ``"process start"`` says whether it was forked from the zygote or is a new interpreter.
        self.protections: dict[str, str] = {}
        self._id = next(Sandbox._ids)
        self._generation = 0
        self._resources = _Resources()
        self._finalizer = weakref.finalize(self, _Resources.release, self._resources)
        self._report: LoadReport | None = None
        self._functions: list[str] = []
        self._defined: dict[str, str] = {}
        self._skipped: dict[int, tuple[CellStatus, str]] = {}
        self._budget_used = 0.0
        self._busy_since: float | None = None
        self._budget_spent = False
        self._closed = False
        self._capture = OutputCapture(limits.output_bytes)
        self._call_seq = itertools.count(1)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child (forked from the zygote, or the warm spare, when there is one)."""
        if self._closed:
            raise RuntimeError("this sandbox is closed; make a new one")
        if self._resources.scratch is not None:
            return
        self._resources.scratch = tempfile.mkdtemp(prefix="autograder-sandbox-")
        self._resources.child = self._start_child()

    def close(self) -> None:
        """Kill the child and delete its scratch folder."""
        self._closed = True
        self._finalizer()

    # ------------------------------------------------------------ loading

    def load(self) -> LoadReport:
        """Run the submission's cells (once); later calls return the same report."""
        if self._report is not None:
            return self._report
        self.start()
        started = time.monotonic()
        mark = self._capture.mark()
        notes = list(self.submission.notes)
        with self._spending_budget():
            cells = self._load_cells(self._capture, notes)
        self._report = LoadReport(functions=list(self._functions), notes=notes, cells=cells,
                                  output=self._capture.text_since(mark), seconds=time.monotonic() - started,
                                  defined=dict(self._defined))
        return self._report

    def _load_cells(self, capture: OutputCapture, notes: list[str]) -> list[CellReport]:
        """Run the cells, restarting without any cell that hangs or kills the process."""
        cells = {cell.index: cell for cell in self.submission.cells}
        lost_children = 0
        while True:
            if self._budget_left() <= 0:
                return self._out_of_budget_while_loading(None, notes)
            if self._resources.child is None:
                self._resources.child = self._start_child()
            child = self._resources.child
            child.send({"type": "load", "module_name": "__main__" if self.submission.is_notebook else "submission",
                        "cells": [{"index": cell.index, "origin": cell.origin, "source": cell.source,
                                   "first_line": cell.first_line, "kind": cell.kind, "announce": cell.runs_code}
                                  for index, cell in cells.items() if index not in self._skipped]})
            current: int | None = None
            try:
                while True:
                    message = child.next_message(self._deadline(self.limits.call_timeout), capture)
                    kind = message.header.get("type")
                    if message.refused is not None:
                        raise ProtocolError("a message of the load was larger than the limit")
                    if kind == "cell_start":
                        current = read_cell_start(message.header, cells)
                    elif kind == "loaded":
                        child.drain_output(capture)
                        self._functions, self._defined, reports = read_loaded(message.header, cells,
                                                                              self._skipped, notes)
                        return reports
                    else:
                        raise ProtocolError(f"unexpected {shown(kind)} message while loading")
            except DeadlineReached:
                self._discard_child()
                if self._budget_left() <= 0:
                    return self._out_of_budget_while_loading(current, notes)
                failure: tuple[CellStatus, str] = (
                    "hung", f"did not finish within {self.limits.call_timeout:g} s and was skipped")
            except ChildDied as death:
                self._discard_child()
                if death.lost and lost_children < 1:  # not the cell's doing: run them all again
                    lost_children += 1
                    capture.add(b"\n[the sandbox restarted, not because of this code; the cells run again]\n")
                    continue
                status, message = death.verdict(self.limits.memory_bytes)
                cause = message if status == "memory" else death.cause()
                failure = ("crashed", f"ended the process ({cause}) and was skipped")
            except ProtocolError as error:
                self._discard_child()
                failure = ("protocol", f"garbled the channel to the grader ({error}) and was skipped")
            except BaseException:  # the grader interrupted: the child is out of step with us
                self._discard_child()
                raise
            if current is None:
                notes.append(f"the sandbox stopped before running any cell: {failure[1]}")
                return [CellReport(cell.index, cell.where, "not run") for cell in cells.values()]
            self._skipped[current] = failure
            notes.append(f"{cells[current].where} {failure[1]}")
            capture.add(f"\n[{cells[current].where} {failure[1]}; the other cells run again]\n".encode())

    def _out_of_budget_while_loading(self, current: int | None, notes: list[str]) -> list[CellReport]:
        self._budget_spent = True
        where = f" while loading {self._origin(current)}" if current is not None else ""
        notes.append(f"the time budget of {self.limits.budget:g} s for this submission ran out{where}")
        return [CellReport(cell.index, cell.where, "hung" if cell.index == current else "not run")
                for cell in self.submission.cells]

    # ------------------------------------------------------------ calling

    def call(self, function_name: str, /, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call the student's function *function_name* with the given arguments.

        Arguments may be numbers, strings, None, lists, tuples, dicts, numeric
        NumPy arrays and scalars, and `Ref` handles from earlier calls (the
        child passes its own object).  Anything else raises `TypeError`: that
        is the grader's mistake, not the student's.

        Returns
        -------
        CallOutcome
            Never raises for anything the student's code does.
        """
        return self.call_many(function_name, [(args, kwargs)])[0]

    def call_many(self, function_name: str, calls: Sequence[tuple[tuple, dict]], /, *,
                  stop_after: Collection[str] = (), value_items: Collection[int] | None = None,
                  arguments_after: bool = True, timed: bool = False,
                  max_reply_bytes: int | Sequence[int | None] | None = None) -> list[CallOutcome]:
        """Call *function_name* once per ``(args, kwargs)`` in *calls*, in order, in one round trip.

        The outcomes are those of calling `call` once per item: each call has
        its own timeout, output, ``args_after`` and `Ref`, and Refs from
        earlier calls (or batches) may be arguments.  The calls are sent ahead
        without waiting and the child answers them one by one as it goes, so
        the grader and the child do not take turns for every call.

        Parameters
        ----------
        function_name : str
            The student's function.
        calls : sequence of (tuple, dict)
            Positional and keyword arguments of each call, as for `call`.
        value_items : collection of int, optional
            Where a call returns a tuple or list, send back only these items
            (the others arrive as None; the whole value stays in the child for
            Refs). For a forward pass that returns ``(out, cache)``, ``{0}``
            spares the cache's arrays the trip.
        stop_after : collection of str, optional
            Statuses (e.g. ``{"timeout"}``) after which the remaining calls are
            not run: they get the same outcome, saying so. A function that
            hangs then costs one timeout, not one per call.
        arguments_after : bool, optional
            Whether the child sends the arguments back after each call
            (``args_after``, ``kwargs_after``), for the grader to compare with
            what it sent. Without them (a backward, whose cache would travel
            back for nothing) the reply is smaller.
        timed : bool, optional
            Run the calls one at a time, nothing sent ahead, each bracketed by
            readings of the child's CPU clock (``cpu_seconds``).
        max_reply_bytes : int or sequence of (int or None), optional
            Largest reply (header and body) accepted for each call, or one
            such bound per call; default `Limits.message_bytes`. A larger
            reply is refused from its length alone, discarded unread, and the
            call's status is ``"protocol"`` (the child runs on). Bound it by
            what the result can be: a value that costs the student's process
            nothing (a zero-stride view) then costs the grader nothing either.

        Returns
        -------
        list of CallOutcome
            One per call, in order.  Never raises for anything the student's
            code does; an argument that cannot be sent raises `TypeError`
            before any call runs.

        Notes
        -----
        A call that times out or ends the process gets its status as with
        `call`; the calls before it keep their results, and the ones after it
        run in the restarted child (where Refs from before the restart are
        ``"stale"``).  Once the budget is spent, the remaining calls are
        ``"budget"``.  One difference from lone calls: a call that garbles
        the channel (``"protocol"``) is only noticed once the child may have
        gone on to the next calls; they are run again in the restarted child,
        but what they did to the scratch folder the first time stays.

        The child keeps the results of the last `Limits.kept_results` calls
        (512 by default) for Refs, so a batch of up to that many forwards can
        be followed by a batch of backwards using their caches.

        Examples
        --------
        The course's forward then backward pass, each batched, the caches
        staying in the child (``dout`` and ``cases`` are the grader's)::

            forwards = box.call_many("conv_forward_naive", [((x, w, b, p), {}) for x, w, b, p in cases])
            backwards = box.call_many("conv_backward_naive",
                                      [((d, f.ref[1]), {}) for d, f in zip(dout, forwards)])
        """
        if self._closed:
            raise RuntimeError("this sandbox is closed; make a new one")
        items = None if value_items is None else sorted(int(i) for i in value_items)
        if max_reply_bytes is None or type(max_reply_bytes) is int:
            reply_limits: Sequence[int | None] = [max_reply_bytes] * len(calls)
        else:
            reply_limits = list(max_reply_bytes)
            if len(reply_limits) != len(calls):
                raise ValueError(f"call_many({function_name!r}, calls): {len(reply_limits)} reply limits "
                                 f"for {len(calls)} calls")
        requests = [CallRequest.encode(function_name, number, item, next(self._call_seq), items, limit,
                                        arguments_after=arguments_after)
                    for number, (item, limit) in enumerate(zip(calls, reply_limits))]
        if self._report is None:
            self.load()
        with self._spending_budget():
            return self._run_calls(requests, frozenset(stop_after), timed=timed)

    def _run_calls(self, requests: list[CallRequest], stop_after: frozenset[str] = frozenset(), *,
                   timed: bool = False) -> list[CallOutcome]:
        """Run the calls in order, pipelined (unless *timed*).

        Calls are sent ahead (up to `_SEND_AHEAD_BYTES`); the child runs them
        one at a time and answers each in turn.  Each call is still judged as
        a lone call: the budget and its Refs are checked when its turn comes,
        and its timeout runs from the moment the call before it answered.  A
        call that ends the child loses the calls sent after it; they are sent
        again to the restarted child.  *timed* calls are sent one at a time,
        so that the child's CPU clock, read before each is sent and after its
        answer, brackets that call alone.
        """
        outcomes: list[CallOutcome] = []
        sent: collections.deque[int] = collections.deque()  # sent to the current child, not yet answered
        sent_bytes = next_to_send = 0
        output_start = self._capture.mark()
        for index, request in enumerate(requests):
            refusal = self._refuse_call(request)
            if refusal is not None:
                if sent and refusal.status == "budget":  # the child is already running later calls
                    self._discard_child()
                    sent.clear()
                outcomes.append(refusal)
                continue
            child = self._resources.child
            if not sent:  # a new child, or every call sent so far has answered
                output_start = self._capture.mark()
                sent_bytes, next_to_send = 0, index
            while next_to_send < len(requests) and (not sent or (sent_bytes < _SEND_AHEAD_BYTES and not timed)):
                later = requests[next_to_send]
                # A call with a stale Ref is not sent: its turn will say so.
                if next_to_send == index or self._stale_outcome(later.refs) is None:
                    child.send_frame(later.frame(), seq=later.seq, reply_limit=later.max_reply_bytes)
                    sent.append(next_to_send)
                    sent_bytes += later.nbytes
                next_to_send += 1
            outcome, output_end = self._await_result(child, request, timed=timed, in_flight=len(sent))
            if self._resources.child is child:
                sent.popleft()
                sent_bytes -= request.nbytes
            else:  # the child was discarded, with the calls sent after this one
                sent.clear()
            outcome.output = self._capture.text_between(output_start, output_end)
            output_start = output_end
            outcomes.append(outcome)
            if outcome.status in stop_after:
                if sent:  # later calls were sent ahead to a child that is still running them
                    self._discard_child()
                not_run = CallOutcome(outcome.status, error=f"{outcome.error} (so it was not run again on other cases)")
                outcomes += [dataclasses.replace(not_run) for _ in requests[index + 1:]]
                break
        return outcomes

    @contextlib.contextmanager
    def paused(self) -> Iterator[bool]:
        """The child stopped (SIGSTOP: every thread) while the grader measures something of its own.

        Between calls the child has nothing to do; what a student's threads
        would do then, such as hammering memory to slow the grader's timing
        of the reference, waits for the end of the block. Yields whether the
        child is stopped (not where no pidfd could be opened for it).
        """
        child = self._resources.child
        stopped = child is not None and child.stop()
        try:
            yield stopped
        finally:
            if stopped:
                child.resume()

    def _refuse_call(self, request: CallRequest) -> CallOutcome | None:
        """The outcome of a call that cannot run (budget spent, stale Ref, restart failed), else None.

        Restarts the child, quietly, if a timeout or crash ended it.
        """
        started = time.monotonic()
        if self._budget_spent or self._budget_left() <= 0:
            self._budget_spent = True
            return CallOutcome("budget", error=f"not run: the time budget of {self.limits.budget:g} s "
                                               "for this submission is used up")
        stale = self._stale_outcome(request.refs)
        if stale is not None:
            return stale
        if self._resources.child is None:  # restart after a timeout or crash, quietly
            self._load_cells(OutputCapture(0), [])
            if self._budget_spent:
                return CallOutcome("budget", error=f"the time budget of {self.limits.budget:g} s for this "
                                                   "submission ran out while restarting",
                                   seconds=time.monotonic() - started)
            if self._resources.child is None:
                return CallOutcome("crashed", error="the process ended while the submission was reloaded "
                                                    "after a restart", seconds=time.monotonic() - started)
        return None

    def _stale_outcome(self, refs: tuple[Ref, ...]) -> CallOutcome | None:
        stale = next((ref for ref in refs if ref.sandbox_id != self._id or ref.generation != self._generation), None)
        if stale is None:
            return None
        where = "another sandbox" if stale.sandbox_id != self._id else "before the sandbox restarted"
        return CallOutcome("stale", error=f"an argument is a result from {where}; call the function that made it again")

    def _await_result(self, child: Child, request: CallRequest, *, retry_lost: bool = True,
                      timed: bool = False, in_flight: int = 1) -> tuple[CallOutcome, tuple[int, int]]:
        """Wait for the result of *request*, sent earlier; return it and the capture's mark where its output ends.

        With other calls *in_flight* (sent ahead after it), the wait starts
        with a short sleep (`_SETTLE_SECONDS`, see `Child.next_message`), so
        that their replies are read together.

        A child lost with the zygote (see `ChildDied`) does not make the
        call's outcome: the call runs again, once, in a new child.  With
        *timed* (the call was the only one sent, and its frame is still
        queued: `Child.send_frame` writes nothing until `Child.next_message`
        runs), the child's CPU clock is read now and once the answer is in.
        """
        call_started = time.monotonic()
        cpu_started = child.cpu_seconds() if timed else None
        cpu_answered = output_end = None
        try:
            message = child.next_message(self._deadline(self.limits.call_timeout), self._capture,
                                         settle=_SETTLE_SECONDS if in_flight > 1 and not timed else 0.0)
            if cpu_started is not None:
                cpu_answered = child.cpu_seconds()
            if message.refused is not None:  # skipped unread; the child is still in step
                output_end = child.drain_output_until(request.seq, self._capture)
                outcome = refused_outcome(*message.refused)
            else:
                if message.header.get("type") != "result":
                    raise ProtocolError(f"expected a result, got a {shown(message.header.get('type'))} message")
                if message.header.get("seq") != request.seq:
                    raise ProtocolError("a result arrived for another call than the one expected")
                output_end = child.drain_output_until(request.seq, self._capture)
                outcome = read_result(message, arguments_after=request.arguments_after,
                                      memory_bytes=self.limits.memory_bytes, sandbox_id=self._id,
                                      generation=self._generation)
        except DeadlineReached:
            self._discard_child()
            if self._budget_left() <= 0:
                self._budget_spent = True
                outcome = CallOutcome("budget", error=f"the time budget of {self.limits.budget:g} s for this "
                                                      "submission ran out during this call")
            else:
                outcome = CallOutcome("timeout", error=f"did not return within {self.limits.call_timeout:g} s "
                                                       "(an infinite loop?)")
        except ChildDied as death:
            self._discard_child()
            if death.lost and retry_lost:
                return self._retry_lost_call(request, timed=timed)
            status, error = death.verdict(self.limits.memory_bytes)
            outcome = CallOutcome(status, error=error)
        except ProtocolError as error:
            if output_end is None:  # the child does not know it garbled the channel: it may be on the next calls
                output_end = child.drain_output_until(request.seq, self._capture)
            self._discard_child()
            outcome = CallOutcome("protocol", error=f"the reply could not be read: {error}")
        except BaseException:  # e.g. KeyboardInterrupt in the grader: the replies would arrive out of step
            self._discard_child()
            raise
        outcome.seconds = time.monotonic() - call_started
        if cpu_answered is not None and outcome.ok:
            outcome.cpu_seconds = cpu_answered - cpu_started
        if output_end is None:  # the call failed; its output ends at its marker if it got that far
            output_end = child.marks.get(request.seq) or self._capture.mark()
        return outcome, output_end

    def _retry_lost_call(self, request: CallRequest, *, timed: bool = False) -> tuple[CallOutcome, tuple[int, int]]:
        """Run *request* again in a new child (its Refs from the lost one are stale, as after any restart)."""
        refusal = self._refuse_call(request)  # starts the child and loads the cells again
        if refusal is not None:
            return refusal, self._capture.mark()
        child = self._resources.child
        child.send_frame(request.frame(), seq=request.seq, reply_limit=request.max_reply_bytes)
        return self._await_result(child, request, retry_lost=False, timed=timed)

    # ------------------------------------------------------------ helpers

    def _start_child(self) -> Child:
        """A configured child: forked from the zygote when it can be, else a new interpreter.

        Where the platform lacks what those need (see `portable.portable_platform`),
        or when asked, a portable child.
        """
        portable = warm.portable_platform()
        if portable is not None or self.start_method == "portable":
            return self._portable_child(*(portable or ("linux", "the portable start installs none "
                                                                "(start_method='portable')")))
        if self.start_method == "exec":
            return self._exec_child("new interpreter (start_method='exec')")
        try:
            zygote = warm.zygote_keeper.get()
        except ZygoteUnavailable as why:
            return self._exec_child(f"new interpreter: no zygote ({why})")
        child = None
        try:
            child = Child(zygote, self.limits.start_timeout)
            self._configure(child)
        except ZygoteUnavailable as why:
            reason = str(why)
        except (ChildDied, DeadlineReached, ProtocolError) as failure:
            reason = f"a child it forked did not start ({type(failure).__name__})"
        else:
            warm.zygote_keeper.succeeded()
            self.protections["process start"] = f"forked from the zygote (pid {zygote.pid})"
            return child
        # Never the submission's loss: start this child as a new interpreter instead.
        if child is not None:
            child.kill()
        warm.zygote_keeper.failed(zygote, reason)
        return self._exec_child(f"new interpreter: the zygote failed ({reason})")

    def _exec_child(self, note: str) -> Child:
        """A configured child that is a new interpreter (the warm spare if there is one)."""
        child = warm.spare_pool.take()
        try:
            self._configure(child)
            warm.spare_pool.refill()  # after configuring, so the spare's start-up does not compete with ours
            self.protections["process start"] = note
            return child
        except (ChildDied, DeadlineReached, ProtocolError):
            child.kill()  # perhaps a spare whose starting thread has ended; try once with a fresh one
        child = Child()
        self._configure_new(child)
        self.protections["process start"] = note
        return child

    def _configure_new(self, child: Child) -> None:
        """Configure a child just started; `SandboxStartError`, with its last output, if it does not start."""
        quiet = OutputCapture(0)
        try:
            self._configure(child, quiet)
        except (ChildDied, DeadlineReached, ProtocolError) as failure:
            child.kill()
            detail = bytes(quiet.tail).decode("utf-8", "replace").strip().splitlines()[-3:]
            raise SandboxStartError(f"the sandbox child could not start ({type(failure).__name__}); "
                                    f"its last output: {' | '.join(detail) or '(none)'}") from None

    def _portable_child(self, platform: str, why: str) -> Child:
        """A configured portable child (see `portable`); `SandboxStartError` if it does not start."""
        from .child.simulate import simulated_platform
        from .portable import PortableChild

        child = PortableChild(platform, why, simulate=simulated_platform() is not None)
        self._configure_new(child)
        self.protections["process start"] = f"portable subprocess ({why})"
        return child

    def _configure(self, child: Child, capture: OutputCapture | None = None) -> None:
        forbidden = tuple(sorted(os.path.realpath(path) for path in self.forbidden_paths))
        package_folders = launch.blocked_package_folders()
        readable, read_roots, list_only = launch.read_plan(forbidden + tuple(folder for folder, _ in package_folders))
        budget_left = max(1.0, self._budget_left())
        child.reader = protocol.FrameReader(self.limits.message_bytes)
        child.send({
            "type": "configure", "scratch": self._resources.scratch,
            "memory_bytes": self.limits.memory_bytes, "file_bytes": self.limits.file_bytes,
            "scratch_bytes": self.limits.scratch_bytes, "cpu_seconds": math.ceil(budget_left) + 5,
            "message_bytes": self.limits.message_bytes, "kept_results": self.limits.kept_results,
            "kept_result_bytes": self.limits.kept_result_bytes, "output_nonce": child.output_nonce.hex(),
            "blocked_modules": list(BLOCKED_MODULES),
            "forbidden_reads": [[path, ""] for path in forbidden] + [list(pair) for pair in package_folders],
            "readable": readable, "read_roots": read_roots, "list_only": list_only,
            "skip_protections": sorted(launch.SKIPPED_PROTECTIONS), **child.configuration,
        })
        message = child.next_message(time.monotonic() + self.limits.start_timeout, capture or OutputCapture(0))
        self.protections = read_ready(message.header)
        child.cpu_clock, child.timing = without_processes(child.cpu_clock, child.timing, self.protections)
        self.protections["speed timing"] = child.timing

    def _discard_child(self) -> None:
        """Kill the child; its results (and so every Ref to them) are gone."""
        if self._resources.child is not None:
            self._resources.child.kill()
            self._resources.child = None
        self._generation += 1

    @contextlib.contextmanager
    def _spending_budget(self) -> Iterator[None]:
        """Count the time spent inside against the budget.

        Only loading and calls count: the grader's own work between calls
        (drawing cases, running the oracle) is not the student's time.
        """
        if self._busy_since is not None:  # nested: the outer block counts
            yield
            return
        self._busy_since = time.monotonic()
        try:
            yield
        finally:
            self._budget_used += time.monotonic() - self._busy_since
            self._busy_since = None

    def _budget_left(self) -> float:
        busy = time.monotonic() - self._busy_since if self._busy_since is not None else 0.0
        return self.limits.budget - self._budget_used - busy

    def _deadline(self, seconds: float) -> float:
        """When to give up waiting: after *seconds*, or when the budget runs out if sooner."""
        return time.monotonic() + min(seconds, self._budget_left())

    def _origin(self, index: int | None) -> str:
        return next((cell.where for cell in self.submission.cells if cell.index == index), f"cell {index}")


__all__ = ["Sandbox"]
