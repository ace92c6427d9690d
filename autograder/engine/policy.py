"""What the sandbox's child may never read: the course's own files.

The sandbox reads nothing but what Python needs (see
`autograder.sandbox.child.read_access`); this is the engine's policy on top
of that, passed to every `Sandbox` it starts: the folder holding the
grader's package (the repository with ``reference/``, ``solutions/``,
``examples/``, ``tests/`` and ``.git`` for an editable install, the
``site-packages`` folder otherwise), made a hole wherever it lies inside one
of those folders and named "the grader's own files" in a refusal, and the
course secret's file where this process knows it.
"""

from __future__ import annotations

from pathlib import Path

from .secret import kept_from_students


def forbidden_paths() -> tuple[Path, ...]:
    """The paths no sandbox child may read: the course's own folder, and the files `secret.keep_from_students` named."""
    import autograder  # the package, not its reference: that must stay unimported

    return (Path(autograder.__file__).resolve().parents[1], *(Path(path) for path in kept_from_students()))
