"""What the sandboxed child may not do, and how it is stopped from doing it.

Two layers, installed by the child after it has imported NumPy and before it
runs any student code (`install`).

**Kernel layer: the boundary.**  It holds whatever the student's code does,
even native code reached through ctypes once the Python layer is switched off
(``tests/autograder/test_sandbox_confinement.py`` does exactly that, with
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

This module must stay importable on its own (standard library only): the child
loads it by file path, and the parent imports it for `python_read_access` and
`plan_read_access`.  It imports on every platform: ``resource`` is imported
where limits are set, and the Linux calls are made only by `install`, which
only a Linux child runs (elsewhere `install_portable`, see `portable`).
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import stat
import struct
import sys
from collections.abc import Iterable
from typing import Any

#: Top-level modules the student may not import (their submodules neither).
BLOCKED_MODULES = ("torch", "scipy", "reference", "autograder", "solutions")


def import_refusal(module: str) -> str:
    """The message a student sees when importing a blocked module.

    >>> import_refusal("torch")
    'torch is not available here: this exercise asks you to write it in NumPy'
    """
    return f"{module} is not available here: this exercise asks you to write it in NumPy"


def _inside(path: str, root: str) -> bool:
    """Whether *path* is *root* or lies below it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)  # os.sep: "\\" on Windows


# --------------------------------------------------------------------------
# What the child may read: an allow-list (computed once in the parent)

#: Devices the child may use besides its scratch folder: reading and writing /dev/null, reading randomness.
DEVICES = {"/dev/null": "read write", "/dev/urandom": "read", "/dev/random": "read"}


def python_read_access(never: Iterable[str] = ()) -> list[tuple[str, list[str]]]:
    """What the child's Python needs to read, as allowed folders and the holes in them.

    The interpreter's standard library (with ``lib-dynload``), NumPy's package
    folder and the libraries bundled with it (``numpy.libs``), the system's
    shared libraries and ``/etc/ld.so.cache`` (extension modules imported later,
    such as ``numpy.fft`` or ``hashlib``, load theirs then).  Nothing else:
    not the course, not the submissions, not ``/tmp`` or any home folder, not
    the other packages of any ``site-packages`` (a non-editable install of
    the grader puts ``reference/`` there), not ``/proc`` (the child adds its
    own ``/proc/<pid>`` when it installs the rules).

    Parameters
    ----------
    never : iterable of str
        Paths that must stay unreadable even where they lie inside one of the
        folders above (the course root, say, when the Python lives inside it).

    Returns
    -------
    list of (str, list of str)
        Each allowed folder or file (a real path) and the paths inside it
        that stay unreadable: every ``site-packages`` or ``dist-packages``
        folder and every path of *never* that lies below it.
    """
    import importlib.util
    import site
    import sysconfig

    def real(path: str) -> str:
        return os.path.realpath(path)

    allowed = {real(os.path.dirname(os.__file__))}  # the standard library
    if os.name == "nt":  # Windows keeps the standard library's extension modules beside it, in DLLs
        allowed.add(real(os.path.join(sys.base_prefix, "DLLs")))
    for folder in [sysconfig.get_config_var("DESTSHARED") or ""] + sys.path:
        if os.path.basename(folder) == "lib-dynload" and os.path.isdir(folder):
            allowed.add(real(folder))
    numpy = importlib.util.find_spec("numpy")  # finds, does not import
    for folder in (numpy.submodule_search_locations or []) if numpy else []:
        allowed.add(real(folder))
        bundled = os.path.join(os.path.dirname(folder), "numpy.libs")  # manylinux wheels' OpenBLAS, gfortran
        if os.path.isdir(bundled):
            allowed.add(real(bundled))
    multiarch = sysconfig.get_config_var("MULTIARCH")
    libraries = [f"{prefix}/{multiarch}" for prefix in ("/lib", "/usr/lib")] if multiarch else []
    libraries += ["/lib64", "/usr/lib64"] if not multiarch else []
    allowed.update(real(folder) for folder in libraries + ["/etc/ld.so.cache"] if os.path.exists(folder))
    site_folders = set(site.getsitepackages()) | set(site.getsitepackages([sys.base_prefix]))
    site_folders |= {site.getusersitepackages()} | {folder for folder in sys.path if
                                                   os.path.basename(folder) in ("site-packages", "dist-packages")}
    holes = {real(folder) for folder in site_folders} | {real(path) for path in never}
    plan = [(root, sorted(hole for hole in holes if hole != root and _inside(hole, root)))
            for root in sorted(allowed) if root not in holes]
    # A folder that another one already grants (lib-dynload inside the standard library) needs no rule.
    return [(root, holes) for root, holes in plan
            if not is_readable(root, [(other, other_holes) for other, other_holes in plan if other != root])]


