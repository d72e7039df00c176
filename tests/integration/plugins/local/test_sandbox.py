"""An isolated task's sandbox as a process enters it (`plugins.local.sandbox`): what it then sees and may do.

Real namespaces and users (root only): a child process enters a sandbox planned by `plugins.local.isolation` and
reports, as JSON, what each action gave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from plugins.local.isolation import plan_sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a sandbox needs root")
ROOT = Path(__file__).resolve().parents[4]
UID = 640_123
CHILD = """
import json, os, sys
from plugins.local.sandbox import enter
enter(json.loads(sys.argv[1]))
def attempt(action):
    try:
        result = action()
        return "ok" if result is None else result
    except OSError as error:
        return type(error).__name__
report = {
    "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "secret": attempt(lambda: open(sys.argv[2]).read()),
    "shown": attempt(lambda: open(sys.argv[3] + "/input.txt").read()),
    "write_shown": attempt(lambda: open(sys.argv[3] + "/new.txt", "w").close()),
    "write_own": attempt(lambda: open(sys.argv[4] + "/out.txt", "w").write("x") and None),
    "shadow": attempt(lambda: open("/etc/shadow").read()),
    "root_again": attempt(lambda: os.setuid(0)),
    "planes_tmp": attempt(lambda: open(sys.argv[5]).read()),
    "own_tmp": attempt(lambda: open("/tmp/mine", "w").close()),
    "data": attempt(lambda: sorted(os.listdir(sys.argv[6]))),
    "planted_link": attempt(lambda: open(sys.argv[7]).read()),
}
print(json.dumps(report))
"""


def _enter(sandbox: Any, *args: str) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sandbox), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    report: dict[str, Any] = json.loads(finished.stdout)
    return report


def test_a_sandboxed_process_sees_only_what_is_shown_as_its_own_user_and_cannot_become_root_again(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "signing.pem").write_text("secret")
    shown = data / "store" / "inputs"
    shown.mkdir(parents=True)
    (shown / "input.txt").write_text("mine")
    own = data / "store" / "outputs"
    own.mkdir()
    os.chown(own, UID, UID)
    # What a task of the project could leave among its data, for a later task to be given as an input.
    planted = data / "store" / "planted"
    planted.symlink_to(data / "keys" / "signing.pem")
    planes_tmp = Path("/tmp") / f"plane-{uuid.uuid4().hex}"
    planes_tmp.write_text("the plane's")
    try:
        sandbox = plan_sandbox(UID, [str(data)], [(str(shown), False), (str(own), True), (str(planted), False)])
        report = _enter(
            sandbox, str(data / "keys" / "signing.pem"), str(shown), str(own), str(planes_tmp), str(data), str(planted)
        )
    finally:
        planes_tmp.unlink()
    assert (report["uid"], report["gid"], report["groups"]) == (UID, UID, [])
    assert report["secret"] == "FileNotFoundError"
    assert report["shown"] == "mine"
    assert report["write_shown"] in ("OSError", "PermissionError")  # read-only: EROFS
    assert report["write_own"] == "ok"
    assert (own / "out.txt").stat().st_uid == UID
    assert (own / "out.txt").stat().st_mode & 0o077 == 0  # umask 077: the uid's alone
    assert report["shadow"] == "PermissionError"
    assert report["root_again"] == "PermissionError"
    assert report["planes_tmp"] == "FileNotFoundError"  # a /tmp of its own
    assert report["own_tmp"] == "ok"
    assert report["data"] == ["store"]
    assert report["planted_link"] == "FileNotFoundError"  # a path reached through a link is not shown
