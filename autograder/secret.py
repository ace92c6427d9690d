"""The course secret: graded cases that cannot be computed in advance.

Every case the grader draws is deterministic, so anyone holding the package
could draw the same cases and ship a table of answers.  An instructor's
grading therefore mixes a secret, kept outside what is released, into every
draw: the same submission and the same secret always meet the same cases,
while without the secret they cannot be predicted.  ``autograder check``
(students) uses no secret: its cases are public.

The active secret is process-wide (a grading worker serves one course run);
:func:`use_secret` sets it, :func:`derived_seed` turns it and a label into a
seed.

Examples
--------
>>> use_secret(b"")
>>> derived_seed("speed", 1) == derived_seed("speed", 1)
True
>>> secret_fingerprint()
''
"""

from __future__ import annotations

import hashlib

__all__ = ["use_secret", "current_secret", "derived_seed", "secret_fingerprint"]

_active = b""


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
    if not _active:
        return ""
    return hashlib.sha256(b"conv-autograder secret\0" + _active).hexdigest()[:16]
