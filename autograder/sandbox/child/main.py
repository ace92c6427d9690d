"""The sandboxed child: runs a student's cells and function calls for the grader.

Started by `parent` as ``python -I -u child/main.py REQUEST_FD REPLY_FD PARENT_PID``,
or forked by the zygote (``child/main.py --zygote SOCKET_FD GRADER_PID``, see
`zygote`), which has done the slow part, importing NumPy and the protocol,
once for all its children.  Either way the child then ties its death to its
parent, waits for the ``configure`` message, installs the restrictions (see
`restrictions`), then serves ``load`` and ``call`` messages until the parent
closes the pipe.  Where there is no fork, no descriptor passing or no Linux
kernel (Windows, macOS), it is started by `portable` as ``child/main.py --portable
PLATFORM PARENT_PID [--simulate]``: requests on stdin, replies on the
original stdout, which it moves away before pointing fd 1 at stderr, the
output pipe (`_start_portable`).  The student's stdout and stderr
(fds 1 and 2) go to a third pipe that the parent drains; the protocol pipes
are separate, so printing cannot corrupt a reply.

Messages to the parent: ``ready``; ``cell_start`` before each cell (so the
parent knows which cell hung or killed the process) and ``loaded`` at the end
of a load; ``result`` after each call, echoing the call's ``seq``.

The parent may send several ``call`` messages without waiting (`Sandbox.call_many`);
they are read and run one at a time, in order.  So that the parent can tell
which call printed what, each call's output is ended by a marker written on the
output pipe (`protocol.OUTPUT_MARK_TAG`, the nonce the parent chose, the call's
``seq``) before its result is sent.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import linecache
import os
import signal
import sys
import types
from collections import OrderedDict
from typing import Any

# Cells get this file-name prefix, so tracebacks can be cut down to the student's frames.
SOURCE_PREFIX = "<submission "
_RECURSION_LIMIT = sys.getrecursionlimit()  # Python's default, before any student code


#: The modules of this folder each one imports (its ``from . import`` lines): loaded before it.
SIBLING_IMPORTS = {"protocol": ("codec",), "kernel_layer": ("read_access",),
                   "restrictions": ("read_access", "kernel_layer")}


def load_sibling(name: str) -> types.ModuleType:
    """Import a module of this folder by path, without the ``autograder`` package, as ``_sandbox_<name>``.

    What it imports from this folder is loaded first, under the same kind
    of name, where its ``else`` branch of ``if __package__`` finds it.
    """
    for needed in SIBLING_IMPORTS.get(name, ()):
        if f"_sandbox_{needed}" not in sys.modules:
            load_sibling(needed)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_sandbox_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


class Channel:
    """Blocking frame I/O on the two protocol pipes (the parent always drains)."""

    def __init__(self, protocol: types.ModuleType, request_fd: int, reply_fd: int, output_fd: int,
                 mark_loads: bool = False) -> None:
        self.protocol = protocol
        # A portable parent reads the output pipe from a thread: a marker tells it a load's output is all in.
        self.mark_loads = mark_loads
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        # A private duplicate of stdout: markers still arrive if the student redirects fds 1 and 2.
        self.output_fd = output_fd
        self.output_marker: bytes | None = None
        self.max_reply_bytes = 1 << 40
        # Captured now: the student may replace os.read/os.write later.
        self._read, self._write = os.read, os.write
        #: Whether a frame is partly written (an error then leaves the channel out of step).
        self.frame_started = False

    def receive(self) -> Any:
        """The next message from the parent, or None once it has closed the pipe."""
        prefix = self._read_exactly(self.protocol.PREFIX.size)
        if prefix is None:
            return None
        magic, header_length, body_length = self.protocol.PREFIX.unpack(prefix)
        if magic != self.protocol.MAGIC:
            raise self.protocol.ProtocolError("the parent's message did not start with the protocol marker")
        data = self._read_exactly(header_length + body_length) if header_length + body_length else b""
        if data is None:
            return None
        return self.protocol.Message(self.protocol.parse_header(data[:header_length]), data[header_length:])

    def send(self, header: dict[str, Any], values: dict[str, Any] | None = None) -> None:
        """Send *header* plus encoded *values*; if too large, send placeholders instead."""
        protocol = self.protocol
        header_bytes, buffers = protocol.encode_message(header, values or {}, max_bytes=self.max_reply_bytes)
        if len(header_bytes) + sum(view.nbytes for view in buffers) > self.max_reply_bytes:
            too_large = protocol.Opaque("reply", "too large to send")
            header_bytes, buffers = protocol.encode_message(header, {name: too_large for name in values or {}})
        if self.mark_loads and header.get("type") == "loaded":
            self.mark_output(protocol.LOAD_MARK_SEQ)
        self.frame_started = True
        for piece in protocol.frame_pieces(header_bytes, buffers):
            view = memoryview(piece)
            while view.nbytes:
                written = self._write(self.reply_fd, view)
                view = view[written:]
        self.frame_started = False

    def mark_output(self, seq: Any) -> None:
        """End a call's printed output with its marker (see the module docstring)."""
        if self.output_marker is None or type(seq) is not int:
            return
        try:
            # One write of fewer than PIPE_BUF bytes: atomic, never split by a student's thread.
            self._write(self.output_fd, self.output_marker + self.protocol.OUTPUT_MARK_SEQ.pack(seq))
        except OSError:  # the student closed the descriptor or made it non-blocking: the output stays unsplit
            pass

    def _read_exactly(self, count: int) -> bytes | None:
        data = bytearray()
        while len(data) < count:
            chunk = self._read(self.request_fd, min(count - len(data), 1 << 20))
            if not chunk:
                return None
            data += chunk
        return bytes(data)


