"""The grader's fingerprint: everything that decides which cases a rubric draws and how they are judged.

With a fixed seed (derandomized, or derived from the course secret) the
cases a check draws, and so a submission's score, follow from:

* the rubric's content: its name, functions, signatures, and every check's
  data (kind, points in their order, examples, tolerances, error, outputs,
  forward, description, speed limits and the speed case's arrays), and the
  code that decides cases and verdicts: the source of every module of this
  package that the rubric's strategies, argument callables and hints are
  defined in, of the module that defines the rubric, and of the grading
  pipeline (:mod:`autograder.engine.grading` and what it imports: loading,
  search, judging, expected values, the secret's seeds), each with every
  module of the package it imports, found by reading the imports (nothing
  is imported for it). Comments, docstrings and blank lines do not count,
  so reformatting them regrades nothing; the README and the package
  ``__init__`` s (registries, nothing graded) are not read. Not read either:
  ``autograder.sandbox`` (how code is run and confined; it differs by
  design between the course's machines and students'), this module (what
  it covers is versioned by ``_FORMAT``), and the ``reference`` engine, a
  package of its own that students do not get (the grader cross-checks it
  against the torch oracle, :mod:`autograder.engine.oracle`, which is read, on
  every case: a change to one shows as an internal error, not as a silently
  different score);
* the package version (``autograder.__version__``), Hypothesis's, NumPy's
  and Python's. Python counts as major.minor: patch releases change no
  language rule and no algorithm of the ``random`` module, and a student on
  3.11.9 grading like the course's 3.11.7 should not be told otherwise;
* the cases per check when a run overrides the rubric's (``examples``).

:func:`rubric_digest` hashes the first (``Assignment.version`` is its first
12 hex digits); :func:`grader_fingerprint` puts it beside the versions with
a short ``digest`` of all of it. A class run records that digest in every
gradebook row and regrades the rows whose digest is not the run's;
``autograder release`` writes the course's fingerprint into the released
notebooks, and :func:`fingerprint_differences` tells a student what differs
between it and theirs, and what to install.

Everything here is deterministic across processes and machines: no
``id()``, no addresses, no ``hash()``; functions are named by module and
qualified name, arrays by their values (floats to float32 precision, which
every platform's math library agrees on), strategies by the
function that builds them and its arguments. Only the standard library,
NumPy, Hypothesis and :mod:`autograder.engine.cache` (the folder where what was
read of each source file is kept, by its content) are imported.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import json
import platform
import re
import sys
import tokenize
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis
import numpy as np
from hypothesis.strategies import SearchStrategy

if TYPE_CHECKING:
    from .rubric import Assignment

__all__ = [
    "SHORT",
    "FINGERPRINT_KEYS",
    "rubric_digest",
    "rubric_modules",
    "installed_versions",
    "grader_fingerprint",
    "fingerprint_differences",
    "significant_source",
]

SHORT = 12  # hex digits of Assignment.version and of a fingerprint's digest
#: The keys of :func:`grader_fingerprint`'s dict, in the order differences are told.
FINGERPRINT_KEYS = ("assignment", "package", "rubric", "hypothesis", "numpy", "python", "examples", "digest")
_FORMAT = 1  # bump when what the digests cover changes, so old and new digests never match by chance

_PACKAGE = __name__.rsplit(".", 2)[0]  # "autograder", or whatever the package is installed as
_ROOT = Path(__file__).resolve().parent.parent
_PIPELINE = "engine.grading"  # the pipeline behind autograder.grade and autograder check: its imports are the engine
_NOT_READ = ("sandbox", "engine.fingerprint")  # runs the student's code / computes the digest: decides no case or verdict
_ADDRESS = re.compile(r"\s+at 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{6,}")


# --------------------------------------------------------------------------- the rubric's content


def rubric_digest(spec: Assignment) -> str:
    """SHA-256 (64 hex digits) of a rubric's content and of the code that decides its cases and verdicts.

    Parameters
    ----------
    spec : Assignment
        The rubric.

    Returns
    -------
    str
        The same for the same rubric and sources in any process on any
        machine; another for a changed point value, ``examples`` count,
        strategy bound, tolerance, hint or line of grading code.

    Notes
    -----
    What it covers is listed in this module's docstring; the modules read
    are :func:`rubric_modules`. The assignment's ``title`` is left out (it
    is only shown).
    """
    described, modules = _rubric_content(spec)
    digest = _sha256({"format": _FORMAT, "rubric": described, "code": {name: _module_digest(name) for name in modules}})
    _SOURCES.flush()
    return digest


def rubric_modules(spec: Assignment) -> list[str]:
    """The modules (relative to the package, e.g. ``"rubrics.conv_layers"``) whose source :func:`rubric_digest` reads."""
    return _rubric_content(spec)[1]


def _rubric_content(spec: Assignment) -> tuple[dict, list[str]]:
    """The rubric's description (``title`` left out: it is only shown) and the modules whose source counts."""
    modules: set[str] = set()
    described = {name: _describe(getattr(spec, name), modules) for name in _fields(spec) if name != "title"}
    return described, _closure(modules | _defining_modules(spec) | {_PIPELINE})


