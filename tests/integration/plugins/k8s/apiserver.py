"""A real kube-apiserver (with etcd) on loopback for the Kubernetes backends' tests, and a stand-in kubelet.

The apiserver is built once from the Kubernetes Go modules through the Go module proxy (the
module in `kube_apiserver/` pins v1.34.4 and the staging modules it replaces) and cached beside
the tests' virtualenvs; etcd is Debian's `etcd-server` (installed when missing and we are root).
Without a scheduler or kubelet nothing runs: `Kubelet` plays one by patching pod status, and the
CRDs in `tests/fixtures/crds/` are installed so SparkApplications and RayJobs are validated
by the API server itself (`fieldValidation=Strict` rejects unknown fields).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.paths import crds_dir
from tests.support.venvs import cache_root

KUBERNETES_VERSION = "v1.34.4"
MODULE_DIR = Path(__file__).resolve().parent / "kube_apiserver"
TOKEN = "flyteplane-test-token"


class Unavailable(RuntimeError):
    """The apiserver cannot be had on this machine (no Go toolchain, no etcd); the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def apiserver_binary() -> Path:
    """The kube-apiserver binary, built once (a few minutes the first time, cached by the module's go.sum)."""
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise Unavailable("no Go toolchain to build kube-apiserver with")
    key = subprocess.run(["sha256sum", str(MODULE_DIR / "go.sum")], capture_output=True, text=True, check=True)
    target = cache_root() / f"kube-apiserver-{KUBERNETES_VERSION}-{key.stdout[:12]}" / "kube-apiserver"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            build = subprocess.run(
                [go, "build", "-o", str(target.with_suffix(".tmp")), "k8s.io/kubernetes/cmd/kube-apiserver"],
                cwd=MODULE_DIR,
                capture_output=True,
                text=True,
                check=False,
            )
            if build.returncode != 0:
                raise Unavailable(f"building kube-apiserver failed:\n{build.stderr[-4000:]}")
            target.with_suffix(".tmp").rename(target)
    return target


def etcd_binary() -> Path:
    """etcd from PATH, else Debian's etcd-server installed now (as root; the package lists refreshed if needed)."""
    found = shutil.which("etcd")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for refresh in (False, True):
        if found is not None or os.geteuid() != 0:
            break
        if refresh:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "etcd-server"], capture_output=True, check=False, env=env)
        found = shutil.which("etcd")
    if found is None:
        raise Unavailable("no etcd (Debian package etcd-server) on this machine")
    return Path(found)


@dataclass(frozen=True)
class ApiServer:
    url: str
    token: str


def _ready(url: str, deadline: float, process: subprocess.Popen[bytes], log: Path) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"kube-apiserver exited: {log.read_text()[-3000:]}")
        request = urllib.request.Request(f"{url}/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
        with contextlib.suppress(OSError), urllib.request.urlopen(request, context=context, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise Unavailable(f"kube-apiserver not ready in time: {log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_apiserver(workdir: Path) -> Iterator[ApiServer]:
    """etcd and kube-apiserver on free loopback ports for the duration of the context."""
    binary = apiserver_binary()
    etcd = etcd_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    client_port, peer_port, secure_port = _free_port(), _free_port(), _free_port()
    etcd_log = (workdir / "etcd.log").open("wb")
    etcd_process = subprocess.Popen(
        [str(etcd), "--data-dir", str(workdir / "etcd"), "--listen-client-urls", f"http://127.0.0.1:{client_port}",
         "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
         "--initial-cluster", f"default=http://127.0.0.1:{peer_port}"],
        stdout=etcd_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    key = workdir / "sa.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(workdir / "sa.pub")],
                   check=True, capture_output=True)  # fmt: skip
    (workdir / "tokens.csv").write_text(f"{TOKEN},admin,admin,system:masters\n")
    log = workdir / "apiserver.log"
    apiserver_log = log.open("wb")
    process = subprocess.Popen(
        [str(binary), f"--etcd-servers=http://127.0.0.1:{client_port}", f"--secure-port={secure_port}",
         "--bind-address=127.0.0.1", f"--cert-dir={workdir / 'certs'}",
         f"--token-auth-file={workdir / 'tokens.csv'}", "--authorization-mode=AlwaysAllow",
         "--service-account-issuer=https://kubernetes.default.svc",
         f"--service-account-key-file={workdir / 'sa.pub'}",
         f"--service-account-signing-key-file={key}", "--service-cluster-ip-range=10.0.0.0/24",
         # No controller manager makes the `default` service accounts that admission plugin waits for.
         "--disable-admission-plugins=ServiceAccount"],
        stdout=apiserver_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"https://127.0.0.1:{secure_port}"
    try:
        _ready(url, time.monotonic() + 90, process, log)
        yield ApiServer(url, TOKEN)
    finally:
        for child in (process, etcd_process):
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        etcd_log.close()
        apiserver_log.close()


def crd_documents() -> list[dict[str, object]]:
    """The CustomResourceDefinitions of SparkApplication, RayJob and RayCluster (the reference data)."""
    documents = []
    for path in sorted(crds_dir().glob("*.yaml")):
        documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return documents
