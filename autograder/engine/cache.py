"""Where the grader keeps its own files: in a cache of its own, never in the folder it grades.

Hypothesis keeps a storage directory (example database, the constants it
collects from local modules, a Unicode table) at ``.hypothesis/`` *of the
current folder* unless told otherwise, and ``settings(database=None)`` does
not stop the others from being written. The grader runs with a student's
notebook folder, nbgrader's ``autograded/`` folder or a course root as its
current folder, so each of its Hypothesis runs is wrapped in
:func:`hypothesis_storage`, which points that directory at
``<cache>/hypothesis`` for the run and puts back the folder set before, if
one was (a user's own Hypothesis tests in the same process keep their
chosen storage).

The same folder keeps the drawn cases and expected values
(``store/``, :mod:`autograder.engine.store`) and what was read of the package's
sources for the rubric's digest (``sources.json``,
:mod:`autograder.engine.fingerprint`); the sandboxed child may read none of it,
and what is read back is checked (:func:`trusted`, and a digest of the
content).

The cache is, in order: ``$CONV_AUTOGRADER_CACHE``;
``$XDG_CACHE_HOME/conv-autograder``; ``~/.cache/conv-autograder``; and, when
none of those can be created (a read-only home), a folder of this user in the
system's temporary folder.

Examples
--------
>>> from hypothesis.configuration import storage_directory
>>> with hypothesis_storage() as folder:
...     storage_directory("constants").path == folder / "constants"
True
>>> folder.is_relative_to(cache_dir())
True
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cache_dir", "hypothesis_storage", "trusted", "CACHE_ENV"]

#: The environment variable that names the grader's cache folder.
CACHE_ENV = "CONV_AUTOGRADER_CACHE"


@functools.cache
def cache_dir() -> Path:
    """The grader's cache folder (created): see the module's docstring for where it is."""
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates = [os.environ.get(CACHE_ENV), os.path.join(xdg, "conv-autograder"),
                  os.path.join(tempfile.gettempdir(), f"conv-autograder-{os.getuid() if hasattr(os, 'getuid') else 'user'}")]
    for candidate in filter(None, candidates):
        folder = Path(candidate).absolute()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError(f"no writable cache folder among {', '.join(filter(None, candidates))}; set {CACHE_ENV} to one")


def trusted(path: Path) -> bool:
    """Whether ``path`` (a file or folder of the cache) is this user's and writable by no one else.

    What the grader reads back from its cache (:mod:`autograder.engine.store`,
    the sources' digests of :mod:`autograder.engine.fingerprint`) is checked
    against a digest of its content, which catches corruption, not a file
    another user of the machine wrote on purpose: in a shared temporary
    folder such a file is ignored.
    """
    try:
        status = path.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return mine and not status.st_mode & 0o022


@contextlib.contextmanager
def hypothesis_storage() -> Iterator[Path]:
    """Hypothesis's storage directory at ``<cache>/hypothesis`` inside the ``with`` block; yields that folder.

    ``hypothesis.configuration.set_hypothesis_home_dir`` is the hook numpy's
    own test configuration uses; a Hypothesis without it keeps its default.
    """
    try:
        from hypothesis import configuration
        set_home = configuration.set_hypothesis_home_dir
    except (ImportError, AttributeError):
        yield cache_dir() / "hypothesis"
        return
    before = _current_home(configuration)
    folder = cache_dir() / "hypothesis"
    set_home(folder)
    try:
        yield folder
    finally:
        # A folder someone chose comes back; an unchosen one stays ours, so that two gradings
        # overlapping in one process (threads) never hand the current folder back to the other.
        if before is not None:
            set_home(before)


def _current_home(configuration) -> Path | None:
    """The home directory Hypothesis was given (``None``: not chosen yet, it decides at first use)."""
    # A module-level name with two leading underscores is not mangled: it is read as it is spelled.
    return vars(configuration).get("__hypothesis_home_directory")
