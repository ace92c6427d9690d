"""What the sandboxed child may not do, and how it is stopped from doing it.

Two layers, installed by the child after it has imported NumPy and before it
runs any student code (`install`).

**Kernel layer: the boundary.**  It holds whatever the student's code does,
even native code reached through ctypes once the Python layer is switched off
(``tests/sandbox/test_sandbox_confinement.py`` does exactly that, with
``examples/conv_layers/hostile_escapes_the_sandbox.py``).  Each part is best
effort: what the running kernel refuses is reported in the ``protections``
mapping rather than failing the start, and `autograder.sandbox.self_test`
checks that what is reported on really holds.

* Landlock, ``landlock``: reads only from an allow-list (`python_read_access`:
  the standard library, NumPy and its bundled libraries, the system's shared
  libraries, ``/etc/ld.so.cache``, ``/dev/null`` and ``/dev/*random``, its own
  ``/proc/<pid>``), writes only in the scratch folder; no TCP; (ABI 6, Linux
  6.12) no signals or abstract Unix sockets outside the sandbox.  Hence
  ``proc hidden``: ``/proc`` cannot be listed and no other process's files
  read (``stat`` can still tell which pids exist; nothing more).
* seccomp, ``seccomp`` (x86_64): no fork, exec, ptrace, sockets, mounts,
  namespaces, io_uring, BPF, System V IPC or POSIX message queues; no
  changes of credentials or resource limits; ``prctl`` cannot clear the
  parent-death signal or make the process undumpable; ``fcntl`` and ``ioctl``
  cannot make the kernel send SIGIO (or any F_SETSIG signal) to anyone
  (F_SETOWN, F_SETOWN_EX, F_SETSIG, O_ASYNC, FIOASYNC, FIOSETOWN,
  SIOCSPGRP), so the protocol pipes cannot be turned into a way to signal the
  grader even without Landlock's signal scoping; ``kill`` and friends reach
  only the child itself.  So the child is the only process of the
  submission, and it dies with its parent (the zygote, or the grader's
  thread for an exec'd child).
* Namespaces (need privilege; unavailable ones are reported): a private
  ``network namespace``, ``ipc namespace`` (nothing System V made inside is
  seen outside or outlives the child) and mount namespace holding the
  ``private scratch tmpfs``.
* ``resource limits`` (memory, file size, CPU, descriptors) and dropped
  ``capabilities``.

**Python layer: the words.**  An audit hook (it cannot be removed) and an
import blocker in ``sys.meta_path`` refuse the same things with messages a
student understands ("reading X is not allowed in the grader's sandbox",
"torch is not available here").  It is *not* a boundary: ``gc.get_objects()``
finds the hook and its ``__code__`` can be replaced; a ``PathLike`` can answer
differently twice; NumPy can reach raw memory.  Where Landlock is missing,
the hook is the only guard of reads (``proc hidden`` then says "audit hook
only"); where seccomp is missing, it also refuses ``_posixsubprocess``.

Here: `install` (and `install_portable`) and the Python layer.  The kernel
layer is `kernel_layer`; the read allow-list both layers enforce, computed
in the parent, is `read_access`.

This module must stay importable on its own (standard library only): the child
loads it by file path, after `read_access` and `kernel_layer`, and the parent
imports it for `BLOCKED_MODULES`.  It imports on every platform: ``resource``
is imported where limits are set, and the Linux calls are made only by
`install`, which only a Linux child runs (elsewhere `install_portable`, see
`autograder.sandbox.portable`).
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from typing import Any

if __package__:  # the grader imports it as autograder.sandbox.child.restrictions
    from . import kernel_layer
    from .read_access import DEVICES, inside, is_readable
else:  # the child loads it by file path, after these (see `main.load_sibling`)
    import _sandbox_kernel_layer as kernel_layer
    from _sandbox_read_access import DEVICES, inside, is_readable

#: Called by the child before anything else (`main._start`): here so that it needs this module only.
set_parent_death_signal = kernel_layer.set_parent_death_signal


#: Top-level modules the student may not import (their submodules neither).
BLOCKED_MODULES = ("torch", "scipy", "reference", "autograder", "solutions")


def import_refusal(module: str) -> str:
    """The message a student sees when importing a blocked module.

    >>> import_refusal("torch")
    'torch is not available here: this exercise asks you to write it in NumPy'
    """
    return f"{module} is not available here: this exercise asks you to write it in NumPy"


class _ImportRefuser:
    """A ``sys.meta_path`` finder that refuses the blocked modules by name."""

    def __init__(self, blocked: frozenset[str]) -> None:
        self.blocked = blocked

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        top = fullname.partition(".")[0]
        if top in self.blocked:
            raise ImportError(import_refusal(top), name=fullname)
        return None

    def invalidate_caches(self) -> None:
        pass


def _make_resolver() -> Any:
    """A ``realpath`` built only from C functions captured now.

    ``os.path.realpath`` is Python code calling module attributes a student
    could replace; these captured builtins cannot be swapped afterwards.
    """
    if os.name == "nt":
        return _make_windows_resolver()
    # os's functions are the C functions of posix themselves; no student code has run yet to replace them.
    lstat, readlink, getcwd, fspath = os.lstat, os.readlink, os.getcwd, os.fspath
    is_link = stat.S_ISLNK

    def resolve(path: Any) -> str:
        path = fspath(path)
        if type(path) is bytes:
            path = path.decode("utf-8", "surrogateescape")
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        pending = path.split("/")[::-1]
        resolved: list[str] = []
        links_followed = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/" + "/".join(resolved + [name])
            try:
                mode = lstat(candidate).st_mode
            except OSError:
                resolved.append(name)
                continue
            if is_link(mode):
                links_followed += 1
                if links_followed > 40:
                    raise PermissionError("too many symbolic links")
                target = readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                pending.extend(target.split("/")[::-1])
            else:
                resolved.append(name)
        return "/" + "/".join(resolved)

    return resolve


def _make_windows_resolver() -> Any:
    """``realpath`` on Windows (drive letters, both slashes, junctions): ntpath's, captured now.

    It is Python code, so a student could reach what it calls; on Windows the
    audit hook is the only guard of files anyway, and it is no boundary.
    """
    realpath, fspath = os.path.realpath, os.fspath

    def resolve(path: Any) -> str:
        path = fspath(path)
        if type(path) is bytes:
            path = path.decode("utf-8", "surrogateescape")
        return realpath(path)

    return resolve


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit events refused outright, with the words a student sees.
_REFUSED_EVENTS = {
    "os.system": "running shell commands", "os.exec": "starting other programs",
    "os.posix_spawn": "starting other programs", "os.spawn": "starting other programs",
    "subprocess.Popen": "starting other programs", "os.fork": "starting new processes",
    "os.forkpty": "starting new processes", "pty.spawn": "starting new processes",
    "os.killpg": "sending signals to other processes", "resource.setrlimit": "changing resource limits",
    "resource.prlimit": "changing resource limits", "os.link": "creating links", "os.symlink": "creating links",
    "webbrowser.open": "opening a web browser", "os.startfile": "starting other programs",
}
# Audit events that change the file system, and which of their arguments are paths.
_WRITE_EVENTS = {
    "os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
    "os.chflags": (0,), "shutil.rmtree": (0,), "shutil.chown": (0,),
}
_DIR_FD_ARGUMENT = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.chmod": 2, "os.chown": 3, "os.utime": 3,
                    "os.rename": 2}
_READ_EVENTS = {"os.listdir": 0, "os.scandir": 0, "os.getxattr": 0, "os.listxattr": 0}


def _install_audit_hook(*, scratch: str, readable: list[tuple[str, list[str]]],
                        forbidden_reads: list[tuple[str, str]], blocked: frozenset[str], own_pid: int,
                        block_posixsubprocess: bool, kernel_guards_files: bool) -> None:
    """Refuse, with a clear message, what the student may not do.

    Reading follows the same allow-list as Landlock: *readable* (folders and
    their holes, see `python_read_access`), the scratch folder, the devices,
    the child's own ``/proc/<pid>``.  *forbidden_reads* only chooses the
    message: pairs of a path and, for a blocked package, its module name.

    *kernel_guards_files* says Landlock is on.  Without it, paths relative to a
    directory descriptor are the hook's blind spot (the "open" event does not
    carry the descriptor), so it refuses directory descriptors outside the
    scratch folder and file operations relative to any descriptor.
    """
    resolve = _make_resolver()
    is_directory = os.stat  # posix.stat itself, captured before any student code runs
    sandbox = "in the grader's sandbox"
    writable = (scratch, "/dev/null")
    readable = [(scratch, []), (f"/proc/{own_pid}", [])] + [(device, []) for device in DEVICES] + readable

    def refuse_read_of(path: Any) -> None:
        if type(path) is int:
            return  # an already-open descriptor
        try:
            real = resolve(path)
        except (TypeError, ValueError):
            return  # not a path: the operation itself will fail
        if is_readable(real, readable):
            return
        for root, label in forbidden_reads:
            if inside(real, root):
                if label:  # a blocked package's folder, e.g. torch's
                    raise PermissionError(import_refusal(label))
                raise PermissionError(f"reading {real} is not allowed {sandbox}: the grader's own files are private")
        raise PermissionError(f"reading {real} is not allowed {sandbox}: only Python's standard library, NumPy "
                              "and the current folder can be read")

    def refuse_write_to(path: Any, what: str) -> None:
        if type(path) is int:
            return
        try:
            real = resolve(path)
        except (TypeError, ValueError):
            return
        if not any(inside(real, root) for root in writable):
            raise PermissionError(f"{what} {real} is not allowed {sandbox}: only the current folder is writable")

    def refuse_directory_descriptor(path: Any) -> None:
        try:
            real = resolve(path)
            if not stat.S_ISDIR(is_directory(real).st_mode) or inside(real, scratch):
                return
        except (TypeError, ValueError, OSError):
            return
        raise PermissionError(f"opening the folder {real} is not allowed {sandbox}")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            wants_write = (type(mode) is str and any(letter in mode for letter in "wax+")) or \
                (type(flags) is int and flags & _WRITE_FLAGS)
            if wants_write:
                refuse_write_to(path, "writing to")
            refuse_read_of(path)
            if not kernel_guards_files and mode is None:  # os.open, the only way to get a directory descriptor
                refuse_directory_descriptor(path)
        elif event == "import":
            top = str(args[0]).partition(".")[0]
            if top in blocked or (block_posixsubprocess and top == "_posixsubprocess"):
                label = top if top in blocked else "subprocess"
                raise ImportError(import_refusal(label) if top in blocked else
                                  f"starting other programs is not allowed {sandbox}", name=label)
        elif event in _REFUSED_EVENTS:
            raise PermissionError(f"{_REFUSED_EVENTS[event]} is not allowed {sandbox} ({event})")
        elif event.startswith("socket."):
            raise PermissionError(f"network access is not allowed {sandbox} ({event})")
        elif event.startswith("ctypes."):
            raise PermissionError(f"ctypes is not allowed {sandbox} ({event})")
        elif event in _WRITE_EVENTS:
            dir_fd_at = _DIR_FD_ARGUMENT.get(event)
            # CPython reports "no dir_fd" as -1 (or None); AT_FDCWD (-100) is the current folder.
            if not kernel_guards_files and dir_fd_at is not None and len(args) > dir_fd_at and \
                    args[dir_fd_at] not in (None, -1, -100):
                raise PermissionError(f"file operations relative to a directory descriptor are not allowed {sandbox}")
            for position in _WRITE_EVENTS[event]:
                refuse_write_to(args[position], "changing")
        elif event in _READ_EVENTS:
            refuse_read_of(args[_READ_EVENTS[event]])
        elif event == "os.kill":
            if args[0] != own_pid:
                raise PermissionError(f"sending signals to other processes is not allowed {sandbox}")
        elif event == "sqlite3.connect":
            database = args[0]
            if database not in (":memory:", "", b":memory:", b""):
                refuse_write_to(database, "opening a database at")

    sys.addaudithook(hook)


def _refuse_imports(blocked: frozenset[str]) -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in blocked:
            del sys.modules[name]
    sys.meta_path.insert(0, _ImportRefuser(blocked))


# --------------------------------------------------------------------------


def install(config: dict[str, Any]) -> dict[str, str]:
    """Install every restriction this machine allows; say which ones are on.

    Parameters
    ----------
    config : dict
        The parent's ``configure`` message: ``scratch``, ``memory_bytes``,
        ``file_bytes``, ``scratch_bytes``, ``cpu_seconds``, ``readable``
        (pairs of an allowed folder and its holes, see `python_read_access`),
        ``read_roots`` and ``list_only`` (the same as Landlock rules, see
        `plan_read_access`), ``forbidden_reads`` (pairs of path and, for a
        blocked package, its module name: what the refusal says),
        ``blocked_modules`` and, to test the fall-backs, ``skip_protections``
        (``"landlock"``, ``"seccomp"``).

    Returns
    -------
    dict of str to str
        For each protection, ``"on ..."`` or why it is unavailable.
    """
    protections: dict[str, str] = {}
    blocked = frozenset(config["blocked_modules"])
    scratch = config["scratch"]
    kernel_layer.isolate_namespaces(scratch, config["scratch_bytes"], protections)
    kernel_layer.set_resource_limits(config, protections)
    kernel_layer.forbid_new_privileges()
    skipped = frozenset(config.get("skip_protections", ()))  # for tests of the fall-backs
    has_landlock = "landlock" not in skipped and kernel_layer.landlock(config, protections)
    if not has_landlock:
        protections["read allow-list"] = "audit hook only (Landlock unavailable): native code could read any file"
        protections["proc hidden"] = "audit hook only (Landlock unavailable): native code could read /proc"
    kernel_layer.drop_capabilities(protections)
    has_seccomp = "seccomp" not in skipped and kernel_layer.seccomp(protections)
    for name in skipped & {"landlock", "seccomp"}:
        protections[name] = "off (skipped at the grader's request)"
    _refuse_imports(blocked)
    _install_audit_hook(
        scratch=scratch, readable=[(root, list(holes)) for root, holes in config["readable"]],
        forbidden_reads=[(path, label) for path, label in config["forbidden_reads"]],
        blocked=blocked, own_pid=os.getpid(), block_posixsubprocess=not has_seccomp,
        kernel_guards_files=has_landlock)
    protections["audit hook"] = "on"
    return protections


# --------------------------------------------------------------------------
# The portable child (see `portable`): no Linux kernel features


def install_portable(config: dict[str, Any]) -> dict[str, str]:
    """Install what a platform without Landlock, seccomp or namespaces allows; say which protections are on.

    Resource limits where the ``resource`` module exists (Linux, macOS),
    and the Python layer (import blocker, audit hook) everywhere. Every
    kernel protection of `install` is reported unavailable, with
    ``config["portable"]["why"]``; none is attempted (a portable child runs
    where they do not exist, or where the grader asked for no more).
    """
    portable = config["portable"]
    protections: dict[str, str] = {}
    for name in ("landlock", "seccomp", "network namespace", "ipc namespace", "private scratch tmpfs",
                 "capabilities"):
        protections[name] = f"unavailable ({portable['why']})"
    protections["read allow-list"] = "audit hook only (no Landlock): native code could read any file"
    protections["proc hidden"] = "audit hook only (no Landlock): native code could read other processes' files"
    _set_portable_resource_limits(config, portable["platform"], protections)
    blocked = frozenset(config["blocked_modules"])
    _refuse_imports(blocked)
    _install_audit_hook(
        scratch=os.path.realpath(config["scratch"]),  # macOS: /var/folders is /private/var/folders
        readable=[(root, list(holes)) for root, holes in config["readable"]],
        forbidden_reads=[(path, label) for path, label in config["forbidden_reads"]],
        blocked=blocked, own_pid=os.getpid(), block_posixsubprocess=True, kernel_guards_files=False)
    protections["audit hook"] = "on"
    return protections


def _set_portable_resource_limits(config: dict[str, Any], platform_name: str, protections: dict[str, str]) -> None:
    """Each limit the platform accepts; ``resource limits`` is on only if all were set."""
    try:
        import resource
    except ImportError:
        protections["resource limits"] = (f"unavailable (no resource module on {platform_name}): memory and CPU "
                                          "are not capped; the grader still ends a call at its timeout")
        return
    cpu = int(config["cpu_seconds"])
    wanted = [("address space", resource.RLIMIT_AS, config["memory_bytes"]), ("core", resource.RLIMIT_CORE, 0),
              ("file size", resource.RLIMIT_FSIZE, config["file_bytes"]),
              ("descriptors", resource.RLIMIT_NOFILE, 256), ("CPU", resource.RLIMIT_CPU, cpu)]
    refused = []
    for label, which, value in wanted:
        try:
            resource.setrlimit(which, (value, value + 5 if label == "CPU" else value))
        except (ValueError, OSError) as error:
            refused.append(f"{label}: {error}")
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG, not a kill
    summary = f"address space {config['memory_bytes']} bytes, file size {config['file_bytes']} bytes, CPU {cpu} s"
    if refused:
        protections["resource limits"] = f"unchanged (refused: {'; '.join(refused)})"
    elif platform_name == "macos":  # macOS accepts RLIMIT_AS but does not enforce it
        protections["resource limits"] = f"on ({summary}; macOS does not enforce the address-space limit)"
    else:
        protections["resource limits"] = f"on ({summary})"
