"""Prove the sandbox's kernel protections on this machine: start a child and try what they forbid.

The probe runs as a hostile student would: it first switches the audit hook
off (the Python layer is no boundary, see `child.restrictions`), so what it finds
is what the kernel alone refuses.

>>> from autograder.sandbox import self_test
>>> held = self_test()
>>> sorted(held) == sorted(SELF_TESTED)
True
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .cells import Cell, Submission

#: What `self_test` tries, per protection.
SELF_TESTED = {
    "landlock": "reading a file outside the allow-list",
    "proc hidden": "listing /proc, reading /proc/1/cmdline and the parent's cmdline",
    "seccomp": "shmget, prctl(PR_SET_PDEATHSIG, 0), fcntl(F_SETOWN) on a protocol pipe",
    "ipc namespace": "the child's System V IPC namespace is not the grader's",
    "network namespace": "the child's network namespace is not the grader's",
}

_PROBE = '''
import ctypes, fcntl, gc, os, sys

def probe(outside_file):
    for hook in [item for item in gc.get_objects() if type(item).__name__ == "function"
                 and item.__name__ == "hook" and item.__code__.co_filename.endswith("restrictions.py")]:
        names = hook.__code__.co_freevars
        source = "def outer():\\n" + "".join(f"    {name} = None\\n" for name in names)
        source += "    def hook(event, args):\\n        " + ("; ".join(names) or "pass") + "\\n    return hook\\n"
        namespace = {}
        exec(source, namespace)
        hook.__code__ = namespace["outer"]().__code__
    libc = ctypes.CDLL(None, use_errno=True)

    def refused(attempt):
        try:
            result = attempt()
        except OSError:
            return True
        if result == -1:  # a ctypes call
            return True
        if type(result) is int and result >= 0 and attempt is shmget:
            libc.shmctl(result, 0, None)  # IPC_RMID: leave nothing behind
        return False

    def shmget():
        return libc.shmget(0, 4096, 0o1000 | 0o600)

    def read(path):
        return lambda: open(path, "rb").read()

    return {
        "landlock": refused(read(outside_file)),
        "proc hidden": all(refused(attempt) for attempt in (
            lambda: os.listdir("/proc"), read("/proc/1/cmdline"), read(f"/proc/{os.getppid()}/cmdline"))),
        "seccomp": all(refused(attempt) for attempt in (
            shmget, lambda: libc.prctl(1, 0, 0, 0, 0),
            lambda: fcntl.fcntl(int(sys.argv[2]), fcntl.F_SETOWN, os.getpid()))),
        "namespaces": [os.readlink(f"/proc/self/ns/{kind}") for kind in ("ipc", "net")],
    }
'''


def self_test() -> dict[str, bool]:
    """Whether each kernel protection really holds here: a child tries what it forbids.

    Returns
    -------
    dict of str to bool
        For each protection of `SELF_TESTED`, True if every attempt was
        refused.  A protection reported "on" in `Sandbox.protections` but
        False here is not to be trusted.
    """
    from .outcomes import Limits
    from .parent import Sandbox
    from .warm import portable_platform

    if portable_platform() is not None:  # Windows, macOS: no kernel protection is installed, none can hold
        return {name: False for name in SELF_TESTED}
    submission = Submission(Path("self_test.py"), [Cell(0, _PROBE, "file")])
    with tempfile.TemporaryDirectory(prefix="autograder-self-test-") as folder:
        outside = Path(folder) / "outside.txt"
        outside.write_text("the child must not read this")
        with Sandbox(submission, Limits(call_timeout=10.0, budget=30.0)) as sandbox:
            outcome = sandbox.call("probe", str(outside))
    if not outcome.ok or type(outcome.value) is not dict:
        raise RuntimeError(f"the sandbox self-test could not run: {outcome.status}: {outcome.error}")
    found = outcome.value
    ipc, net = found.pop("namespaces")
    found["ipc namespace"] = ipc != os.readlink("/proc/self/ns/ipc")
    found["network namespace"] = net != os.readlink("/proc/self/ns/net")
    return {name: found[name] is True for name in SELF_TESTED}
