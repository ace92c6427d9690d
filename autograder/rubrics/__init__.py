"""The course content: the assignments the grader knows, by name, with what they draw.

Each assignment is a module here (``conv_layers``, ``conv_extras``, ``fast_conv``), written
with the builders of :mod:`autograder.engine.rubric`; ``strategies`` and ``cases`` draw the
cases, ``hints_students`` names students' real mistakes. Adding one means adding a module here.
"""

from __future__ import annotations

import difflib

from ..engine.rubric import Assignment
from . import conv_extras, conv_layers, fast_conv

ASSIGNMENTS: dict[str, Assignment] = {
    module.ASSIGNMENT.name: module.ASSIGNMENT for module in (conv_layers, conv_extras, fast_conv)
}


def get(name: str) -> Assignment:
    """The assignment called ``name``; a KeyError that lists the known ones otherwise."""
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ASSIGNMENTS, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"no assignment named {name!r}; known: {', '.join(sorted(ASSIGNMENTS))}.{suggestion}") from None
