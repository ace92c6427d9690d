"""Run untrusted student code in a restricted child process.

The grader (the parent) never runs student code and never unpickles anything
the child sends: values cross as validated JSON plus raw numeric buffers
(`child.protocol`); the child, forked from a warm interpreter
(`child.zygote`), installs kernel and Python restrictions before it runs a
single student line (`child.restrictions`, `child.main`); `Sandbox` drives
it all and turns every failure into a `CallOutcome` (`parent`).  On Windows
and macOS the child is started with the standard pipes only and installs
the Python layer alone (`portable`; simulated on Linux with
``AUTOGRADER_SANDBOX_SIMULATE``, see `child.simulate`).

Two halves: the `child` folder is what runs inside the student's
interpreter, loaded there by file path; everything else here is the
grader's side.  The sandbox imports nothing of ``autograder`` outside
``autograder.sandbox``: what the child may never read (the course's own
files) is the caller's policy, passed as ``Sandbox(forbidden_paths=...)``.

>>> from autograder.sandbox import Sandbox, Limits, CallOutcome, Ref, Opaque, LoadReport
"""

from .cells import Cell, Submission
from .child import protocol
from .child.protocol import Opaque, ProtocolError, Ref
from .outcomes import CallOutcome, CallStatus, CellReport, Limits, LoadReport, SandboxStartError
from .parent import Sandbox
from .protections import KERNEL_PROTECTIONS, missing_kernel_protections, probe_protections
from .self_test import self_test
from .warm import prestart

__all__ = [
    "CallOutcome",
    "CallStatus",
    "Cell",
    "KERNEL_PROTECTIONS",
    "CellReport",
    "Limits",
    "LoadReport",
    "Opaque",
    "ProtocolError",
    "Ref",
    "Sandbox",
    "SandboxStartError",
    "Submission",
    "missing_kernel_protections",
    "prestart",
    "protocol",
    "self_test",
    "probe_protections",
]
