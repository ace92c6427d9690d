"""What the child may read: an allow-list of folders with holes, computed once in the parent.

The parent computes it (`python_read_access`, and the Landlock rules that
express it, `plan_read_access`) and sends it in the child's ``configure``
message; the child enforces it twice, with Landlock (`kernel_layer`) and
with the audit hook (`restrictions`), which asks `is_readable`.

This module must stay importable on its own (standard library only): the
child loads it by file path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable


def inside(path: str, root: str) -> bool:
    """Whether *path* is *root* or lies below it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)  # os.sep: "\\" on Windows



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
    plan = [(root, sorted(hole for hole in holes if hole != root and inside(hole, root)))
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
            if any(inside(resolved, hole) or inside(full, hole) for hole in holes):
                continue
            inner = [hole for hole in holes if inside(hole, full)]
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
    return any(inside(path, root) and not any(inside(path, hole) for hole in holes) for root, holes in allowed)