def plan_read_access(allowed: Iterable[tuple[str, Iterable[str]]]) -> tuple[list[str], list[str]]:
    """Turn allowed folders with holes into Landlock rules: folders to read, folders only to list.

    Landlock only *grants* access below a directory, so to keep a hole
    unreadable every sibling along its path is granted instead, and the
    folders above it get the right to be listed (so imports that scan the
    standard library's folder still work).

    Parameters
    ----------
    allowed : iterable of (str, iterable of str)
        As `python_read_access` returns: real paths, and the paths below each
        that must stay unreadable.

    Returns
    -------
    read_roots : list of str
        Paths below which reading is allowed.
    list_only : list of str
        Folders on the way to a hole: they may be listed, not read from.

    Examples
    --------
    >>> plan_read_access([("/usr/lib/x86_64-linux-gnu", [])])
    (['/usr/lib/x86_64-linux-gnu'], [])
    """
    read_roots: list[str] = []
    list_only: list[str] = []

    def visit(directory: str, holes: list[str]) -> None:
        list_only.append(directory)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            full = os.path.join(directory, name)
            resolved = os.path.realpath(full)
            if any(_inside(resolved, hole) or _inside(full, hole) for hole in holes):
                continue
            inner = [hole for hole in holes if _inside(hole, full)]
            if inner:
                # On the way to a hole: open it up one level further, unless it is a link
                # (whatever it points to outside this folder stays out).
                if resolved == full and os.path.isdir(full):
                    visit(full, inner)
                continue
            read_roots.append(full)

    for root, holes in allowed:
        holes = sorted(holes)
        if holes and os.path.isdir(root):
            visit(root, holes)
        else:
            read_roots.append(root)
    return read_roots, list_only


def is_readable(path: str, allowed: Iterable[tuple[str, Iterable[str]]]) -> bool:
    """Whether the real path *path* lies in an allowed folder and outside that folder's holes.

    >>> rules = [("/usr/lib/python3.11", ["/usr/lib/python3.11/site-packages"])]
    >>> is_readable("/usr/lib/python3.11/os.py", rules), is_readable("/usr/lib/python3.11/site-packages/x", rules)
    (True, False)
    """
    return any(_inside(path, root) and not any(_inside(path, hole) for hole in holes) for root, holes in allowed)


