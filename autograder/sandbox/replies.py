"""Reading the child's replies: every message checked before it becomes a report or an outcome.

Nothing the child sends is believed as is: its ``ready`` message becomes
the protections it reports (`read_ready`), a ``cell_start`` must name a cell
of the submission (`read_cell_start`), a ``loaded`` message becomes the load's
cell reports (`read_loaded`) and a ``result`` a `CallOutcome` (`read_result`),
each field checked for type and size first; anything else raises
`ProtocolError`, which the sandbox turns into a ``"protocol"`` verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cells import Cell, location
from .child import protocol
from .child.protocol import Message, ProtocolError, Ref
from .outcomes import CallOutcome, CellReport, CellStatus, format_bytes

# What the child itself may report; the other statuses are the parent's verdicts.
_CHILD_STATUSES = frozenset({"ok", "raised", "missing", "memory", "stale"})
_CHILD_CELL_STATUSES = frozenset({"ok", "raised", "exited"})
_MAX_ERROR_CHARS = 1000
_MAX_FUNCTIONS = 1000


def shown(value: Any) -> str:
    """A value from a reply, quoted and cut short for an error message, whatever JSON it is."""
    return repr(value)[:40] if type(value) in (str, int, float, bool) or value is None else type(value).__name__


def read_ready(header: dict[str, Any]) -> dict[str, str]:
    """The protections a child's ``ready`` message reports; `ProtocolError` if it is no such message."""
    protections = header.get("protections")
    if header.get("type") != "ready" or type(protections) is not dict or len(protections) > 1000:
        raise ProtocolError("the child's first message is not a ready message")
    return {str(name)[:100]: str(state)[:300] for name, state in protections.items()}


def read_cell_start(header: dict[str, Any], cells: Mapping[int, Any]) -> int:
    """The index of the cell a ``cell_start`` message announces; `ProtocolError` if it names none of *cells*."""
    index = header.get("index")
    if type(index) is not int or index not in cells:
        raise ProtocolError("a cell_start message names no cell of this submission")
    return index


def valid_load_errors(errors: Any) -> bool:
    """Whether a cell outcome's ``errors`` are what the child sends (see `child.Kernel._run_cell`)."""
    return type(errors) is list and len(errors) <= 100 and all(
        type(item) is dict and type(item.get("error")) is str and type(item.get("origin")) is str
        and len(item["origin"]) <= 300 and type(item.get("line")) is int and type(item.get("at")) is int
        and type(item.get("continued")) is bool for item in errors)


def load_note(cell: Cell, item: dict[str, Any]) -> str:
    """``"line 2: ModuleNotFoundError: ..."``: the error at its line when that is in the unit itself,
    else the unit, then the error and where it was raised (a function defined elsewhere)."""
    error = item["error"][:_MAX_ERROR_CHARS]
    last_line = cell.first_line + cell.source.count("\n")
    if item["origin"] == cell.origin and cell.first_line <= item["line"] <= last_line:
        return f"{location(cell.origin, item['line'])}: {error}"
    where = f" ({location(item['origin'], item['line'])})" if item["origin"] and item["line"] else ""
    return f"{cell.where}: {error}{where}"


def refused_outcome(size: int, limit: int) -> CallOutcome:
    """The outcome of a call whose reply was larger than its limit and was discarded unread."""
    return CallOutcome("protocol", error=(
        f"its result was {format_bytes(size)}, more than the {format_bytes(limit)} a result may take here "
        "(a few times the size of the expected result); return a result of the expected shape"))