class StaleReference(Exception):
    """A Ref names a result the child no longer keeps."""


class Kernel:
    """Holds the student's namespace and the results handed out as Refs.

    Results are kept oldest first and released when there are more than
    *kept_results* of them, or when their arrays hold more than
    *kept_result_bytes* (the newest result is always kept).
    """

    def __init__(self, protocol: types.ModuleType, channel: Channel, kept_results: int,
                 kept_result_bytes: int) -> None:
        self.protocol = protocol
        self.channel = channel
        self.kept_results = kept_results
        self.kept_result_bytes = kept_result_bytes
        self.module: types.ModuleType | None = None
        # result id -> (the value, the bytes of its arrays)
        self.results: OrderedDict[int, tuple[Any, int]] = OrderedDict()
        self.kept_bytes = 0
        self.next_result_id = 1

    # ---------------------------------------------------------------- load

    def load(self, header: dict[str, Any]) -> None:
        """Run the units in one namespace, retrying NameError units until no progress.

        A unit is a notebook cell or a top-level statement of a ``.py`` file
        (``kind == "statement"``; see `autograder.engine.submission.split_statements`).
        A statement that calls ``sys.exit`` ends its file: the file's later
        statements do not run, as Python would not run them.
        """
        module = types.ModuleType(header["module_name"])
        sys.modules[module.__name__] = module
        self.module = module
        self.source_lines: dict[str, list[str]] = {}  # per file or cell: its lines, for tracebacks
        outcomes: dict[int, dict[str, Any]] = {}
        ended: set[str] = set()  # files a statement ended with sys.exit
        pending = header["cells"]
        while pending:
            retry = []
            progress = False
            for cell in pending:
                if cell.get("kind") == "statement" and cell["origin"] in ended:
                    outcomes.pop(cell["index"], None)  # not run: the parent says why
                    continue
                outcome = self._run_cell(cell)
                outcomes[cell["index"]] = outcome
                if outcome["status"] == "exited" and cell.get("kind") == "statement":
                    ended.add(cell["origin"])
                if outcome["status"] == "raised" and outcome["retry"]:
                    retry.append(cell)
                else:
                    progress = True
            if not retry or not progress:
                break
            pending = retry
        cells = [{"index": index, "status": outcome["status"], "errors": outcome["errors"]}
                 for index, outcome in outcomes.items()]
        self.channel.send({"type": "loaded", "cells": cells, "functions": self._function_names(),
                           "defined": self._definitions()})

    def _run_cell(self, cell: dict[str, Any]) -> dict[str, Any]:
        """Run one unit; its status, its errors (text, origin, line, whether the unit went on) and whether to retry it.

        In a notebook cell, an import that fails (the course's own packages
        are not in the sandbox) does not stop the cell: the statements after
        it run, as they would where the package is installed. Any other
        error stops the cell there, as in Jupyter; what ran before it stays.
        """
        if cell.get("announce", True):  # a plain def runs no student code: it cannot hang, no need to say
            self.channel.send({"type": "cell_start", "index": cell["index"]})
        filename = f"{SOURCE_PREFIX}{cell['origin']}>"
        first_line = cell.get("first_line", 1)
        self._cache_lines(filename, cell["source"], first_line)
        # Blank lines in front: line numbers count from the start of the student's file, not the statement's.
        source = "\n" * (first_line - 1) + cell["source"]
        errors: list[dict[str, Any]] = []
        code: Any = source
        while True:
            try:
                exec(compile(code, filename, "exec"), self.module.__dict__)
            except SystemExit as exit_request:
                errors.append(_error_record(f"called sys.exit({_safe_text(exit_request.code, 40)})",
                                            exit_request, filename))
                return {"status": "exited", "errors": errors, "retry": False}
            except BaseException as error:  # noqa: BLE001 - one cell must never end the load
                record = _error_record(describe_exception(error, self.protocol, located=False), error, filename)
                rest = self._after_failed_import(error, source, filename) if cell.get("kind") != "statement" else None
                errors.append(record | {"continued": rest is not None})
                if rest is None:
                    return {"status": "raised", "errors": errors, "retry": isinstance(error, NameError)}
                code = rest
                continue
            finally:
                _flush_standard_streams()
            return {"status": "raised" if errors else "ok", "errors": errors, "retry": False}

    def _after_failed_import(self, error: BaseException, source: str, filename: str) -> Any:
        """The rest of a cell after the top-level import statement that raised *error*, as an AST; None otherwise."""
        if not isinstance(error, ImportError):
            return None
        line = _top_level_line(error, filename)
        try:
            body = ast.parse(source).body
        except BaseException:  # noqa: BLE001 - it compiled once; be safe all the same
            return None
        for position, statement in enumerate(body):
            if statement.lineno <= line <= statement.end_lineno:
                if not isinstance(statement, (ast.Import, ast.ImportFrom)) or position + 1 == len(body):
                    return None
                return ast.Module(body=body[position + 1:], type_ignores=[])
        return None

    def _cache_lines(self, filename: str, source: str, first_line: int) -> None:
        """Keep the source for tracebacks; a file's statements share one entry, each at its own lines."""
        lines = source.splitlines(keepends=True)
        cached = self.source_lines.setdefault(filename, [])
        end = first_line - 1 + len(lines)
        cached.extend([""] * (end - len(cached)))
        cached[first_line - 1:end] = lines
        linecache.cache[filename] = (len(source), None, cached, filename)

    def _definitions(self) -> dict[str, list]:
        """Where each function the cells defined comes from: ``{name: [origin, first line]}``."""
        where = {}
        code_of = types.FunctionType.__dict__["__code__"].__get__  # read directly: no student attribute hook runs
        for name in self._function_names():
            value = self.module.__dict__[name]
            if type(value) is types.FunctionType:
                code = code_of(value)
                if type(code.co_filename) is str and code.co_filename.startswith(SOURCE_PREFIX):
                    where[name] = [code.co_filename[len(SOURCE_PREFIX):-1], code.co_firstlineno]
        return where

    def _function_names(self) -> list[str]:
        """Functions and classes the student's cells defined (not imported ones)."""
        names = []
        namespace = self.module.__dict__
        for name, value in list(namespace.items()):
            if type(name) is not str or name.startswith("_"):
                continue
            kind = type(value)
            if kind is types.FunctionType and value.__globals__ is namespace:
                names.append(name)
            elif issubclass(kind, type) and type(module := type.__dict__["__module__"].__get__(value)) is str \
                    and module == self.module.__name__:  # type() first: a student __eq__ is never called
                names.append(name)
        return names

    # ---------------------------------------------------------------- call

    def call(self, message: Any) -> None:
        """Call a student function; end its output with a marker; send its result and the arguments after."""
        header = message.header
        status, error, values = self._run_call(header["function"], header, message.body)
        _flush_standard_streams()
        self.channel.mark_output(header.get("seq"))
        self._reply(header.get("seq"), status, error, values, header.get("value_items"))

    # Nothing here judges the call: the child reports neither how long it took
    # nor whether the arguments changed. The grader reads the child's CPU
    # clock itself and compares the arguments sent back with those it sent;
    # a student's code can rewrite anything in this process, so a verdict
    # computed here could be forged (see `replies.read_result`, in the parent).

    def _run_call(self, name: str, header: dict[str, Any], body: bytes) -> tuple[str, str, dict[str, Any] | None]:
        """Status, error and, if the function ran, its value and (unless not asked for) the arguments after."""
        protocol = self.protocol
        function = self.module.__dict__.get(name) if self.module is not None else None
        if function is None or not callable(function):
            return "missing", self._missing(name, function), None
        try:
            args = protocol.decode_value(header["args"], body, resolve_ref=self._resolve)
            kwargs = protocol.decode_value(header["kwargs"], body, resolve_ref=self._resolve)
        except StaleReference as stale:
            return "stale", str(stale), None
        except BaseException as error:  # noqa: BLE001 - a Ref whose path the student's object cannot follow
            return "raised", (f"{describe_exception(error, protocol)}, when the grader indexed a value "
                              "the code returned earlier"), None
        value = None
        status, error = "ok", ""
        try:
            value = function(*args, **kwargs)
        except MemoryError as memory_error:
            status, error = "memory", describe_exception(memory_error, protocol, name_type=False)
        except BaseException as exception:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are results too
            status, error = "raised", describe_exception(exception, protocol)
        if header.get("arguments_after") is False:
            return status, error, {"value": value}
        return status, error, {"value": value, "args_after": args, "kwargs_after": kwargs}

    def _reply(self, seq: Any, status: str, error: str, values: dict[str, Any] | None,
               value_items: Any = None) -> None:
        result_id = self._keep(values["value"]) if status == "ok" else None
        if status == "ok" and type(value_items) is list and type(values["value"]) in (tuple, list):
            # Only the items the grader asked for travel; the whole value is kept above for Refs.
            whole = values["value"]
            values["value"] = type(whole)(item if index in value_items else None for index, item in enumerate(whole))
        header = {"type": "result", "seq": seq, "status": status, "error": error, "ref": result_id}
        try:
            self.channel.send(header, values)
        except MemoryError:
            self._release(result_id)
            self.channel.send(header | {"status": "memory", "error": "MemoryError while sending the result",
                                        "ref": None})

    def _keep(self, value: Any) -> int:
        """Keep *value* for Refs; release the oldest results beyond the limits."""
        result_id = self.next_result_id
        self.next_result_id += 1
        size = array_bytes(value, self.protocol.np.ndarray)
        self.results[result_id] = (value, size)
        self.kept_bytes += size
        while len(self.results) > self.kept_results or \
                (self.kept_bytes > self.kept_result_bytes and len(self.results) > 1):
            self._release(next(iter(self.results)))
        return result_id

    def _release(self, result_id: int | None) -> None:
        if result_id in self.results:
            _, size = self.results.pop(result_id)
            self.kept_bytes -= size

    def _resolve(self, node: dict[str, Any], path: list) -> Any:
        object_id = node.get("object")
        if object_id not in self.results:
            raise StaleReference(
                f"the result this handle points to is no longer kept (the sandbox keeps the last {self.kept_results} "
                f"results, with at most {self.kept_result_bytes / 2**20:g} MiB of arrays); call the function again")
        value, _ = self.results[object_id]
        for key in path:
            value = value[key]
        return value

    def _missing(self, name: str, value: Any) -> str:
        if value is not None:
            return f"{name} is a {self.protocol.type_name_of(value)}, not a function"
        defined = self._function_names()
        found = f" (found: {', '.join(defined[:10])})" if defined else " (no functions were defined)"
        return f"no function named {name} is defined{found}"


