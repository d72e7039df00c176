"""Task isolation on the `local` backend: which user a project's tasks run as, and what their sandbox shows them.

With `isolation.mode: users` (`plugins.config.IsolationConfig`) every task process of a project runs as that
project's own unprivileged uid/gid (the next free one from `uid_base`, recorded in `<work_dir>/.isolation/uids.json`,
so a project keeps it across restarts), inside a private mount namespace (`plugins.local.sandbox` enters it, on
every path that starts an attempt: the cold runner and a fork server's task process; reuse workers do not take
isolated attempts, see `plugins.local.warm.plan`). What the task can reach:

- a /tmp of its own (the temporary directory of the plane's environment: an empty tmpfs anyone may write to);
- hidden (an empty tmpfs): the backend's `work_dir` (other attempts, fork servers' files, this table), the local
  store's root (every execution's data), the configured `hide` directories (`flyteplane start`: its data directory,
  with the databases, the signing key, the secrets key, the plane credential), and any directory on the way to
  what is shown that the task's uid could not traverse anyway (/root, a 0700 temporary directory);
- shown again, read-only: the task environment (virtualenv, `python_path`), its code bundle's extraction, jflyte,
  the directory of its inputs.pb (its node's), the previous attempt's checkpoint, and the local files and
  directories its inputs reference (blobs, dataframes, offloaded literals) -- which the uid must still be allowed
  to read: another project's raw data is its group's alone (see `seal`), so naming it as an input gains nothing,
  and a path reached through a symbolic link is not shown at all;
- shown again, writable by the task's uid alone: its attempt's `tmp` (TMPDIR and HOME), `cwd` and `code`
  directories, its output prefix and its raw-output prefix (made the uid's, mode 0700). The attempt directory
  itself stays root's (0711): its record and status files are the plane's word on the attempt, not the task's.
  Once the attempt is over, its output and raw-output prefixes are `seal`ed (root's again, readable by the
  project's group: its later tasks read them; symbolic links removed and the attempt failed): the plane reads
  them as root and must not be led elsewhere.

Secrets and the task token (`plugins.local.secrets`) are made the uid's. Object stores (s3://, gs://) are not paths:
their data is not fenced here (their credentials are the store's concern); only local paths are.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from flyteidl_py.core import literals_pb2
from flyteplane.errors import FlyteplaneError
from plugins.common.command import local_path
from plugins.config import IsolationConfig
from plugins.local.protocol import Sandbox

TABLE = Path(".isolation") / "uids.json"
# Capabilities (bit numbers in /proc/self/status CapEff) the plane needs to fence tasks in.
_NEEDED_CAPABILITIES = {"CAP_CHOWN": 0, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SYS_ADMIN": 21}
TASK_USER = "flyteplane-task"


class IsolationUnavailable(FlyteplaneError):
    """`isolation.mode: users` on a plane that lacks the privileges to run tasks as other users."""


def missing_privileges(status: str | None = None) -> list[str]:
    """What this process lacks to isolate tasks: root, and the capabilities it uses. `status`: /proc/self/status."""
    if status is None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return ["/proc/self/status (not Linux?)"]
    missing = [] if os.geteuid() == 0 else ["root (euid 0)"]
    effective = 0
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            effective = int(line.split()[1], 16)
    missing.extend(name for name, bit in _NEEDED_CAPABILITIES.items() if not effective >> bit & 1)
    return missing


def check_privileges(config: IsolationConfig) -> None:
    """Raises IsolationUnavailable, naming what is missing, when isolation is on but cannot be had."""
    if config.mode == "off":
        return
    missing = missing_privileges()
    if missing:
        raise IsolationUnavailable(
            f"propeller.plugins.backends.local.isolation.mode is {config.mode!r}, which runs each project's tasks as a "
            f"user of its own, but this process lacks {', '.join(missing)}: run the plane as root (with those "
            "capabilities), or set isolation.mode to 'off'"
        )


def assign_uid(table: dict[str, int], project: str, config: IsolationConfig) -> int:
    """The project's uid from `table`, or the next free one (added to `table`); ValueError when none is left."""
    if project in table:
        return table[project]
    taken = set(table.values())
    for uid in range(config.uid_base, config.uid_base + config.uid_count):
        if uid not in taken:
            table[project] = uid
            return uid
    raise ValueError(f"no free uid left for project {project!r} in isolation's {config.uid_count} uids")


