"""Which protections a sandbox has on this machine, which of them a class run cannot do without.

Each sandbox reports ``Sandbox.protections``: a mapping from a protection's
name to ``"on ..."`` / ``"dropped"`` (active) or ``"unavailable (why)"`` /
``"unchanged (why)"`` (missing). The kernel-level ones (:data:`KERNEL_PROTECTIONS`)
are what holds against native code; without one of them a class is not graded
unless the instructor says so (``autograder grade --allow-weak-sandbox``).

>>> missing_kernel_protections({"landlock": "unavailable (Function not implemented)", "seccomp": "on"})
['landlock', 'network namespace', 'ipc namespace', 'read allow-list', 'proc hidden', 'private scratch tmpfs', 'resource limits', 'capabilities']
>>> is_active("dropped"), is_active("on (ABI 7, 40 rules)"), is_active("unchanged (Operation not permitted)")
(True, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "KERNEL_PROTECTIONS",
    "ALWAYS_REPORTED",
    "is_active",
    "missing_kernel_protections",
    "weak_sandbox_message",
    "probe_protections",
    "summary_line",
]

#: The kernel-level protections a class run needs, each with what to do where it is missing.
KERNEL_PROTECTIONS: dict[str, str] = {
    "landlock": (
        "Landlock is unavailable on this kernel (it needs Linux 5.13 or later with 'landlock' in the "
        "kernel's lsm= list; 6.12 or later also confines signals)"
    ),
    "seccomp": "seccomp filtering is unavailable (it needs Linux with CONFIG_SECCOMP_FILTER, on x86_64)",
    "network namespace": (
        "no private network namespace (it needs root or unprivileged user namespaces; on Ubuntu 23.10 "
        "and later AppArmor restricts them: sysctl kernel.apparmor_restrict_unprivileged_userns=0)"
    ),
    "ipc namespace": "no private IPC namespace (as for the network namespace: root or user namespaces)",
    "read allow-list": (
        "files outside Python, NumPy and the scratch folder are not kept from student code by the kernel "
        "(it needs Landlock, see above)"
    ),
    "proc hidden": "other processes' /proc entries are readable by student code (it needs Landlock, see above)",
    "private scratch tmpfs": (
        "no private, size-capped scratch tmpfs (it needs a mount namespace: root or user namespaces)"
    ),
    "resource limits": "resource limits (setrlimit) could not be set",
    "capabilities": "capabilities could not be dropped (capset refused)",
}

#: The kernel protections ``restrictions.install`` reports on every start: one absent from a
#: mapping counts as missing (a protection named in no report cannot be vouched for).
ALWAYS_REPORTED = tuple(KERNEL_PROTECTIONS)


def is_active(state: str) -> bool:
    """Whether a protection's reported state means it is in force (``"on ..."`` or ``"dropped"``)."""
    return state == "dropped" or state == "on" or state.startswith("on ")


def missing_kernel_protections(protections: Mapping[str, str]) -> list[str]:
    """The kernel-level protections ``protections`` lacks, in :data:`KERNEL_PROTECTIONS`' order."""
    missing = []
    for name in KERNEL_PROTECTIONS:
        state = protections.get(name)
        if state is None:
            if name in ALWAYS_REPORTED:
                missing.append(name)
        elif not is_active(state):
            missing.append(name)
    return missing


def summary_line(protections: Mapping[str, str]) -> str | None:
    """One line for a student's terminal when kernel protections are missing, else None.

    >>> print(summary_line({"process start": "portable subprocess (not on windows: ...)", "landlock": "unavailable",
    ...                     "resource limits": "unavailable (no resource module)", "audit hook": "on"}))
    sandbox: portable subprocess: timeouts and crash isolation, audit hook; not available on this platform: landlock, seccomp, network namespace, ipc namespace, read allow-list, proc hidden, private scratch tmpfs, resource limits, capabilities
    """
    missing = missing_kernel_protections(protections)
    if not protections or not missing:
        return None
    start = protections.get("process start", "")
    how = "portable subprocess" if start.startswith("portable") else "separate process"
    active = ["timeouts and crash isolation"] + [
        name for name, state in protections.items()
        if (name in KERNEL_PROTECTIONS or name == "audit hook") and is_active(state)]
    return f"sandbox: {how}: {', '.join(active)}; not available on this platform: {', '.join(missing)}"


def weak_sandbox_message(missing_by_machine: Mapping[str, list[str]], protections_by_machine: Mapping[str, Mapping[str, str]]) -> str:
    """Why a class run is refused: each missing protection, what the machine said, and what to do."""
    lines = []
    for machine, missing in missing_by_machine.items():
        if not missing:
            continue
        reported = protections_by_machine.get(machine, {})
        if "sandbox" in reported:  # no sandbox started at all (see autograder.classroom.batch)
            lines.append(f"  {machine}: the sandbox did not start: {reported['sandbox']}")
        for name in missing:
            state = reported.get(name, "not reported")
            lines.append(f"  {machine}: {name}: {state}; {KERNEL_PROTECTIONS[name]}")
    return (
        "the sandbox would run student code without kernel-level protections on this machine:\n"
        + "\n".join(lines)
        + "\nstudent code could then read or break what the missing protection guards. Grade on a machine "
        "that has them, or pass --allow-weak-sandbox to grade anyway (the missing protections are "
        "recorded in grades.json and shown in the report)"
    )


def probe_protections() -> dict[str, str]:
    """Start one sandbox on an empty submission and return what it reports (pids and rule counts left out).

    The protections are a property of the machine and the grader's
    privileges, the same for every sandbox of a process, so one start tells.
    """
    from .cells import Submission
    from .parent import Sandbox

    with Sandbox(Submission(Path("<protections probe>"), [])) as box:
        reported = dict(box.protections)
    # Left out: what differs between two sandboxes of one machine (the zygote's pid, how many
    # Landlock rules the folders listed at that moment took), so machines compare equal.
    return {name: re.sub(r" \(pid \d+\)|, \d+ rules", "", state) for name, state in reported.items()}