def array_bytes(value: Any, ndarray: type, max_nodes: int = 10_000) -> int:
    """Roughly the memory held by the arrays in *value*, looking into tuples, lists and dicts.

    A view counts as the whole array it looks into (it keeps that alive); an
    array met twice counts once.  Student subclasses cannot lie about sizes:
    the ``ndarray`` slots are read directly.
    """
    nbytes = ndarray.__dict__["nbytes"].__get__
    base_of = ndarray.__dict__["base"].__get__
    seen: set[int] = set()
    total = 0
    stack = [(value, 0)]
    visited = 0
    while stack and visited < max_nodes:
        item, depth = stack.pop()
        visited += 1
        kind = type(item)
        if issubclass(kind, ndarray):
            while issubclass(type(base_of(item)), ndarray):
                item = base_of(item)
            if id(item) not in seen:
                seen.add(id(item))
                total += nbytes(item)
        elif depth < 8 and (kind is tuple or kind is list):
            stack += [(inner, depth + 1) for inner in itertools.islice(item, max_nodes - visited)]
        elif depth < 8 and kind is dict:
            stack += [(inner, depth + 1) for inner in itertools.islice(dict.values(item), max_nodes - visited)]
    return total


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the student may have replaced the streams
            pass


def _safe_text(value: Any, limit: int) -> str:
    """``str(value)`` on one line, cut to *limit* characters, never raising."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a student __str__ may raise anything
        text = "<a value that cannot be shown>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_exception(error: BaseException, protocol: types.ModuleType, *, name_type: bool = True,
                       located: bool = True) -> str:
    """``"ValueError: message (cell 3, line 7)"``: one line, the student's innermost frame.

    The location is the last traceback frame inside the student's code, so an
    error raised deep inside NumPy still points at the student's line;
    ``located=False`` leaves it out. A syntax error gives its message alone
    (its text would name the file and line once more).
    """
    name = protocol.type_name_of(error) if name_type else ""
    try:
        message = error.msg if issubclass(type(error), SyntaxError) and type(error.msg) is str else error
    except BaseException:  # noqa: BLE001 - attributes of a student's exception may do anything
        message = error
    text = ": ".join(part for part in (name, _safe_text(message, 200)) if part)
    if not located:
        return text
    origin, line = _student_location(error)
    return f"{text} ({_location(origin, line)})" if origin else text


def _location(origin: str, line: int) -> str:
    """As `autograder.engine.submission.location`: ``"line 7"`` in the lone file, else ``"code cell 3, line 7"``."""
    return f"line {line}" if origin in ("file", "") else f"{origin}, line {line}"


def _student_location(error: BaseException) -> tuple[str, int]:
    """The origin and line of the innermost traceback frame in the student's code; ``("", 0)`` if none."""
    try:
        filename, line = "", 0
        traceback = error.__traceback__
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename.startswith(SOURCE_PREFIX):
                filename, line = traceback.tb_frame.f_code.co_filename, traceback.tb_lineno
            traceback = traceback.tb_next
        # A syntax error has no frame in the student's code: the compiler records where it was.
        if not filename and issubclass(type(error), SyntaxError) and type(error.filename) is str \
                and type(error.lineno) is int:
            filename, line = error.filename, error.lineno
    except BaseException:  # noqa: BLE001 - attributes of a student's exception may do anything
        return "", 0
    if not filename.startswith(SOURCE_PREFIX) or type(line) is not int:
        return "", 0
    return filename[len(SOURCE_PREFIX):-1], line


