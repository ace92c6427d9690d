"""Drawn cases and expected values kept on disk, so that a machine draws and computes them once.

Every grading process needs, for each check of a rubric, the cases
Hypothesis draws (about 0.8 s for ``conv_layers``) and what a correct
function gives on each (the reference engine cross-checked by torch: importing
torch alone takes over a second). Both follow from the grader's fingerprint
(:func:`autograder.engine.fingerprint.grader_fingerprint`: rubric, its code,
Hypothesis, NumPy, Python, cases per check), the engine (with the source of
the reference and the versions of torch) and the course secret. A class run's
workers and every ``autograder check`` on a machine share them through one
file per such key in ``<cache>/store/`` (:func:`autograder.engine.cache.cache_dir`).

Safety:

* nothing is unpickled: the file is a JSON header (values tagged by type)
  followed by the arrays' raw bytes, numeric dtypes only;
* the file starts with the SHA-256 of the rest and names its key in full: a
  corrupt, truncated or foreign file is ignored (the values are computed
  again and the file replaced), never trusted;
* each case read back must have the content hash it was drawn with
  (:func:`autograder.engine.search.remember_drawn`), or the whole file is ignored;
* only files of this user that no one else can write are read
  (:func:`autograder.engine.cache.trusted`: the cache may lie in a shared
  temporary folder);
* files are written to a temporary name and renamed (readers never see half
  a file), readable by their owner only (graded cases are derived from the
  course secret), in the cache, which the sandboxed child is forbidden to
  read (:func:`autograder.engine.grading.grade_submission` adds it to the forbidden paths).

Examples
--------
>>> decoded, arrays = _decode_roundtrip((1, 2.5, "a", None, True, {"stride": 1}, [np.zeros(2)]))
>>> decoded[:6], type(decoded[6]).__name__, decoded[6][0].tolist(), arrays
((1, 2.5, 'a', None, True, {'stride': 1}), 'list', [0.0, 0.0], 1)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .cache import cache_dir, trusted
from .expected import ExpectedValues
from .fingerprint import grader_fingerprint
from .rubric import Assignment
from .search import case_key, drawn_cases, draws_needed, remember_drawn
from .secret import secret_fingerprint

__all__ = ["STORE_FOLDER", "store_folder", "store_path", "load", "save", "prepare", "keep"]

STORE_FOLDER = "store"
_MAGIC = b"conv-autograder store 1\n"
_FORMAT = 1
_ALIGN = 16
_PACKAGE = __name__.rsplit(".", 2)[0]  # "autograder" (this is autograder.engine.store), whatever it is installed as
SAVE_AFTER = 64  # new expected values that make a process write its store again
SAVE_EVERY = 10.0  # seconds: fewer new values are written at most this often
STALE_DAYS = 30
#: Expected values kept per file, the first computed first (the drawn cases' own: a few thousand at
#: most); the values of cases met only while shrinking one submission's failure come after them.
STORED_ENTRIES = 10_000


class _Unstorable(ValueError):
    """A value the store's format does not hold (it is then computed by each process, as without a store)."""


# --------------------------------------------------------------------------- where


def store_folder() -> Path:
    """``<cache>/store``, created readable by its owner only."""
    folder = cache_dir() / STORE_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    if not trusted(folder):
        raise PermissionError(f"{folder} belongs to another user or others can write to it: not used")
    return folder


def _key(spec: Assignment, examples: int | None, engine: str) -> dict:
    """Everything the file's content follows from; the secret by its fingerprint, never itself."""
    return {"format": _FORMAT, "fingerprint": grader_fingerprint(spec, examples=examples)["digest"],
            "engine": engine, "engine code": _engine_digest(engine), "secret": secret_fingerprint()}


def store_path(spec: Assignment, examples: int | None, engine: str) -> Path:
    """The file of ``spec``'s cases and expected values for this key (the secret active now)."""
    name = hashlib.sha256(json.dumps(_key(spec, examples, engine), sort_keys=True).encode()).hexdigest()[:32]
    return store_folder() / f"{spec.name}-{name}.bin"


