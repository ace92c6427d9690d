"""Run untrusted student code in a restricted child process.

The grader (the parent) never runs student code and never unpickles anything
the child sends: values cross as validated JSON plus raw numeric buffers
(`protocol`); the child, forked from a warm interpreter (`zygote`), installs
kernel and Python restrictions before it runs a single student line
(`restrictions`, `child`); `Sandbox` drives it all and turns every failure
into a `CallOutcome` (`parent`).  On Windows and macOS the child is started
with the standard pipes only and installs the Python layer alone
(`portable`; simulated on Linux with ``AUTOGRADER_SANDBOX_SIMULATE``, see
`simulate`).

>>> from autograder.sandbox import Sandbox, Limits, CallOutcome, Ref, Opaque, LoadReport
"""

from autograder.sandbox.parent import (
    CallOutcome,
    CallStatus,
    CellReport,
    Limits,
    LoadReport,
    Sandbox,
    SandboxStartError,
    default_forbidden_paths,
    prestart,
)
from autograder.sandbox.protections import KERNEL_PROTECTIONS, missing_kernel_protections, probe_protections
from autograder.sandbox.protocol import Opaque, ProtocolError, Ref
from autograder.sandbox.self_test import self_test

__all__ = [
    "CallOutcome",
    "CallStatus",
    "KERNEL_PROTECTIONS",
    "CellReport",
    "Limits",
    "LoadReport",
    "Opaque",
    "ProtocolError",
    "Ref",
    "Sandbox",
    "SandboxStartError",
    "default_forbidden_paths",
    "missing_kernel_protections",
    "prestart",
    "self_test",
    "probe_protections",
]
