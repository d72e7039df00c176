"""Task isolation as a shared plane runs it: `flyteplane start --auth` as root with `isolation.mode: users`.

One plane, real flytekit, two projects. The owner's workflow passes a file from task to task (its data still
flows) and reads its own secret and task token; a task of another project is given the paths of that file, the
plane's databases, signing key and credential, and /etc/shadow, and reads none of them -- started cold, forked
from a fork server, and in reuse mode (which isolated attempts leave for the fork path) -- running as a uid that
is neither root's nor the owner's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
import pytest

from flyteidl_py.admin import project_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.credentials import plane_credential, presenting
from tests.e2e.test_sandbox import Sandbox, _client, _env, _wait
from tests.e2e.test_secrets_with_flytekit import _secrets_command

WORKFLOWS = Path(__file__).with_name("isolation_workflows")
INTRUDER = "intruder"
ISOLATED = {"mode": "users", "uid_base": 610_000}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")


def _outputs(answer: dict[str, object]) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap.FromString(base64.b64decode(str(answer["outputs"])))


async def _register_project(sandbox: Sandbox, project: str) -> None:
    port = sandbox.env["FLYTEPLANE_ADMIN__GRPC_PORT"]
    credential = plane_credential(None, sandbox.data_dir)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", interceptors=presenting(credential)) as channel:
        await admin_pb2_grpc.AdminServiceStub(channel).RegisterProject(
            project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=project, name=project))
        )


async def test_a_task_of_another_project_reads_neither_the_owners_data_nor_the_planes(
    tmp_path: Path, flytekit_venv: Path
) -> None:
    env = _env(flytekit_venv)
    plugins = json.loads(env["FLYTEPLANE_PROPELLER__PLUGINS"])
    plugins["backends"]["local"]["isolation"] = ISOLATED
    env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps(plugins)
    sandbox = Sandbox(tmp_path / "plane", ["--auth"], env)
    await sandbox.start()
    try:
        await _secrets_command(sandbox.data_dir, "create", "--project", "flytesnacks", "vault/key", value=b"sesame")
        owner = _client(sandbox, flytekit_venv, tmp_path / "owner")
        owner.add_package(WORKFLOWS, "isolation_workflows")
        await owner.run_remote("isolation_workflows/flows.py", "owner_wf", "--text", "for my eyes", name="owned")
        answer = await _wait(owner, "owned")
        assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
        outputs = _outputs(answer)
        assert outputs.literals["o1"].scalar.primitive.string_value == "for my eyes"
        own = json.loads(outputs.literals["o2"].scalar.primitive.string_value)
        assert own == {"secret": "sesame", "token": True}  # its secret file and task token are its uid's
        doubled = [item.scalar.primitive.integer for item in outputs.literals["o3"].collection.literals]
        assert doubled == [2, 4, 6]
        note = Path(outputs.literals["o0"].scalar.blob.uri.removeprefix("file://"))
        noted = await asyncio.to_thread(note.stat)
        owner_uid = noted.st_gid  # sealed once its task was over: root's, readable by the project's group alone
        assert noted.st_uid == 0 and owner_uid >= ISOLATED["uid_base"]
        assert stat.S_IMODE(noted.st_mode) == 0o640

        data = sandbox.data_dir
        secrets = [data / "admin.db", data / "propeller.db", data / "auth-signing-key.pem", data / "plane-credential"]
        assert all(await asyncio.gather(*(asyncio.to_thread(path.exists) for path in secrets)))
        targets = [str(note), str(note.parent), *map(str, secrets), "/etc/shadow", str(data)]
        await _register_project(sandbox, INTRUDER)
        intruder = replace(_client(sandbox, flytekit_venv, tmp_path / "intruder"), project=INTRUDER)
        intruder.add_package(WORKFLOWS, "isolation_workflows")
        await intruder.run_remote(
            "isolation_workflows/flows.py", "intruder_wf", "--paths", json.dumps(targets), name="intrusion"
        )
        answer = await _wait(intruder, "intrusion")
        assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
        outputs = _outputs(answer)
        for name in ("o0", "o1", "o2"):  # cold, fork, reuse
            probe = json.loads(outputs.literals[name].scalar.primitive.string_value)
            assert probe["uid"] not in (0, owner_uid), name
            assert probe["uid"] >= ISOLATED["uid_base"]
            outcomes = probe["outcomes"]
            assert set(outcomes) == set(targets)
            # The data directory is an empty tmpfs there, holding only the mount points of the task's own places.
            assert not {"admin.db", "propeller.db", "auth-signing-key.pem"} & set(outcomes.pop(str(data))), name
            assert set(outcomes.values()) <= {"PermissionError", "FileNotFoundError"}, (name, outcomes)
        # Each path did start attempts: cold (FLYTEPLANE_WARM=false), forked; reuse mode left for the fork path.
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{env['FLYTEPLANE_ADMIN__HTTP_PORT']}/metrics")).text
        counted = re.findall(r'^flyteplane_local_attempts_started_total\{how="(\w+)"\} (\S+)$', metrics, re.M)
        started = {how: float(value) for how, value in counted}
        assert started["cold"] >= 1 and started["fork"] >= 4 and started["reuse"] == 0, started
    finally:
        if sandbox.process is not None and sandbox.process.returncode is None:
            await sandbox.interrupt()


async def test_a_plane_without_roots_privileges_refuses_to_start_with_isolation_on(
    tmp_path: Path, flytekit_venv: Path
) -> None:
    env = _env(flytekit_venv)
    env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps({"backends": {"local": {"isolation": ISOLATED}}})
    process = await asyncio.create_subprocess_exec(
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        str(Path(sys.executable).with_name("flyteplane")), "start", "--data-dir", str(tmp_path / "plane"),
        "--no-task-env", "--no-agent-server",
        env=env, cwd="/", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, output.decode()
    assert "isolation.mode is 'users'" in output.decode()
    assert "lacks root (euid 0), CAP_CHOWN, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN" in output.decode()