@functools.cache
def _engine_digest(engine: str) -> str:
    """The engines' own code and torch's version: expected values change with them, not with the rubric."""
    hasher = hashlib.sha256(engine.encode())
    folders = [Path(__file__).resolve().parent / "oracle.py", Path(__file__).resolve().parent / "expected.py"]
    if engine == "reference":
        spec = importlib.util.find_spec("reference")
        folders += sorted(Path(location) for location in (spec.submodule_search_locations or [])) if spec else []
    for place in folders:
        files = sorted(place.rglob("*.py")) if place.is_dir() else [place]
        for file in files:
            hasher.update(file.name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    hasher.update(_torch_version().encode())
    return hasher.hexdigest()


def _torch_version() -> str:
    torch = sys.modules.get("torch")
    if torch is not None:
        return str(torch.__version__)
    try:
        from importlib.metadata import version

        return version("torch")
    except Exception:  # not installed as a distribution: its version file, else unknown
        return "unknown"


# --------------------------------------------------------------------------- values <-> JSON + bytes


class _Writer:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def array(self, array: np.ndarray) -> dict:
        if array.dtype.kind not in "biuf" or array.dtype.hasobject:
            raise _Unstorable(f"array of dtype {array.dtype}")
        data = np.ascontiguousarray(array).tobytes()
        at = self.size
        padding = -len(data) % _ALIGN
        self.chunks += [data, b"\0" * padding]
        self.size += len(data) + padding
        return {"t": "array", "dtype": array.dtype.str, "shape": list(array.shape), "at": at}

    def encode(self, value):
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return {"t": "float", "v": repr(value)}  # repr: exact, and nan/inf too
        if kind is np.ndarray:
            return self.array(value)
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"t": "scalar", "dtype": value.dtype.str, "v": self.encode(value.item())}
        if kind in (tuple, list):
            return {"t": kind.__name__, "v": [self.encode(item) for item in value]}
        if kind is dict:
            return {"t": "dict", "v": [[self.encode(key), self.encode(item)] for key, item in value.items()]}
        if kind in (ValueError, TypeError):
            return {"t": "raised", "type": kind.__name__, "args": self.encode(value.args)}
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and kind.__module__.startswith(_PACKAGE + "."):
            fields = dataclasses.fields(value)
            if not all(field.init for field in fields):
                raise _Unstorable(f"{kind.__qualname__} has fields set outside __init__")
            return {"t": "case", "type": f"{kind.__module__}:{kind.__qualname__}",
                    "v": [[field.name, self.encode(getattr(value, field.name))] for field in fields]}
        raise _Unstorable(f"a {kind.__qualname__}")