def _top_level_line(error: BaseException, filename: str) -> int:
    """The line of the unit's own top-level statement that *error* went through (0 if none)."""
    try:
        traceback = error.__traceback__
        while traceback is not None:
            code = traceback.tb_frame.f_code
            if code.co_filename == filename and code.co_name == "<module>":
                return traceback.tb_lineno
            traceback = traceback.tb_next
    except BaseException:  # noqa: BLE001 - a student's exception may do anything
        pass
    return 0


def _error_record(text: str, error: BaseException, filename: str) -> dict[str, Any]:
    """One error of a load, for the parent: its text, where it happened, and the unit's line it stopped at."""
    origin, line = _student_location(error)
    return {"error": text, "origin": origin, "line": line,
            "at": _top_level_line(error, filename) or (line if issubclass(type(error), SyntaxError) else 0),
            "continued": False}


def main(argv: list[str]) -> None:
    # One call: this frame keeps no names the student could reach by walking up the stack.
    serve(*_start(argv))


#: The first argument of a portable child (`portable.PORTABLE_FLAG`; not imported: that module is the grader's).
PORTABLE_FLAG = "--portable"


def _start(argv: list[str]) -> tuple[types.ModuleType, types.ModuleType, int, int, bool]:
    """The restrictions and protocol modules, the two protocol descriptors, whether the child is portable.

    Its death is tied to the parent's before it returns.
    """
    if argv[1] == PORTABLE_FLAG:
        return _start_portable(argv)
    restrictions = load_sibling("restrictions")
    if argv[1] == "--zygote":  # zygote.ZYGOTE_FLAG, not imported: an exec'd child needs no zygote module
        request_fd, reply_fd, parent_pid, protocol = _zygote(restrictions, int(argv[2]), int(argv[3]))
        # From here on this process is a sandbox child, forked by the zygote.
        sys.argv[1:] = [str(request_fd), str(reply_fd), str(parent_pid)]  # as an exec'd child's
    else:
        request_fd, reply_fd, parent_pid = (int(text) for text in argv[1:4])
        protocol = None
    restrictions.set_parent_death_signal(parent_pid)
    if protocol is None:
        protocol = load_sibling("protocol")  # imports NumPy: the slow part the zygote has done already
    return restrictions, protocol, request_fd, reply_fd, False


