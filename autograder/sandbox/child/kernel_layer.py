"""The kernel layer of the child's confinement: namespaces, resource limits, Landlock, capabilities, seccomp.

Installed by `restrictions.install` through ctypes, before the audit hook
blocks ctypes; what each part is and what it stops is told in `restrictions`.
Each part is best effort: what the running kernel refuses is written into
the *protections* mapping rather than failing the start.

This module must stay importable on its own (standard library only): the
child loads it by file path, after `read_access`.  It imports on every
platform; only a Linux child calls it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import stat
import struct
from typing import Any

if __package__:  # the grader imports it as autograder.sandbox.child.kernel_layer
    from .read_access import DEVICES
else:  # the child loads it by file path, read_access first (see `main.load_sibling`)
    from _sandbox_read_access import DEVICES


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


def forbid_new_privileges() -> None:
    """``PR_SET_NO_NEW_PRIVS``: nothing this process executes gains privileges (and seccomp may be installed)."""
    _check(_libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def isolate_namespaces(scratch: str, scratch_bytes: int, protections: dict[str, str]) -> None:
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


def set_resource_limits(config: dict[str, Any], protections: dict[str, str]) -> None:
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


def landlock(config: dict[str, Any], protections: dict[str, str]) -> bool:
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


def drop_capabilities(protections: dict[str, str]) -> None:
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


def seccomp(protections: dict[str, str]) -> bool:
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
