"""Enters an isolated task's sandbox: a private mount namespace that shows it only its own files, then its own user.

Called in the task process just before it runs the task -- between fork and exec by the cold runner
(`plugins.local.runner`), in the forked task process by a fork server (`plugins.local.warm.server`) -- while it is
still root. `plugins.local.isolation` plans the `Sandbox` (`plugins.local.protocol`); this only carries it out:

1. a mount namespace of its own (`unshare(CLONE_NEWNS)`), every mount made private so nothing leaks back;
2. the paths to expose are opened (O_PATH) there, before hiding their ancestors would hide them too; one reached
   through a symbolic link is not shown;
3. an empty tmpfs over each hidden directory (the plane's data directory, its work directory, directories the
   task's uid could not traverse anyway, such as /root) -- and a fresh /tmp of its own (`scratch`: anyone may
   write there, as in /tmp), where nothing of the plane's or another task's is, and where flytekit's scratch
   directory, named in a fork server before the fork, is created anew;
4. each exposed path mounted back where it was (a bind mount of the opened descriptor), read-only unless writable;
5. no supplementary groups, the project's gid and uid (real, effective and saved), `PR_SET_NO_NEW_PRIVS` (a setuid
   program cannot give root back) and umask 077 (what it writes is its own: the plane, root, reads it anyway).

Standard library only (ctypes for unshare, mount and prctl: Python 3.11 has no os.unshare), runnable by any Python
from 3.9 on, like the programs that call it.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_NO_NEW_PRIVS = 38


def _call(name: str, *args: Any) -> None:
    function = getattr(ctypes.CDLL(None, use_errno=True), name)  # dlopen of the running libc: a lookup, no load
    if function(*args) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}{args!r}: {os.strerror(error)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def encoded(value: str | None) -> bytes | None:
        return None if value is None else os.fsencode(value)

    _call("mount", encoded(source), encoded(target), encoded(fstype), ctypes.c_ulong(flags), encoded(data))


def _mount_point(path: str, directory: bool) -> None:
    """Creates `path` (in a tmpfs, as root) to mount over, unless it is there."""
    if os.path.lexists(path):
        return
    if directory:
        os.makedirs(path, mode=0o755, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))


def enter(sandbox: Any) -> None:
    """Fences this process in as `sandbox` (a `protocol.Sandbox`) says; OSError when it cannot (the task must not
    then run unfenced: callers let the error end the attempt)."""
    _call("unshare", CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    opened = []  # opened in the new namespace: a bind mount of another namespace's mount is refused
    for path, writable in sandbox["expose"]:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # nothing to show (an input that is gone, an optional directory)
        if os.readlink(f"/proc/self/fd/{fd}") != path:
            # A symbolic link on the way (the planner resolved the plane's own paths): an input a task of the
            # project made a link to the plane's files must not bring them into view. What was opened is checked,
            # so swapping a link in after the plugin looked changes nothing.
            os.close(fd)
            continue
        opened.append((path, bool(writable), fd))
    try:
        scratch = set(sandbox.get("scratch", ()))
        for path in sandbox["hide"]:
            if os.path.isdir(path):
                options = "mode=1777" if path in scratch else "mode=0755,size=1m"
                _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for path, writable, fd in opened:  # parents before children: the planner sorts them
            _mount_point(path, os.path.isdir(f"/proc/self/fd/{fd}"))
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
            _mount(None, path, None, flags)
    finally:
        for _, _, fd in opened:
            os.close(fd)
    os.setgroups([])
    os.setresgid(sandbox["gid"], sandbox["gid"], sandbox["gid"])
    os.setresuid(sandbox["uid"], sandbox["uid"], sandbox["uid"])
    _call("prctl", PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    os.umask(0o077)