# --------------------------------------------------------------------------
# Kernel layer (ctypes; all of it runs before the audit hook blocks ctypes)

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 0x4000, 1 << 18


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def set_parent_death_signal(parent_pid: int) -> None:
    """Have the kernel kill this process when the thread that started it ends.

    Exits at once if the parent is already gone (it may have died before the
    signal was armed).
    """
    _check(_libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent_pid:
        os._exit(1)


def _isolate_namespaces(scratch: str, scratch_bytes: int, protections: dict[str, str]) -> None:
    """No network, no System V IPC shared with anyone; the scratch folder becomes a private, size-capped tmpfs.

    A private IPC namespace means no shared memory segment, message queue or
    semaphore made by the child is visible outside it or outlives it (the
    namespace ends with its last process); seccomp refuses those calls too.
    """
    libc = _libc()
    for flag, name in ((_CLONE_NEWNET, "network namespace"), (_CLONE_NEWIPC, "ipc namespace")):
        if libc.unshare(flag) == 0:
            protections[name] = "on"
        else:
            protections[name] = f"unavailable ({os.strerror(ctypes.get_errno())})"
    try:
        _check(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        # Private propagation first, or the tmpfs would show up in the parent's namespace.
        _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount(/, MS_PRIVATE)")
        options = f"size={scratch_bytes},mode=0700".encode()
        _check(libc.mount(b"tmpfs", os.fsencode(scratch), b"tmpfs", _MS_NOSUID | _MS_NODEV, options),
               "mount(tmpfs)")
        os.chdir(scratch)  # the old cwd is the folder underneath the new mount
        protections["private scratch tmpfs"] = f"on ({scratch_bytes} bytes)"
    except OSError as error:
        protections["private scratch tmpfs"] = f"unavailable ({error.strerror})"


def _set_resource_limits(config: dict[str, Any], protections: dict[str, str]) -> None:
    import resource

    limits = {
        resource.RLIMIT_AS: config["memory_bytes"],
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: config["file_bytes"],
        resource.RLIMIT_NOFILE: 256,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    cpu = int(config["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # An oversized write then fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    protections["resource limits"] = (f"on (address space {config['memory_bytes']} bytes, "
                                      f"file size {config['file_bytes']} bytes, CPU {cpu} s)")


# Landlock constants (linux/landlock.h).
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_TRUNCATE = 1 << 14
_FS_ACCESS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_FS_ACCESS_LATEST = (1 << 16) - 1  # ABI 5 added IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_ONLY_ACCESS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | (1 << 15)


_OWN_PROC = "/proc/self"
# Landlock ties a rule to an inode, and procfs makes a new inode for /proc/<pid> whenever its dentry has
# been evicted: the descriptor that made the rule stays open, so the dentry (and the rule) stays.
_pinned_descriptors: list[int] = []


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock(config: dict[str, Any], protections: dict[str, str]) -> bool:
    """Write only in scratch, read only outside the forbidden paths, no TCP, no outside signals."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        protections["landlock"] = f"unavailable ({os.strerror(ctypes.get_errno())})"
        return False
    handled = _FS_ACCESS_BY_ABI.get(abi, _FS_ACCESS_LATEST)
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        protections["landlock"] = f"unavailable ({os.strerror(ctypes.get_errno())})"
        return False
    read = _FS_READ_FILE | _FS_READ_DIR | _FS_EXECUTE
    rules = [(path, read) for path in config["read_roots"]]
    rules += [(path, _FS_READ_DIR) for path in config["list_only"]]
    rules += [(config["scratch"], handled)]
    rules += [(device, _FS_READ_FILE | (_FS_WRITE_FILE | _FS_TRUNCATE if "write" in use else 0))
              for device, use in DEVICES.items()]
    # Its own /proc/<pid> (opening /proc/self resolves to it), not /proc: no other process can be seen.
    rules += [(_OWN_PROC, _FS_READ_FILE | _FS_READ_DIR)]
    try:
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # vanished since the plan was made
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= _FILE_ONLY_ACCESS
                rule = _PathBeneathAttr(allowed_access=access & handled, parent_fd=fd)
                if libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule({path})")
            finally:
                if path == _OWN_PROC:
                    _pinned_descriptors.append(fd)
                else:
                    os.close(fd)
        if libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    except OSError as error:
        protections["landlock"] = f"unavailable ({error.filename or error}: {os.strerror(error.errno or 0)})"
        return False
    finally:
        os.close(ruleset)
    protections["landlock"] = f"on (ABI {abi}, {len(rules)} rules)"
    protections["read allow-list"] = "on (Landlock: Python, NumPy, system libraries, the scratch folder)"
    protections["proc hidden"] = "on (Landlock: only the child's own /proc/<pid> can be read)"
    return True


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(protections: dict[str, str]) -> None:
    """Root without capabilities cannot ptrace the parent, mount, or bypass file permissions."""
    header = _CapHeader(version=0x20080522, pid=0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc().capset(ctypes.byref(header), data) == 0:
        protections["capabilities"] = "dropped"
    else:
        protections["capabilities"] = f"unchanged ({os.strerror(ctypes.get_errno())})"


# seccomp: x86_64 system call numbers.
_SYSCALLS_REFUSED = {
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "kcmp": 312, "socket": 41, "socketpair": 53, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250,
    "add_key": 248, "request_key": 249, "init_module": 175, "finit_module": 313, "delete_module": 176,
    "kexec_load": 246, "kexec_file_load": 320, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, "sethostname": 170,
    "setdomainname": 171, "iopl": 172, "ioperm": 173, "quotactl": 179, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "setrlimit": 160, "tkill": 200, "pidfd_open": 434, "pidfd_getfd": 438,
    "pidfd_send_signal": 424, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442, "personality": 135, "migrate_pages": 256,
    "move_pages": 279, "process_madvise": 440,
    # System V IPC and POSIX message queues: a channel between sandboxes, or something that outlives the run.
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
    "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240,
    "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
    # A change of credentials clears the parent-death signal (and there is nothing to change them to).
    "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setgroups": 116, "setresuid": 117,
    "setresgid": 119, "setfsuid": 122, "setfsgid": 123, "capset": 126,
}
_SYSCALLS_SELF_ONLY = {"kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297}
_SYS_CLONE, _SYS_CLONE3, _SYS_PRLIMIT64 = 56, 435, 302
_SYS_IOCTL, _SYS_FCNTL, _SYS_PRCTL = 16, 72, 157
# prctl options refused: clearing the parent-death signal (to outlive the zygote), and becoming
# undumpable (which would hide the child's /proc files from the grader that watches it).  The rest
# concern only the child itself (PR_SET_CHILD_SUBREAPER is moot without fork).
_PR_SET_DUMPABLE = 4
_PRCTL_REFUSED = (_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE)
# fcntl commands that make the kernel signal a process when a descriptor is ready (SIGIO, or any
# signal with F_SETSIG): pointed at the grader through the protocol pipes, a way to kill it on
# kernels without Landlock's signal scoping (before 6.12).  F_SETFL is refused only with O_ASYNC.
_F_SETFL, _F_SETOWN, _F_SETSIG, _F_SETOWN_EX = 4, 8, 10, 15
_O_ASYNC = 0o20000
# ioctl requests with the same effect: FIOASYNC (O_ASYNC), FIOSETOWN and SIOCSPGRP (F_SETOWN).
_IOCTL_REFUSED = (0x5452, 0x8901, 0x8902)
_CLONE_THREAD = 0x00010000
_AUDIT_ARCH_X86_64 = 0xC000003E
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO, _SECCOMP_RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_BPF_LD_W_ABS, _BPF_JEQ, _BPF_JGE, _BPF_JSET, _BPF_RET = 0x20, 0x15, 0x35, 0x45, 0x06


def _seccomp_program(own_pid: int) -> bytes:
    """Assemble the classic-BPF filter (forward jumps to named labels)."""
    program: list[list[Any]] = []
    labels: dict[str, int] = {}

    def emit(code: int, k: int = 0, true: str | None = None, false: str | None = None) -> None:
        program.append([code, true, false, k])

    def label(name: str) -> None:
        labels[name] = len(program)

    def load_argument_word(argument: int, high: bool = False) -> None:
        emit(_BPF_LD_W_ABS, 16 + 8 * argument + (4 if high else 0))  # seccomp_data.args[i], little-endian

    emit(_BPF_LD_W_ABS, 4)  # seccomp_data.arch
    emit(_BPF_JEQ, _AUDIT_ARCH_X86_64, false="kill")
    emit(_BPF_LD_W_ABS, 0)  # seccomp_data.nr
    emit(_BPF_JGE, 0x40000000, true="deny")  # the x32 ABI
    for number in _SYSCALLS_REFUSED.values():
        emit(_BPF_JEQ, number, true="deny")
    emit(_BPF_JEQ, _SYS_CLONE3, true="enosys")  # glibc then falls back to clone(), which we can inspect
    emit(_BPF_JEQ, _SYS_CLONE, true="clone")
    emit(_BPF_JEQ, _SYS_PRLIMIT64, true="prlimit")
    emit(_BPF_JEQ, _SYS_PRCTL, true="prctl")
    emit(_BPF_JEQ, _SYS_FCNTL, true="fcntl")
    emit(_BPF_JEQ, _SYS_IOCTL, true="ioctl")
    for number in _SYSCALLS_SELF_ONLY.values():
        emit(_BPF_JEQ, number, true="self")
    emit(_BPF_RET, _SECCOMP_RET_ALLOW)
    # The option, command and request arguments are C ints: the kernel reads only their low 32 bits.
    label("prctl")
    load_argument_word(0)
    for option in _PRCTL_REFUSED:
        emit(_BPF_JEQ, option, true="deny")
    emit(_BPF_RET, _SECCOMP_RET_ALLOW)
    label("fcntl")
    load_argument_word(1)
    for command in (_F_SETOWN, _F_SETSIG, _F_SETOWN_EX):
        emit(_BPF_JEQ, command, true="deny")
    emit(_BPF_JEQ, _F_SETFL, false="allow")
    load_argument_word(2)
    emit(_BPF_JSET, _O_ASYNC, true="deny", false="allow")
    label("ioctl")
    load_argument_word(1)
    for request in _IOCTL_REFUSED:
        emit(_BPF_JEQ, request, true="deny")
    emit(_BPF_RET, _SECCOMP_RET_ALLOW)
    label("clone")  # threads yes, processes no
    load_argument_word(0)
    emit(_BPF_JSET, _CLONE_THREAD, true="allow", false="deny")
    label("prlimit")  # reading limits yes, changing them no
    load_argument_word(2)
    emit(_BPF_JEQ, 0, false="deny")
    load_argument_word(2, high=True)
    emit(_BPF_JEQ, 0, true="allow", false="deny")
    label("self")  # signals to this process only
    load_argument_word(0)
    emit(_BPF_JEQ, own_pid, true="allow", false="deny")
    # Classic BPF jumps only forward, so the verdicts come last.
    label("allow")
    emit(_BPF_RET, _SECCOMP_RET_ALLOW)
    label("deny")
    emit(_BPF_RET, _SECCOMP_RET_ERRNO | 1)  # EPERM
    label("enosys")
    emit(_BPF_RET, _SECCOMP_RET_ERRNO | 38)  # ENOSYS
    label("kill")
    emit(_BPF_RET, _SECCOMP_RET_KILL_PROCESS)

    code = bytearray()
    for index, (opcode, true, false, k) in enumerate(program):
        jump_true = labels[true] - index - 1 if true else 0
        jump_false = labels[false] - index - 1 if false else 0
        if max(jump_true, jump_false) > 255:  # a jump offset is one byte: move the verdicts closer
            raise ValueError(f"seccomp filter: a jump of {max(jump_true, jump_false)} instructions at {index}")
        code += struct.pack("<HBBI", opcode, jump_true, jump_false, k)
    return bytes(code)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp(protections: dict[str, str]) -> bool:
    if platform.machine() != "x86_64":
        protections["seccomp"] = f"unavailable (the filter is written for x86_64, this is {platform.machine()})"
        return False
    code = _seccomp_program(os.getpid())
    buffer = ctypes.create_string_buffer(code, len(code))
    program = _SockFprog(len=len(code) // 8, filter=ctypes.addressof(buffer))
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ...): every thread, not just this one.
    if libc.syscall(317, 1, 1, ctypes.byref(program)) != 0:
        protections["seccomp"] = f"unavailable ({os.strerror(ctypes.get_errno())})"
        return False
    protections["seccomp"] = ("on (no fork, exec, ptrace, sockets, System V IPC; no clearing of the death "
                              "signal, no SIGIO owners; signals only to itself)")
    return True


# --------------------------------------------------------------------------
# Python layer


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
            if _inside(real, root):
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
        if not any(_inside(real, root) for root in writable):
            raise PermissionError(f"{what} {real} is not allowed {sandbox}: only the current folder is writable")

    def refuse_directory_descriptor(path: Any) -> None:
        try:
            real = resolve(path)
            if not stat.S_ISDIR(is_directory(real).st_mode) or _inside(real, scratch):
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
    _isolate_namespaces(scratch, config["scratch_bytes"], protections)
    _set_resource_limits(config, protections)
    _check(_libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    skipped = frozenset(config.get("skip_protections", ()))  # for tests of the fall-backs
    has_landlock = "landlock" not in skipped and _landlock(config, protections)
    if not has_landlock:
        protections["read allow-list"] = "audit hook only (Landlock unavailable): native code could read any file"
        protections["proc hidden"] = "audit hook only (Landlock unavailable): native code could read /proc"
    _drop_capabilities(protections)
    has_seccomp = "seccomp" not in skipped and _seccomp(protections)
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
