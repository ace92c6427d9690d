"""Which assignment a student's file is for, so ``autograder check FILE`` needs no flag.

Three sources, in order of trust:

1. the notebook's metadata: ``autograder release`` writes
   ``metadata["autograder"]["assignment"]`` into every released notebook,
   and a notebook keeps it when a student saves, downloads or uploads it;
2. the file name: ``fast_conv.ipynb``, ``fast_conv (1).ipynb`` or
   ``conv_extras-Copy1.py`` (a browser's or Jupyter's copy) name their assignment;
3. the functions defined (read from the source, never run): the assignment
   whose functions the file defines most of, when one has more than every other.

Examples
--------
>>> _from_name("fast_conv (2).ipynb")
'fast_conv'
>>> _from_name("conv_layers-Copy1.ipynb")
'conv_layers'
>>> _from_name("homework.py") is None
True
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .. import rubrics
from .submission import SubmissionError, read_submission

__all__ = ["Identified", "IdentifyError", "identify_assignment", "metadata_of"]

#: The notebook metadata key ``autograder release`` writes.
METADATA_KEY = "autograder"


class IdentifyError(ValueError):
    """No source tells which assignment the file is for; the message says what to pass."""


@dataclass(frozen=True)
class Identified:
    """The assignment chosen, and how: ``"metadata"``, ``"file name"``, ``"functions"`` or ``"--assignment"``."""

    name: str
    how: str
    detail: str = ""

    def describe(self) -> str:
        """One line for the student, e.g. ``conv_extras (from the notebook's metadata)``."""
        because = {
            "metadata": "from the notebook's metadata",
            "file name": "from the file name",
            "functions": f"from the functions it defines: {self.detail}",
            "--assignment": "as --assignment says",
        }[self.how]
        return f"{self.name} ({because})"


def metadata_of(path: str | Path) -> dict:
    """``metadata["autograder"]`` of a notebook (what ``autograder release`` wrote); ``{}`` when absent or unreadable."""
    path = Path(path)
    if path.suffix.lower() != ".ipynb":
        return {}
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        found = notebook.get("metadata", {}).get(METADATA_KEY, {})
    except (OSError, ValueError, AttributeError):
        return {}
    return found if isinstance(found, dict) else {}


def identify_assignment(path: str | Path, assignment: str | None = None) -> Identified:
    """The assignment ``path`` is for; ``assignment`` (``--assignment``) overrides everything.

    Raises
    ------
    IdentifyError
        When ``assignment`` is no known rubric, or nothing in the file tells.
    """
    known = sorted(rubrics.ASSIGNMENTS)
    if assignment is not None:
        try:
            rubrics.get(assignment)
        except KeyError as unknown:
            raise IdentifyError(str(unknown.args[0])) from None
        return Identified(assignment, "--assignment")
    path = Path(path)
    named = metadata_of(path).get("assignment")
    if named in rubrics.ASSIGNMENTS:
        return Identified(named, "metadata")
    named = _from_name(path.name)
    if named is not None:
        return Identified(named, "file name")
    defined = _defined_functions(path)
    counts = {name: len(defined & {f.name for f in rubrics.get(name).functions}) for name in known}
    best = max(counts.values(), default=0)
    winners = [name for name, count in counts.items() if count == best]
    if best > 0 and len(winners) == 1:
        spec = rubrics.get(winners[0])
        return Identified(winners[0], "functions", f"{best} of its {len(spec.functions)}")
    reason = ("it defines none of their functions" if best == 0
              else f"it defines as many functions of {' and '.join(winners)}")
    raise IdentifyError(f"{path.name}: cannot tell which assignment this is for ({reason}); "
                        f"pass --assignment with one of {', '.join(known)}")


def _from_name(name: str) -> str | None:
    stem = name.rsplit(".", 1)[0].lower()
    for assignment in sorted(rubrics.ASSIGNMENTS, key=len, reverse=True):  # the longest name that fits
        if stem == assignment or re.match(re.escape(assignment) + r"(?![a-z0-9])[\W_]*(copy\d*|\(\d+\)|\d+)?$", stem):
            return assignment
    return None


def _defined_functions(path: Path) -> set[str]:
    """Names of the top-level functions of a ``.py`` file or of a notebook's code cells (read, never run)."""
    try:
        units = read_submission(path).cells  # magics and shell lines already made `pass`, as grading reads them
    except SubmissionError:
        return set()
    names: set[str] = set()
    for unit in units:
        try:
            tree = ast.parse(unit.source)
        except (SyntaxError, ValueError):
            continue
        names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names
