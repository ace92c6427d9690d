"""Pretend, on Linux, to be a platform without fork, ``posix``, ``resource`` or ``fcntl``: for tests.

``AUTOGRADER_SANDBOX_SIMULATE=windows`` (or ``macos``) in the grader's
environment makes the sandbox start its children the portable way (see
`portable`), as it does on those platforms, and passes the name on to each
child, which calls `hide_platform` before it loads anything else.  To make
the grader's own process look like Windows too, run it with a
``sitecustomize.py`` on ``PYTHONPATH`` that calls `hide_platform` (the
tests do: ``tests/sandbox/test_sandbox_portable.py``).

What it hides, for ``windows``: the modules ``posix``, ``resource`` and
``fcntl`` (importing them raises `ImportError`) and the functions of `os`
that Windows lacks (``fork``, ``pidfd_open``, ``killpg``, ...).
For ``macos`` it hides nothing: macOS has those modules; what it lacks
(Landlock, seccomp, namespaces, a parent-death signal) the sandbox never
asks for in a portable child.  It is a simulation of what Python offers,
not of the kernel: ``subprocess`` itself still uses the POSIX machinery it
imported before the modules were hidden.

This module must stay importable on its own (standard library only): the
child loads it by file path.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: The environment variable the sandbox reads.
VARIABLE = "AUTOGRADER_SANDBOX_SIMULATE"
#: The platforms it can simulate.
PLATFORMS = ("windows", "macos")

_HIDDEN_MODULES = {"windows": ("posix", "resource", "fcntl"), "macos": ()}
_HIDDEN_OS_FUNCTIONS = {
    # Not register_at_fork: libraries that switch on sys.platform (torch) call it on "linux".
    "windows": ("fork", "forkpty", "pidfd_open", "killpg", "getpgid", "setsid", "setpgid", "wait4", "waitid",
                "sched_getaffinity", "getloadavg"),
    "macos": ("pidfd_open", "sched_getaffinity"),
}


def simulated_platform(environment: Any = None) -> str | None:
    """The platform named by :data:`VARIABLE` (lower-cased), or None if unset or empty.

    Raises `ValueError` for a name that is not one of :data:`PLATFORMS`.

    >>> simulated_platform({}), simulated_platform({VARIABLE: "Windows"})
    (None, 'windows')
    """
    value = (environment if environment is not None else os.environ).get(VARIABLE, "").strip().lower()
    if not value:
        return None
    if value not in PLATFORMS:
        raise ValueError(f"{VARIABLE}={value!r} names no platform the sandbox can simulate; use one of "
                         f"{', '.join(PLATFORMS)}, or leave it unset")
    return value


class _HiddenModules:
    """A ``sys.meta_path`` finder that refuses the hidden modules, as where they do not exist."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden: {VARIABLE})", name=fullname)
        return None

    def invalidate_caches(self) -> None:
        pass


def hide_platform(platform: str) -> None:
    """Make this interpreter look like *platform* (``"windows"`` or ``"macos"``) to the code that runs next.

    Modules already imported keep the references they hold (``os`` keeps
    its functions from ``posix``); what imports them from now on fails.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"cannot simulate {platform!r}; use one of {', '.join(PLATFORMS)}")
    names = _HIDDEN_MODULES[platform]
    if names:
        # The standard library's own platform switches (shutil imports posix where os.name is "posix"):
        # imported first, with what they need, as on the real platform they import their Windows half.
        import shutil  # noqa: E401, F401

        for name in names:
            sys.modules.pop(name, None)
        if not any(type(finder) is _HiddenModules for finder in sys.meta_path):
            sys.meta_path.insert(0, _HiddenModules(names))
    for name in _HIDDEN_OS_FUNCTIONS[platform]:
        if hasattr(os, name):
            delattr(os, name)