def _start_portable(argv: list[str]) -> tuple[types.ModuleType, types.ModuleType, int, int, bool]:
    """As `_start`, for ``main.py --portable PLATFORM PARENT_PID [--simulate]`` (see `portable`).

    The parent gave it three plain pipes: requests come on stdin, replies go
    to the original stdout; both are moved to new descriptors first, then
    stdin becomes the null device (student code reading it must not eat a
    request) and fd 1 the output pipe (fd 2), so ``print`` goes where the
    parent collects a call's output, never into a reply.
    """
    platform_name, parent_pid = argv[2], int(argv[3])
    if "--simulate" in argv[4:]:  # before anything else is imported: see `simulate`
        load_sibling("simulate").hide_platform(platform_name)
    request_fd, reply_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    if sys.platform == "win32":  # raw bytes both ways: no newline translation on the protocol pipes
        import msvcrt

        for fd in (request_fd, reply_fd):
            msvcrt.setmode(fd, os.O_BINARY)
    _watch_parent(parent_pid)
    restrictions = load_sibling("restrictions")
    protocol = load_sibling("protocol")
    return restrictions, protocol, request_fd, reply_fd, True


def _watch_parent(parent_pid: int) -> None:
    """End this process when the grader ends, where no parent-death signal exists.

    Between requests the end of the request pipe does it; while student
    code runs, a thread does: on Windows it waits on the grader's process
    handle (opened now, before the audit hook could refuse it), elsewhere
    it sees this process handed to another parent.
    """
    import threading
    import time

    if sys.platform == "win32":
        import _winapi

        synchronize = 0x00100000
        try:
            handle = _winapi.OpenProcess(synchronize, False, parent_pid)
        except OSError:  # the grader is gone already
            os._exit(1)

        def watch() -> None:
            _winapi.WaitForSingleObject(handle, _winapi.INFINITE)
            os._exit(1)
    else:
        getppid, sleep = os.getppid, time.sleep
        if getppid() != parent_pid:
            os._exit(1)

        def watch() -> None:
            while getppid() == parent_pid:
                sleep(0.5)
            os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _zygote(restrictions: types.ModuleType, socket_fd: int,
            grader_pid: int) -> tuple[int, int, int, types.ModuleType]:
    """Be the zygote (see `zygote`); return, in each forked child, its descriptors, parent and protocol."""
    loaded: dict[str, types.ModuleType] = {}

    def warm_up() -> None:
        restrictions.set_parent_death_signal(grader_pid)
        loaded["protocol"] = load_sibling("protocol")  # NumPy, with the one BLAS thread the environment asks

    zygote = load_sibling("zygote")
    request_fd, reply_fd, zygote_pid = zygote.serve(socket_fd, warm_up)
    del sys.modules[zygote.__name__]  # the zygote's loop is no module of the child's
    # Every fork starts from the zygote's random state: draw new seeds, as a fresh interpreter would
    # (NumPy 1.x imports numpy.random with numpy; `random` reseeds itself after a fork; str hashes
    # keep the zygote's seed).
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    return request_fd, reply_fd, zygote_pid, loaded["protocol"]