def _fields(value) -> list[str]:
    return [f.name for f in dataclasses.fields(value)]


def _sha256(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _describe(value: Any, modules: set[str], depth: int = 0) -> Any:
    """A JSON-able description of ``value`` that is the same in every process; callables' modules go to ``modules``."""
    if depth > 40:  # a structure this deep is a cycle: name it, do not follow it
        return {"deep": type(value).__qualname__}
    inner = functools.partial(_describe, modules=modules, depth=depth + 1)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, enum.Enum):
        return {"enum": f"{type(value).__qualname__}.{value.name}"}
    if isinstance(value, np.generic):
        return inner(value.item())
    if isinstance(value, np.ndarray):
        return _describe_array(value)
    if isinstance(value, bytes):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    if isinstance(value, Mapping):  # key order kept: points are reported in it
        return {"mapping": [[inner(key), inner(item)] for key, item in value.items()]}
    if isinstance(value, (tuple, list)):
        return [inner(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((inner(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))}
    if isinstance(value, SearchStrategy):
        return _describe_strategy(value, modules, depth)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__qualname__, **{name: inner(getattr(value, name)) for name in _fields(value)}}
    if isinstance(value, functools.partial):
        return {"partial": inner(value.func), "args": inner(value.args), "keywords": inner(dict(sorted(value.keywords.items())))}
    if callable(value):
        return {"callable": _callable_name(value, modules)}
    return {"repr": type(value).__qualname__ + ": " + _ADDRESS.sub("", repr(value))}


def _describe_array(array: np.ndarray) -> dict:
    """An array by its dtype, shape and values; floats to float32 precision, little-endian.

    A seeded normal array's last float64 bits may differ between platforms'
    math libraries (its tails go through ``log``); the course's machines and
    a student's Mac must still agree on the rubric.
    """
    values = array
    if array.dtype.kind in "fc":
        values = array.astype(np.complex64 if array.dtype.kind == "c" else np.float32)
    values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")) if values.dtype.byteorder == ">" else np.ascontiguousarray(values)
    return {"array": array.dtype.name, "shape": list(array.shape), "sha256": hashlib.sha256(values.tobytes()).hexdigest()}


def _describe_strategy(strategy: SearchStrategy, modules: set[str], depth: int) -> Any:
    """A strategy by the function that builds it and its arguments (a Hypothesis ``LazyStrategy``), else its repr.

    Hypothesis's own repr of a strategy may change between its releases;
    the building call does not, so the rubric's digest does not either.
    """
    function = getattr(strategy, "function", None)
    args = getattr(strategy, "_LazyStrategy__args", None)
    kwargs = getattr(strategy, "_LazyStrategy__kwargs", None)
    if callable(function) and isinstance(args, tuple) and isinstance(kwargs, Mapping):
        described = {
            "strategy": _callable_name(function, modules),
            "args": _describe(args, modules, depth + 1),
            "kwargs": _describe(dict(sorted(kwargs.items())), modules, depth + 1),
        }
        transforms = getattr(strategy, "_transformations", ())
        if transforms:  # .map(f) / .filter(f): the method and the function, not where Hypothesis saw it
            described["transforms"] = [[step[0], _describe(step[1], modules, depth + 1)] for step in transforms]
        return described
    for item in vars(strategy).values() if hasattr(strategy, "__dict__") else ():
        if callable(item) and not isinstance(item, SearchStrategy):
            _callable_name(item, modules)
    return {"strategy repr": _ADDRESS.sub("", repr(strategy))}


def _callable_name(function: Any, modules: set[str]) -> str:
    """``module:qualname`` of a function, after unwrapping decorators (Hypothesis's ``composite`` included).

    The first function of this package met by following ``__wrapped__``,
    ``__func__`` and closures names it, and its module joins ``modules``:
    ``strategies.conv_cases``, not the wrapper Hypothesis generated for it.
    """
    seen: set[int] = set()
    queue = [function]
    while queue:
        item = queue.pop(0)
        if id(item) in seen or len(seen) > 50:
            continue
        seen.add(id(item))
        module = _relative(getattr(item, "__module__", None) or "")
        if module is not None and isinstance(item, (types.FunctionType, type)):
            modules.add(module)
            return f"{module}:{item.__qualname__}"
        for attribute in ("__wrapped__", "__func__"):
            if getattr(item, attribute, None) is not None:
                queue.append(getattr(item, attribute))
        for cell in getattr(item, "__closure__", None) or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(contents) and not isinstance(contents, type):
                queue.append(contents)
    outside = getattr(function, "__module__", None) or type(function).__module__
    return f"{outside}:{getattr(function, '__qualname__', type(function).__qualname__)}"


def _relative(module: str) -> str | None:
    """``"rubrics.conv_layers"`` for ``"autograder.rubrics.conv_layers"``; None outside this package."""
    prefix = _PACKAGE + "."
    return module[len(prefix):] if module.startswith(prefix) else None


def _defining_modules(spec: Assignment) -> set[str]:
    """The rubric module that holds ``spec`` itself (``rubrics.conv_layers``), if it is one of the package's rubrics.

    Only the ``rubrics`` subpackage is searched: which other modules hold a
    reference to ``spec`` depends on what a process happened to import.
    """
    found = set()
    for name, module in list(sys.modules.items()):
        relative = _relative(name)
        if relative and relative.startswith("rubrics.") and module is not None and any(value is spec for value in list(vars(module).values())):
            found.add(relative)
    return found


# --------------------------------------------------------------------------- the code's content


def _source_path(module: str) -> Path | None:
    """The file of a module of this package (``"engine.hints"`` -> ``.../autograder/engine/hints.py``); None for a package or none."""
    path = _ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _closure(modules: set[str]) -> list[str]:
    """``modules`` and every module of this package they import, transitively, sorted.

    Imports are read from the source (any import anywhere in the module),
    not executed. Packages (their ``__init__``) and :data:`_NOT_READ` are
    not followed: a registry such as ``rubrics/__init__.py`` imports every
    rubric, and one rubric's digest must not change with another's.
    """
    todo = sorted(modules)
    found: set[str] = set()
    while todo:
        module = todo.pop()
        if module in found or any(module == skip or module.startswith(skip + ".") for skip in _NOT_READ) or _source_path(module) is None:
            continue
        found.add(module)
        todo.extend(_imports(module))
    return sorted(found)


def _imports(module: str) -> tuple[str, ...]:
    """The modules of this package that ``module`` imports (maybe not files: ``_closure`` drops those)."""
    try:
        source = _source_path(module).read_bytes()
    except OSError:
        return ()
    return _SOURCES.imports(module, source)


def _imports_of(module: str, source: bytes) -> tuple[str, ...]:
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    package = module.split(".")[:-1]  # a plain module: relative imports start at its package
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [_relative(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else None
                if base is None:
                    continue
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = _relative(node.module or "")
                if base_name is None:
                    continue
            names.append(base_name or None)
            names += [f"{base_name}.{alias.name}" if base_name else alias.name for alias in node.names]
    return tuple(sorted({name for name in names if name}))


def _module_digest(module: str) -> str:
    try:
        return _SOURCES.digest(_source_path(module).read_bytes())
    except OSError as error:  # a file that went away: the digest says so, and differs from the course's
        return f"unreadable: {type(error).__name__}"


class _SourceFacts:
    """What :func:`significant_source` and the import reader make of a file, by the SHA-256 of its bytes.

    Tokenizing and parsing the package's sources takes a few tenths of a
    second per process; the answers are kept in ``<cache>/sources.json``,
    keyed by each file's exact content, so any edit is read anew. The file
    holds the SHA-256 of its entries: a corrupt one is ignored, and so is
    one another user could have written (:func:`autograder.engine.cache.trusted`).
    """

    NAME = "sources.json"

    def __init__(self) -> None:
        self.entries: dict[str, object] | None = None
        self.new = 0

    def _known(self) -> dict[str, object]:
        if self.entries is None:
            self.entries = {}
            try:
                from .cache import trusted

                path = self._folder() / self.NAME
                saved = json.loads(path.read_text()) if trusted(path) else {}
                if saved.get("format") == _FORMAT and saved.get("sha256") == _sha256(saved.get("entries")):
                    self.entries = dict(saved["entries"])
            except (OSError, ValueError, TypeError, AttributeError):
                pass
        return self.entries

    def digest(self, source: bytes) -> str:
        key = "significant:" + hashlib.sha256(source).hexdigest()
        known = self._known()
        if not isinstance(known.get(key), str):
            known[key] = hashlib.sha256(significant_source(source).encode("utf-8")).hexdigest()
            self.new += 1
        return known[key]

    def imports(self, module: str, source: bytes) -> tuple[str, ...]:
        key = f"imports:{module}:" + hashlib.sha256(source).hexdigest()
        known = self._known()
        found = known.get(key)
        if not (isinstance(found, list) and all(isinstance(name, str) for name in found)):
            found = known[key] = list(_imports_of(module, source))
            self.new += 1
        return tuple(found)

    def flush(self) -> None:
        """Write what was learnt (temporary file, then rename); skipped where the cache cannot be written."""
        if not self.new:
            return
        self.new = 0
        import os
        import tempfile

        try:
            folder = self._folder()
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".sources-", suffix=".tmp")
            with os.fdopen(handle, "w") as out:
                json.dump({"format": _FORMAT, "sha256": _sha256(self.entries), "entries": self.entries}, out)
            os.replace(temporary, folder / self.NAME)
        except OSError:
            pass

    @staticmethod
    def _folder() -> Path:
        from .cache import cache_dir

        return cache_dir()


_SOURCES = _SourceFacts()


def significant_source(source: bytes | str) -> str:
    r"""Python source without comments, string statements (docstrings), blank lines and trailing spaces.

    Line endings become ``\n``. Source that cannot be tokenized is kept whole.

    Examples
    --------
    >>> significant_source("def f(x):\n    'Doc.'\n\n    return x + 1  # why\n")
    'def f(x):\n    return x + 1'
    """
    if isinstance(source, bytes):
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            source = source.decode(encoding)
        except (SyntaxError, UnicodeDecodeError, LookupError):
            source = source.decode("utf-8", errors="replace")
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    spans = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []
    spans += [(offset(token.start), offset(token.end)) for token in tokens if token.type == tokenize.COMMENT]
    significant = [token for token in tokens if token.type not in (tokenize.NL, tokenize.COMMENT)]
    for index, token in enumerate(significant):
        # A statement that is only a string (a docstring): starts a logical line, ends it.
        if token.type != tokenize.STRING:
            continue
        before = significant[index - 1].type if index else tokenize.NEWLINE
        after = significant[index + 1].type if index + 1 < len(significant) else tokenize.ENDMARKER
        if before in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING) and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
            spans.append((offset(token.start), offset(token.end)))
    kept, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            kept.append(source[position:start])
            position = end
    kept.append(source[position:])
    return "\n".join(line.rstrip() for line in "".join(kept).split("\n") if line.strip())


# --------------------------------------------------------------------------- the fingerprint


def installed_versions() -> dict[str, str]:
    """``{"package", "hypothesis", "numpy", "python"}``: the versions that decide the cases, Python as major.minor."""
    python = platform.python_version_tuple()
    return {
        "package": _package_version(),
        "hypothesis": hypothesis.__version__,
        "numpy": np.__version__,
        "python": f"{python[0]}.{python[1]}",
    }


def _package_version() -> str:
    """``autograder.__version__``, read when asked (the distribution's name may differ from the package's)."""
    return sys.modules[_PACKAGE].__version__


def grader_fingerprint(spec: Assignment, *, examples: int | None = None) -> dict:
    """What decides the cases of ``spec`` and their verdicts here, with a short digest of it all.

    Parameters
    ----------
    spec : Assignment
        The rubric.
    examples : int, optional
        Cases per check when a run overrides the rubric's (``--examples``); None: the rubric's own.

    Returns
    -------
    dict
        ``{"assignment": name, "package": autograder.__version__, "rubric":
        spec.version (12 hex digits), "hypothesis": "6.151.0", "numpy":
        "2.4.6", "python": "3.11", "examples": None or an int, "digest": 12
        hex digits}``, JSON-able. Two machines with equal digests draw the
        same cases for the same secret and judge them alike.
    """
    fingerprint = {"assignment": spec.name, **installed_versions(), "rubric": spec.version, "examples": examples}
    fingerprint = {key: fingerprint[key] for key in FINGERPRINT_KEYS if key != "digest"}
    fingerprint["digest"] = _fingerprint_digest(fingerprint)
    return fingerprint


def _fingerprint_digest(fingerprint: Mapping) -> str:
    return _sha256({"format": _FORMAT, **{key: value for key, value in fingerprint.items() if key != "digest"}})[:SHORT]


def fingerprint_differences(course: Mapping, here: Mapping) -> list[str]:
    """What differs between the course's fingerprint and this machine's, one line each for a student.

    Parameters
    ----------
    course : mapping
        The course's :func:`grader_fingerprint` (from the released notebook's metadata).
    here : mapping
        This machine's.

    Returns
    -------
    list of str
        Empty when the digests agree. Each line says what is here, what the
        course has, what that means and what to do, e.g. ``"Hypothesis
        6.170.29 here, 6.151.0 in the course: the cases drawn here may differ
        from the grader's; pip install hypothesis==6.151.0"``.
    """
    if course.get("digest") and course.get("digest") == here.get("digest"):
        return []
    lines = []
    for key in FINGERPRINT_KEYS[:-1]:
        theirs, ours = course.get(key), here.get(key)
        if theirs == ours:
            continue
        if key not in course:
            lines.append(f"{_LABELS[key]} {_shown(key, ours)} here, not recorded in the course's fingerprint "
                         "(released by an older autograder): ask your instructor which to use")
            continue
        lines.append(_DIFFERENCE[key](theirs, ours, course))
    if not lines:
        lines.append(f"grader fingerprint {here.get('digest')} here, {course.get('digest')} in the course, though every "
                     "version listed agrees: the course's fingerprint holds something this autograder does not know; "
                     f"install the course's version of the autograder package ({course.get('package')})")
    return lines


_LABELS = {
    "assignment": "assignment",
    "package": "autograder package",
    "rubric": "rubric",
    "hypothesis": "Hypothesis",
    "numpy": "NumPy",
    "python": "Python",
    "examples": "cases per check:",
}


def _shown(key: str, value) -> str:
    if key == "examples":
        return "the rubric's own" if value is None else str(value)
    return str(value)


def _package_install(version) -> str:
    """How to install the course's version of this package, under the name it is installed as here."""
    try:
        from importlib.metadata import packages_distributions

        names = sorted(packages_distributions().get(_PACKAGE, []))
    except Exception:  # metadata unreadable: say it without a name
        names = []
    if names:
        return f"pip install '{names[0]}=={version}'"
    return f"install version {version} of the autograder package"


def _drawn(label: str, pin: str):
    def line(theirs, ours, course) -> str:
        return (f"{label} {ours} here, {theirs} in the course: the cases drawn here may differ from the grader's; "
                + pin.format(theirs))
    return line


_DIFFERENCE = {
    "assignment": lambda theirs, ours, course: (
        f"fingerprint of assignment {ours} here, of {theirs} in the course: compare the fingerprint of the same "
        "assignment (the notebook's own)"),
    "package": lambda theirs, ours, course: (
        f"autograder package {ours} here, {theirs} in the course: the checks and grading code may differ from the "
        f"grader's; {_package_install(theirs)}"),
    "rubric": lambda theirs, ours, course: (
        f"rubric of {course.get('assignment')} {ours} here, {theirs} in the course: its checks, points or grading code "
        "differ from the grader's, so scores here may differ; "
        + (f"reinstall the course's autograder package ({_package_install(course.get('package'))}, "
           "adding --force-reinstall) to undo changes to its files; if it still differs, ask your instructor for the "
           "course's package" if course.get("package") == _package_version()
           else _package_install(course.get("package")))),
    "hypothesis": _drawn("Hypothesis", "pip install hypothesis=={}"),
    "numpy": _drawn("NumPy", "pip install numpy=={}"),
    "python": _drawn("Python", "use Python {0} (a new environment: python{0} -m venv, then install the course's packages)"),
    "examples": lambda theirs, ours, course: (
        f"cases per check: {_shown('examples', ours)} here, {_shown('examples', theirs)} in the course: other cases "
        "are drawn here than by the grader; "
        + ("run without examples= to draw the rubric's own" if theirs is None else f"run with examples={theirs}")),
}