class _Reader:
    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def decode(self, item):
        if item is None or type(item) in (bool, int, str):
            return item
        tag = item["t"]
        if tag == "float":
            return float(item["v"])
        if tag == "array":
            dtype = np.dtype(item["dtype"])
            if dtype.kind not in "biuf" or dtype.hasobject:
                raise ValueError(f"dtype {dtype} in a store")
            shape = tuple(int(n) for n in item["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            array = np.frombuffer(self.blob, dtype=dtype, count=count, offset=int(item["at"])).reshape(shape)
            return array  # read-only: a view of the file's bytes
        if tag == "scalar":
            dtype = np.dtype(item["dtype"])
            if dtype.kind not in "biuf":
                raise ValueError(f"dtype {dtype} in a store")
            return dtype.type(self.decode(item["v"]))
        if tag == "tuple":
            return tuple(self.decode(value) for value in item["v"])
        if tag == "list":
            return [self.decode(value) for value in item["v"]]
        if tag == "dict":
            return {self.decode(key): self.decode(value) for key, value in item["v"]}
        if tag == "raised":
            error = {"ValueError": ValueError, "TypeError": TypeError}[item["type"]]
            return error(*self.decode(item["args"]))
        if tag == "case":
            kind = _case_type(item["type"])
            return kind(**{name: self.decode(value) for name, value in item["v"]})
        raise ValueError(f"unknown tag {tag!r} in a store")


def _case_type(name: str) -> type:
    """A case's dataclass, by ``module:qualname``, from this package only."""
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(_PACKAGE + "."):
        raise ValueError(f"case type {name!r} outside the package")
    found = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise ValueError(f"{name!r} is not a case type")
    return found


def _decode_roundtrip(value):
    """``value`` written and read back (for the examples and tests), and the number of arrays written."""
    writer = _Writer()
    encoded = json.loads(json.dumps(writer.encode(value)))
    return _Reader(b"".join(writer.chunks)).decode(encoded), len(writer.chunks) // 2


# --------------------------------------------------------------------------- files


def _write(path: Path, header: dict, chunks: list[bytes]) -> None:
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    body = [len(head).to_bytes(8, "little"), head, b"\0" * (-(8 + len(head)) % _ALIGN), *chunks]
    hasher = hashlib.sha256()
    for part in body:
        hasher.update(part)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".store-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_MAGIC + hasher.hexdigest().encode() + b"\n")
            for part in body:
                out.write(part)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _read(path: Path) -> tuple[dict, bytes] | None:
    """The header and the arrays' bytes of a valid store file; None for a missing, corrupt or foreign one."""
    if not trusted(path):
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    start = len(_MAGIC) + 65
    if not data.startswith(_MAGIC) or len(data) < start + 8:
        return None
    body = memoryview(data)[start:]
    if hashlib.sha256(body).hexdigest().encode() != data[len(_MAGIC):start - 1]:
        return None
    size = int.from_bytes(body[:8], "little")
    try:
        header = json.loads(bytes(body[8:8 + size]))
    except ValueError:
        return None
    blob_start = 8 + size + (-(8 + size) % _ALIGN)
    return header, bytes(body[blob_start:])


# --------------------------------------------------------------------------- load and save


_STATE: dict[str, dict] = {}  # per file: what this process loaded or last wrote


def _checks(spec: Assignment, examples: int | None):
    """``(function index, check index, check, cases per check)`` of every drawn check."""
    for f_index, function in enumerate(spec.functions):
        for c_index, check in enumerate(function.checks):
            if check.kind != "speed":
                yield f_index, c_index, check, examples or check.examples


def load(spec: Assignment, examples: int | None, expected: ExpectedValues) -> bool:
    """Take the stored cases and expected values of this key; False (nothing taken) without a valid file."""
    path = store_path(spec, examples, expected.engine)
    read = _read(path)
    if read is None:
        return False
    header, blob = read
    if header.get("key") != _key(spec, examples, expected.engine):
        return False
    reader = _Reader(blob)
    try:
        checks = {(f, c): (check, n) for f, c, check, n in _checks(spec, examples)}
        groups = [(group, [reader.decode(case) for case in group["cases"]]) for group in header["groups"]]
        entries = {key: (kind, reader.decode(value)) for key, kind, value in header["expected"]}
    except (KeyError, TypeError, ValueError, AttributeError, ImportError):
        return False
    if any(kind not in ("returned", "raised") for kind, _ in entries.values()):
        return False
    for group, cases in groups:
        for f, c in group["checks"]:
            check, n = checks[(f, c)]
            if n != group["examples"] or not remember_drawn(check, n, cases, int(group["draws"]), group["keys"]):
                return False
    expected.remember(entries)
    _STATE[str(path)] = {"saved": len(entries)}
    return True


def save(spec: Assignment, examples: int | None, expected: ExpectedValues) -> Path | None:
    """Write this process's cases of ``spec`` (drawing any not drawn yet) and expected values; None if they cannot be stored."""
    path = store_path(spec, examples, expected.engine)
    writer = _Writer()
    groups: dict[int, dict] = {}
    try:
        for f, c, check, n in _checks(spec, examples):
            cases = drawn_cases(check, n)
            group = groups.get(id(cases))
            if group is None:
                group = groups[id(cases)] = {"checks": [], "examples": n, "draws": draws_needed(check, n),
                                             "keys": [case_key(case) for case in cases],
                                             "cases": [writer.encode(case) for case in cases]}
            group["checks"].append([f, c])
    except _Unstorable:
        return None
    entries = []
    for key, (kind, value) in list(expected.remembered().items())[:STORED_ENTRIES]:
        mark = len(writer.chunks), writer.size
        try:
            entries.append([key, kind, writer.encode(value)])
        except _Unstorable:
            del writer.chunks[mark[0]:]
            writer.size = mark[1]
    header = {"key": _key(spec, examples, expected.engine), "groups": list(groups.values()), "expected": entries}
    _write(path, header, writer.chunks)
    _STATE[str(path)] = {"saved": len(entries)}
    _prune(path.parent)
    return path


def _prune(folder: Path) -> None:
    """Remove the files not written for :data:`STALE_DAYS` days (an old secret's, an old grader's): computed again if needed."""
    limit = time.time() - STALE_DAYS * 86400
    for old in folder.glob("*.bin"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < limit:
                old.unlink()


def prepare(spec: Assignment, examples: int | None, expected: ExpectedValues) -> None:
    """Load this key's store once per process (see :func:`load`); a missing or bad one is left to :func:`keep`."""
    path = str(store_path(spec, examples, expected.engine))
    if path not in _STATE:
        _STATE[path] = {"saved": -1} if not load(spec, examples, expected) else _STATE[path]


def keep(spec: Assignment, examples: int | None, expected: ExpectedValues) -> None:
    """Write the store if this process has values it lacks.

    At once the first time; after that once :data:`SAVE_AFTER` new values
    have come, or :data:`SAVE_EVERY` seconds after the last write (a buggy
    submission's shrinking meets a few new cases: a class run's worker
    writes them now and then, not after each submission).
    """
    path = str(store_path(spec, examples, expected.engine))
    state = _STATE.setdefault(path, {"saved": -1})
    new = min(len(expected.remembered()), STORED_ENTRIES) - max(state["saved"], 0)
    written = state.get("written")
    if state["saved"] < 0 or new >= SAVE_AFTER or new > 0 and (written is None or time.monotonic() - written >= SAVE_EVERY):
        if save(spec, examples, expected) is not None:
            _STATE[path]["written"] = time.monotonic()