def serve(restrictions: types.ModuleType, protocol: types.ModuleType, request_fd: int, reply_fd: int,
          portable: bool = False) -> None:
    """Wait for the configuration, install the restrictions, then run what the parent asks; never returns."""
    # Ctrl-C is Python's KeyboardInterrupt, whichever way the grader was started: a grader started in
    # the background (nohup, `&` in a script) ignores SIGINT, and a zygote it started then would hand
    # that on to every child it forks, unlike a new interpreter started later.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    output_fd = os.dup(1)
    channel = Channel(protocol, request_fd, reply_fd, output_fd, mark_loads=portable)
    message = channel.receive()
    if message is None:
        os._exit(0)
    config = message.header
    scratch = config["scratch"]
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch)
    channel.max_reply_bytes = config["message_bytes"]
    channel.output_marker = protocol.OUTPUT_MARK_TAG + bytes.fromhex(config["output_nonce"])
    protections = (restrictions.install_portable if portable else restrictions.install)(config)
    kernel = Kernel(protocol, channel, config["kept_results"], config["kept_result_bytes"])
    # Drop our own names from the namespace students can reach through sys.modules.
    del restrictions, message, config, portable
    channel.send({"type": "ready", "protections": protections, "pid": os.getpid()})
    while True:
        message = channel.receive()
        if message is None:
            break
        kind = message.header.get("type")
        try:
            if kind == "load":
                kernel.load(message.header)
            elif kind == "call":
                kernel.call(message)
        except BaseException as error:  # noqa: BLE001 - the child's own machinery failed on the student's values
            _answer_failed_request(channel, protocol, kind, message.header, error)
        del message
    # os._exit: skip atexit handlers and non-daemon threads the student may have left behind.
    os._exit(0)


