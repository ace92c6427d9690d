"""What the sandbox's child may never read: the course's own files.

The sandbox reads nothing but what Python needs (see
`autograder.sandbox.child.read_access`); this is the engine's policy on top
of that, passed to every `Sandbox` it starts: the folder holding the
grader's package (the repository with ``reference/``, ``solutions/``,
``examples/``, ``tests/`` and ``.git`` for an editable install, the
``site-packages`` folder otherwise), made a hole wherever it lies inside one
of those folders and named "the grader's own files" in a refusal, the
course secret's file where this process knows it, and the grader's cache,
where the drawn cases and expected values are stored
(:mod:`autograder.engine.store`).
"""

from __future__ import annotations

from pathlib import Path

from .cache import cache_dir
from .secret import kept_from_students


def forbidden_paths() -> tuple[Path, ...]:
    """The paths no sandbox child may read: the course's own folder, the files `secret.keep_from_students` named, the cache."""
    import autograder  # the package, not its reference: that must stay unimported

    return (Path(autograder.__file__).resolve().parents[1], *(Path(path) for path in kept_from_students()), *_cache())


def _cache() -> tuple[Path, ...]:
    """The grader's cache folder, or nothing where there is none (nothing is stored then, nothing to forbid)."""
    try:
        return (cache_dir(),)
    except OSError:
        return ()