def project_uid(work_dir: Path, project: str, config: IsolationConfig) -> int:
    """The project's uid, recorded in `<work_dir>/.isolation/uids.json` under a lock (engines of one machine share
    it). Blocking: call it off the event loop."""
    path = work_dir / TABLE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (path.parent / "uids.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            table = json.loads(path.read_text())
        except FileNotFoundError:
            table = {}
        if project in table:
            return int(table[project])
        uid = assign_uid(table, project, config)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(json.dumps(table))
        os.replace(temp, path)
        return uid


def literal_paths(literals: literals_pb2.LiteralMap) -> list[str]:
    """The local paths the literals reference (blobs, dataframes, offloaded literals): what a task reads from."""
    found: list[str] = []

    def walk(literal: literals_pb2.Literal) -> None:
        kind = literal.WhichOneof("value")
        if literal.HasField("offloaded_metadata"):
            found.append(literal.offloaded_metadata.uri)
        if kind == "scalar":
            scalar = literal.scalar
            if scalar.HasField("blob"):
                found.append(scalar.blob.uri)
            elif scalar.HasField("structured_dataset"):
                found.append(scalar.structured_dataset.uri)
            elif scalar.HasField("union"):
                walk(scalar.union.value)
        elif kind == "collection":
            for item in literal.collection.literals:
                walk(item)
        elif kind == "map":
            for item in literal.map.literals.values():
                walk(item)

    for literal in literals.literals.values():
        walk(literal)
    return [path for path in (local_path(uri) for uri in found if uri) if path.startswith("/")]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _ancestors(path: str) -> Iterator[str]:
    """`/a/b/c` -> `/a`, `/a/b` (not `/`, not the path itself)."""
    parts = Path(path).parts[1:-1]
    for i in range(1, len(parts) + 1):
        yield "/" + "/".join(parts[:i])


def _traversable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & stat.S_IXOTH)
    except OSError:
        return True  # not there: nothing to hide (its parent's check decides)


def plan_sandbox(
    uid: int,
    hide: Iterable[str],
    expose: Iterable[tuple[str, bool]],
    scratch: str = "/tmp",
    traversable: Callable[[str], bool] = _traversable_by_others,
) -> Sandbox:
    """The sandbox of a task of `uid`: `hide` (and every directory on the way to an exposed path that others cannot
    traverse) covered by a tmpfs, `scratch` by a fresh one anyone may write to, then each exposed (path, writable)
    shown again, parents first. Pure but for `traversable` (by default a look at each directory's mode)."""
    exposed: dict[str, bool] = {}
    for given, writable in expose:
        path = os.path.normpath(given)
        exposed[path] = exposed.get(path, False) or writable
    scratch = os.path.normpath(scratch)
    hidden = {os.path.normpath(path) for path in (*hide, scratch)}
    for path in exposed:
        for ancestor in _ancestors(path):
            if any(_under(ancestor, h) for h in hidden):
                break  # a tmpfs (0755) covers the rest of the way
            if not traversable(ancestor):
                hidden.add(ancestor)
                break
    # A hidden directory under another one is hidden already (and gone from view once its parent's tmpfs is there).
    minimal = sorted(h for h in hidden if not any(h != o and _under(h, o) for o in hidden))
    # Only what lies under a hidden directory needs showing again; the rest is where it always was.
    shown = sorted(
        ([path, writable] for path, writable in exposed.items() if any(_under(path, h) for h in minimal)),
        key=lambda item: (str(item[0]).count("/"), str(item[0])),
    )
    sandbox: Sandbox = {"uid": uid, "gid": uid, "hide": minimal, "expose": shown}
    if scratch in minimal:
        sandbox["scratch"] = [scratch]
    return sandbox


def prepare_attempt(attempt: Path, uid: int, writable_dirs: Sequence[Path], owned_files: Sequence[Path]) -> None:
    """Gives the attempt's own places to its uid: `writable_dirs` (created if missing) become the uid's, mode 0700;
    `owned_files` (and what lies under them: the secrets directory) the uid's; the attempt directory stays root's,
    traversable (0711) so the task reaches its own places. Blocking: call it off the event loop."""
    attempt.chmod(0o711)
    for directory in writable_dirs:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(directory, uid, uid)
        directory.chmod(0o700)
    for path in owned_files:
        with contextlib.suppress(FileNotFoundError):
            os.chown(path, uid, uid)
            if path.is_dir():
                for root, dirs, files in os.walk(path):
                    for name in (*dirs, *files):
                        os.chown(os.path.join(root, name), uid, uid)


def seal(directories: Sequence[Path], gid: int) -> list[str]:
    """Takes back what an isolated task wrote (its output and raw-output prefixes) once it is over: everything there
    becomes root's, readable by the project's group `gid` alone (the project's later tasks read it as inputs), so no
    process of the uid changes it while the plane reads it; then removes and returns the symbolic links found there.
    The plane reads those files as root, and a link -- to another execution's outputs in the store, say -- would
    have it hand the task's project data the task itself could not read. Blocking."""

    def take(path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.lchown(path, 0, gid)
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode):
                os.chmod(path, 0o750)
            elif stat.S_ISREG(info.st_mode):
                os.chmod(path, 0o640)

    for directory in directories:
        for root, dirs, files in os.walk(directory):
            take(root)
            for name in (*dirs, *files):
                take(os.path.join(root, name))
    links: list[str] = []
    for directory in directories:  # again, now that nothing there can change: what was added meanwhile is seen
        for root, dirs, files in os.walk(directory):
            for name in (*dirs, *files):
                path = os.path.join(root, name)
                if os.path.islink(path):
                    os.unlink(path)
                    links.append(path)
    return links
