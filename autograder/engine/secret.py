"""The course secret: graded cases that cannot be computed in advance.

Every case the grader draws is deterministic, so anyone holding the package
could draw the same cases and ship a table of answers.  An instructor's
grading therefore mixes a secret, kept outside what is released, into every
draw: the same submission and the same secret always meet the same cases,
while without the secret they cannot be predicted.  ``autograder check``
(students) uses no secret: its cases are public.

The active secret is process-wide (a grading worker serves one course run);
:func:`use_secret` sets it, :func:`derived_seed` turns it and a label into a
seed, :func:`secret_in_use` sets it for a ``with`` block.  On disk a secret is
a small file the instructor keeps (:func:`read_or_create_secret`): created at
the first ``autograder grade`` of a class, read by every later one, so a
rerun with the same secret reproduces the same cases, scores and feedback.

Examples
--------
>>> use_secret(b"")
>>> derived_seed("speed", 1) == derived_seed("speed", 1)
True
>>> secret_fingerprint()
''
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "use_secret",
    "current_secret",
    "derived_seed",
    "secret_fingerprint",
    "fingerprint_of",
    "secret_in_use",
    "read_or_create_secret",
    "keep_from_students",
    "kept_from_students",
    "SecretError",
    "SECRET_BYTES",
    "CLASS_SECRET_FILE",
    "COURSE_SECRET_FILE",
]

#: Random bytes in a new secret (256 bits: not guessable, not searchable).
SECRET_BYTES = 32
#: Where ``autograder grade`` keeps the secret by default: in its output folder, beside the gradebook.
CLASS_SECRET_FILE = ".secret"
#: Where ``autograder grade --nbgrader`` keeps it: in the course root, beside nbgrader's gradebook.
COURSE_SECRET_FILE = ".autograder-secret"

_active = b""
_kept: tuple[str, ...] = ()


def use_secret(secret: bytes) -> None:
    """Make *secret* the one every later draw mixes in (``b""``: public cases)."""
    global _active
    if type(secret) is not bytes:
        raise TypeError(f"the secret must be bytes, got {type(secret).__name__}")
    _active = secret


def current_secret() -> bytes:
    """The active secret (``b""`` when the cases are public)."""
    return _active


def derived_seed(*parts: object) -> int:
    """A 64-bit seed from the active secret and *parts* (their ``repr``), the same in every process."""
    digest = hashlib.sha256(_active + b"\0" + repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def secret_fingerprint() -> str:
    """A short digest naming the active secret without revealing it (``""`` when public)."""
    return fingerprint_of(_active)


def fingerprint_of(secret: bytes) -> str:
    """:func:`secret_fingerprint` of any *secret*, active or not."""
    if not secret:
        return ""
    return hashlib.sha256(b"conv-autograder secret\0" + secret).hexdigest()[:16]


@contextlib.contextmanager
def secret_in_use(secret: bytes) -> Iterator[None]:
    """Draw from *secret* inside the ``with`` block; the secret active before comes back after it."""
    before = current_secret()
    use_secret(secret)
    try:
        yield
    finally:
        use_secret(before)


def keep_from_students(*paths: str | os.PathLike[str]) -> None:
    """Files no sandboxed child of this process may read (the secret's own file); replaces the previous ones."""
    global _kept
    _kept = tuple(os.path.abspath(path) for path in paths)


def kept_from_students() -> tuple[str, ...]:
    """The files :func:`keep_from_students` named, as absolute paths."""
    return _kept


class SecretError(OSError):
    """A secret file that cannot be read or created; the message says which and why."""


def read_or_create_secret(path: str | os.PathLike[str]) -> bytes:
    """The secret kept in *path*, created there (mode 0600, random) if the file does not exist yet.

    The file holds the secret as hex text on one line, so it can be copied,
    backed up or typed back with ``--secret`` as it is.  Creation is atomic
    (written aside, then linked into place): two runs starting at once end up with the same secret.

    Raises
    ------
    SecretError
        The file is empty or unreadable, or its folder cannot be written.
    """
    path = Path(path)
    if not path.exists():
        _create(path)
    try:
        text = path.read_bytes().strip()
    except OSError as error:
        raise SecretError(f"cannot read the course secret {path}: {error.strerror}") from None
    if not text:
        raise SecretError(f"the course secret {path} is empty; restore it from your backup, or delete it to start a new one")
    return text


def _create(path: Path) -> None:
    # Written in full under a temporary name, then linked into place: a run starting at the same
    # moment reads either no file or the whole secret, and only one secret ever wins.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another run created it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        raise SecretError(f"cannot create the course secret {path}: {error.strerror}") from None
