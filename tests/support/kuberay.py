"""KubeRay on the test node (tests/support/kube_node.py): its operator, cluster DNS for Ray head services, a Ray image.

The operator (`github.com/ray-project/kuberay/ray-operator`) and CoreDNS (only its `bind`, `errors` and
`kubernetes` plugins) are built once from the Go module in `kuberay_module/` and cached beside the node's
commands; the CRDs are the operator module's own (`config/crd/bases`). Both run on this machine as
processes of the test, out of cluster: the operator with the node's kubeconfig, reaching each Ray head's
dashboard through the API server's service proxy (`--use-kubernetes-proxy`: the head services' names
resolve only inside the cluster); CoreDNS on the node's address, port 53, answering the cluster's names.
KubeRay's head services are headless, so their names resolve to the head pods' own addresses and no
kube-proxy is needed: Ray pods run on the node's pod network (not the host's: a head and its workers
declare the same ports) with CoreDNS as their nameserver (`dns_pod_settings`).

The Ray image is the task image (Debian's python3 with a virtualenv) holding the suite's Ray task environment:
flytekit, flytekitplugins-ray and ray[default] as the other Ray tests use them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.plugins.task_envs import RAY_REQUIREMENTS, ray_venv
from tests.support.kube_node import Node, Unavailable, _digest, _go, _run, node_ip, task_image_archive
from tests.support.paths import FLYTEKIT_VERSION
from tests.support.venvs import cache_root

KUBERAY_VERSION = "v1.5.0"
MODULE_DIR = Path(__file__).with_name("kuberay_module")
OPERATOR_PACKAGE = "github.com/ray-project/kuberay/ray-operator"
# What the suite's other Ray tests use (tests/integration/plugins/task_envs.py): flytekit, its Ray plugin, ray[default].
RAY_VERSION = next(r.split("==")[1] for r in RAY_REQUIREMENTS if r.startswith("ray["))
RAY_IMAGE = f"localhost/flyteplane/ray:{RAY_VERSION}-flytekit-{FLYTEKIT_VERSION}"
CLUSTER_DOMAIN = "cluster.local"


def _module_key() -> str:
    names = ("go.mod", "go.sum", "tools.go", "clusterdns/main.go")
    return _digest(*((MODULE_DIR / name).read_bytes() for name in names))


def binaries() -> dict[str, Path]:
    """The KubeRay operator and the cluster DNS server, built once (about 15 min cold on a busy machine)."""
    directory = cache_root() / f"kuberay-{KUBERAY_VERSION}-{_module_key()}"
    found = {name: directory / name for name in ("ray-operator", "clusterdns")}
    if all(path.exists() for path in found.values()):
        return found
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(path.exists() for path in found.values()):
            staging = directory / "build"
            staging.mkdir(exist_ok=True)
            _run([_go(), "build", "-o", f"{staging}/", OPERATOR_PACKAGE, "./clusterdns"],
                 what="building the KubeRay operator and CoreDNS", cwd=MODULE_DIR)  # fmt: skip
            for name, path in found.items():
                (staging / name).rename(path)
            staging.rmdir()
    return found


def crds() -> list[Path]:
    """The operator module's CustomResourceDefinitions (RayCluster, RayJob, RayService)."""
    done = _run([_go(), "list", "-m", "-f", "{{.Dir}}", OPERATOR_PACKAGE], what="locating the KubeRay module",
                cwd=MODULE_DIR)  # fmt: skip
    found = sorted((Path(done.stdout.strip()) / "config" / "crd" / "bases").glob("ray.io_*.yaml"))
    if not found:
        raise Unavailable(f"no CRDs under {done.stdout.strip()}/config/crd/bases")
    return found


def ray_image_archive() -> Path:
    """A docker-archive of the Ray image, built once like the task image from the suite's Ray task environment, with
    `wget` for the health probes KubeRay gives Ray's containers."""
    return task_image_archive(tuple(RAY_REQUIREMENTS), RAY_IMAGE, venv=ray_venv(), debian_packages=("wget",))


def import_image(node: Node, archive: Path) -> None:
    """The image in `archive` imported into the node's containerd, once per containerd root (as the node does)."""
    ctr = ["ctr", "--address", str(node.directory / "containerd.sock"), "-n", "k8s.io"]
    imported = node.directory / "containerd" / "root" / "imported.json"
    with open(node.directory / ".import.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done: list[str] = json.loads(imported.read_text()) if imported.exists() else []
        if archive.name not in done:
            _run([*ctr, "images", "import", str(archive)], what=f"importing {archive.name}", timeout=900)
            imported.write_text(json.dumps([*done, archive.name]))


def dns_pod_settings(node: Node, namespace: str) -> dict[str, Any]:
    """Pod spec fields that make the node's CoreDNS a pod's nameserver, with the cluster's search domains."""
    return {
        "dnsPolicy": "None",
        "dnsConfig": {
            "nameservers": [node_ip(node.ports)],
            "searches": [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN],
            "options": [{"name": "ndots", "value": "5"}],
        },
    }


@dataclass(frozen=True)
class KubeRay:
    """The operator and DNS of one node, and where they log."""

    node: Node
    logs: Path
    pids: dict[str, int]

    def log(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]
        return ""


def _spawn(logs: Path, name: str, args: list[str], env: dict[str, str] | None = None) -> int:
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=logs, env=env)  # fmt: skip
    return process.pid


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            time.sleep(0.1)
            continue
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _free_local_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def kuberay(node: Node, logs: Path) -> Iterator[KubeRay]:
    """KubeRay on `node`: its CRDs applied, CoreDNS and the operator running until exit (the Ray image is imported
    apart: `import_image(node, ray_image_archive())`)."""
    found = binaries()
    for crd in crds():
        # Server-side: the CRDs are larger than client-side apply's annotation allows.
        node.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crd))
    for plural in ("rayclusters", "rayjobs", "rayservices"):
        node.kubectl("wait", "--for=condition=Established", f"crd/{plural}.ray.io", "--timeout=60s")
    address = node_ip(node.ports)
    corefile = logs / "Corefile"
    logs.mkdir(parents=True, exist_ok=True)
    corefile.write_text(
        f".:53 {{\n  bind {address}\n  errors\n  kubernetes {CLUSTER_DOMAIN} {{\n"
        f"    kubeconfig {node.kubeconfig} node\n  }}\n}}\n"
    )
    pids: dict[str, int] = {}
    try:
        pids["clusterdns"] = _spawn(logs, "clusterdns", [str(found["clusterdns"]), "-conf", str(corefile)])
        env = {**os.environ, "KUBECONFIG": str(node.kubeconfig)}
        pids["ray-operator"] = _spawn(logs, "ray-operator", [
            str(found["ray-operator"]), "--use-kubernetes-proxy", "--enable-leader-election=false",
            f"--metrics-addr=127.0.0.1:{_free_local_port()}",
            f"--health-probe-bind-address=127.0.0.1:{_free_local_port()}",
        ], env=env)  # fmt: skip
        running = KubeRay(node=node, logs=logs, pids=pids)
        deadline = time.monotonic() + 60
        started = '"logger":"controllers.RayJob","msg":"Starting workers"'
        while started not in (running.logs / "ray-operator.log").read_text(errors="replace"):
            for name, pid in pids.items():
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        raise RuntimeError(f"{name} exited:\n{running.log(name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the KubeRay operator did not start:\n{running.log('ray-operator')}")
            time.sleep(0.2)
        yield running
    finally:
        for pid in pids.values():
            _stop(pid)