def _answer_failed_request(channel: Channel, protocol: types.ModuleType, kind: Any, header: dict[str, Any],
                           error: BaseException) -> None:
    """Answer a load or call during which this file's own code raised, blaming that request only.

    Student values reach the child's machinery (a 1000-deep list, a
    ``__repr__`` or ``__eq__`` that raises, a value too large to encode, a
    recursion limit the student lowered): the request then fails with a
    message that says so, instead of a traceback of the grader's files and
    a dead child that would look like ``os._exit()``.
    """
    if channel.frame_started:  # part of a reply is on the pipe already: the channel cannot be mended
        os._exit(70)
    if sys.getrecursionlimit() < _RECURSION_LIMIT:  # the student may have lowered it below what we need
        sys.setrecursionlimit(_RECURSION_LIMIT)
    memory = isinstance(error, MemoryError)
    try:
        description = describe_exception(error, protocol)
    except BaseException:  # noqa: BLE001 - even describing it failed (no memory left, say)
        description = type(error).__name__
    hint = "a value too large" if memory else "a value nested too deeply, or an object whose methods raise,"
    what = "what the cells defined" if kind == "load" else "this call's arguments or result"
    text = f"{description} while the sandbox handled {what}; {hint} can cause this"
    if kind == "load":
        cells = [{"index": cell.get("index"), "status": "raised",
                  "errors": [{"error": text, "origin": "", "line": 0, "at": 0, "continued": False}]}
                 for cell in header.get("cells", []) if type(cell) is dict]
        reply = {"type": "loaded", "cells": cells, "functions": [], "defined": {}}
    else:
        channel.mark_output(header.get("seq"))  # a second marker for the same call is ignored
        reply = {"type": "result", "seq": header.get("seq"), "status": "memory" if memory else "raised",
                 "error": text, "ref": None}
    try:
        channel.send(reply)
    except BaseException:  # noqa: BLE001 - not even that could be sent: end quietly, the parent reports it
        os._exit(70)


if __name__ == "__main__":
    main(sys.argv)