def read_loaded(header: dict[str, Any], cells: Mapping[int, Cell], skipped: Mapping[int, tuple[CellStatus, str]],
                notes: list[str]) -> tuple[list[str], dict[str, str], list[CellReport]]:
    """What a ``loaded`` message reports: the functions defined, where each was, and one report per cell.

    *skipped* are the cells left out of this load (they hung or crashed an
    earlier one) with their status and note; each error of a cell adds a
    line to *notes*.  Raises `ProtocolError` if the message is malformed.
    """
    reported = header.get("cells")
    functions = header.get("functions")
    defined = header.get("defined", {})
    if type(reported) is not list or type(functions) is not list or len(functions) > _MAX_FUNCTIONS \
            or any(type(name) is not str or len(name) > 200 for name in functions) or type(defined) is not dict:
        raise ProtocolError("the loaded message is malformed")
    outcomes: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    for item in reported:
        if type(item) is not dict or type(item.get("index")) is not int or item["index"] not in cells or \
                type(item.get("status")) is not str or item["status"] not in _CHILD_CELL_STATUSES or \
                not valid_load_errors(item.get("errors")):
            raise ProtocolError("a cell outcome in the loaded message is malformed")
        outcomes[item["index"]] = (item["status"], item["errors"])
    origins = {cell.origin for cell in cells.values()}
    defined_at = {name: location(place[0], place[1]) for name, place in defined.items()
                  if name in functions and type(place) is list and len(place) == 2
                  and type(place[0]) is str and place[0] in origins and type(place[1]) is int}
    reports = []
    for index, cell in cells.items():
        stopped_at = 0
        if index in skipped:
            status, error = skipped[index]
        else:
            status, errors = outcomes.get(index, ("not run", []))
            texts = [load_note(cell, item) for item in errors]
            rest = "the rest of the file" if cell.kind == "statement" else "the rest of that cell"
            for item, text in zip(errors, texts):
                if item["continued"]:
                    text += "; the rest of the cell still ran (only what needs this import is missing)"
                elif status == "exited":
                    text += f"; {rest} was not run"
                notes.append(text)
            error = texts[-1] if texts else ""
            if errors and not errors[-1]["continued"]:
                stopped_at = errors[-1]["at"]
        reports.append(CellReport(index, cell.where, status, error, stopped_at))
    return functions, defined_at, reports



def read_result(message: Message, *, arguments_after: bool, memory_bytes: int, sandbox_id: int,
                generation: int) -> CallOutcome:
    """The outcome a result message reports; raises `ProtocolError` if it is malformed.

    A `Ref` to the value names the sandbox *sandbox_id* and its child's *generation*.

    When the call asked for them, the arguments come back with every
    result that has a value, whether or not the child thinks they changed:
    whether they did is decided by the grader, comparing them with what it
    sent (`autograder.engine.verdicts.inputs_unchanged`). What this can and cannot
    catch: a function that changes its arguments in place, or a student's
    code that replaces functions of the child's own module (its helpers,
    its clock), is seen, since the grader believes no verdict of the
    child's. A student who rewrites the child's whole call machinery (the
    interpreter is theirs) can still send back copies taken before the
    call; handing the arguments over in shared memory would stop that for
    arrays, not for dicts, at the price of a memfd per child, sealed, and
    a second descriptor through the zygote.
    """
    header = message.header
    status, error, ref_id = (header.get(name) for name in ("status", "error", "ref"))
    # type() first: a JSON list or dict is unhashable.
    if type(status) is not str or status not in _CHILD_STATUSES or type(error) is not str \
            or not (ref_id is None or type(ref_id) is int and 0 <= ref_id < 2**63):
        raise ProtocolError("the result message is malformed")
    error = error[:_MAX_ERROR_CHARS]
    value = args_after = None
    kwargs_after: Any = {}
    if "value" in header:
        value = protocol.decode_value(header["value"], message.body)
        if arguments_after:
            if "args_after" not in header or "kwargs_after" not in header:
                raise ProtocolError("the result does not hold the arguments after the call")
            args_after = protocol.decode_value(header["args_after"], message.body)
            kwargs_after = protocol.decode_value(header["kwargs_after"], message.body)
            if type(args_after) is not tuple or type(kwargs_after) is not dict:
                raise ProtocolError("the arguments after the call are malformed")
    if status == "raised":
        error = f"raised {error}"
    elif status == "memory":
        detail = f" {error}" if error.startswith("(") else f": {error}" if error else ""
        error = f"ran out of memory (limit {format_bytes(memory_bytes)}){detail}"
    ref = Ref(sandbox_id, generation, ref_id) if status == "ok" and ref_id is not None else None
    return CallOutcome(status, value=value if status == "ok" else None, ref=ref, error=error,
                       args_after=args_after or (), kwargs_after=kwargs_after)
