"""A real single-node Kubernetes cluster on this machine, for the tests and by hand (`scripts/k8s-node.sh`).

etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd and a kubelet, as this
user's processes (root: the kubelet and runc need it). The Kubernetes commands are built once from
the Go module in `kube_node_module/` (v1.34.x: the last kubelet that runs on cgroup v1) and cached beside
the tests' virtualenvs; the rest are Debian packages (`scripts/setup-test-services.sh`, or installed
here when missing). The images are local and never pulled: a sandbox image whose one binary sleeps
until SIGTERM, and a task image (Debian's python3 from debootstrap with a virtualenv holding
flytekit), both built once into cached archives and imported into this node's own containerd.

Everything a node writes lives in its directory: etcd's data, containerd's root and state and its
socket, the kubelet's root, pod logs and certificates, and a kubeconfig for kubectl. Its cgroups live
under a root of their own, so `down` leaves no process, mount or cgroup behind, and two nodes (a
developer's and a test run's) can run side by side on different ports. `down` also puts back the kernel
settings the kubelet changes (overcommit, panic on oops, ...); the kubelet's iptables chains stay (the next
kubelet reuses them): KUBE-KUBELET-CANARY and KUBE-IPTABLES-HINT empty, KUBE-FIREWALL with its one rule
dropping new connections to 127.0.0.0/8 from other source addresses.

Facts of this machine the configuration answers (issue 23): cgroup v1 and no systemd
(`cgroupDriver: cgroupfs`), no swap accounting (`failSwapOn: false`), and root without
CAP_SYS_RESOURCE (containerd's `restrict_oom_score_adj`, else every sandbox fails with "can't get
final child's PID from pipe: EOF").
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.support.paths import FLYTEKIT_VERSION
from tests.support.venvs import cache_root

KUBERNETES_VERSION = "v1.34.4"
MODULE_DIR = Path(__file__).with_name("kube_node_module")
COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl")
# What the node needs from Debian, by the command (or file) that shows it is installed.
DEBIAN_PACKAGES = {
    "containerd": "containerd",
    "runc": "runc",
    "etcd": "etcd-server",
    "umoci": "umoci",
    "skopeo": "skopeo",
    "debootstrap": "debootstrap",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
}
CNI_BIN_DIR = Path("/usr/lib/cni")
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
TOKEN = "flyteplane-node-token"
NODE_NAME = "flyteplane-node"
# How long a new namespace may take to get its `default` service account (the controller manager makes it).
SERVICE_ACCOUNT_SECONDS = 60.0
PAUSE_IMAGE = "localhost/flyteplane/pause:1"
TASK_IMAGE = f"localhost/flyteplane/flytekit:{FLYTEKIT_VERSION}"
# What the task image's virtualenv holds: flytekit as the suite pins it.
TASK_REQUIREMENTS = (f"flytekit=={FLYTEKIT_VERSION}",)
CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBELET_SYSCTLS = (
    "vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes", "net.ipv4.ip_forward",
)  # fmt: skip
PORT_NAMES = ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kubelet", "kubelet_healthz")


class Unavailable(RuntimeError):
    """A node cannot be had on this machine (not root, no Go, a package missing); the message says why."""


@dataclass(frozen=True)
class Node:
    """A running node: how to reach its API server, and where it keeps everything."""

    directory: Path
    api_url: str
    token: str
    kubeconfig: Path
    ports: dict[str, int]
    pids: dict[str, int]
    # The machine's kernel settings before the kubelet set its own (restored by `down`).
    sysctls: dict[str, str] = field(default_factory=dict)

    def kubectl(self, *args: str, check: bool = True) -> str:
        """`kubectl` against this node; its standard output."""
        done = subprocess.run(
            [str(binaries()["kubectl"]), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def namespace(self, name: str) -> None:
        """Namespace `name` exists, with the `default` service account pods need (created by the controller manager
        just after the namespace)."""
        if not self.kubectl("get", "namespace", name, "--ignore-not-found", "-o", "name"):
            self.kubectl("create", "namespace", name)
        # Polled: `kubectl wait` fails at once (NotFound) when the account is not there yet.
        deadline = time.monotonic() + SERVICE_ACCOUNT_SECONDS
        while not self.kubectl("get", "serviceaccount", "default", "-n", name, "--ignore-not-found", "-o", "name"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"namespace {name} got no default service account in {SERVICE_ACCOUNT_SECONDS:.0f}s")
            time.sleep(0.2)

    def save(self) -> None:
        data = {**asdict(self), "directory": str(self.directory), "kubeconfig": str(self.kubeconfig)}
        (self.directory / "node.json").write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Node | None:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((directory / "node.json").read_text())
            return cls(
                directory=Path(data["directory"]), api_url=data["api_url"], token=data["token"],
                kubeconfig=Path(data["kubeconfig"]), ports=dict(data["ports"]), pids=dict(data["pids"]),
                sysctls=dict(data.get("sysctls", {})),
            )  # fmt: skip
        return None


# -- what the node is made of ---------------------------------------------------------------------------


def _run(args: list[str], *, what: str, timeout: float = 1800, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=timeout, **kwargs)
    if done.returncode != 0:
        raise Unavailable(f"{what} failed ({' '.join(args[:4])} ...):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return done


def ensure_debian_packages() -> None:
    """The Debian packages the node runs on, installed now when missing (as root)."""
    missing = sorted(
        {pkg for probe, pkg in DEBIAN_PACKAGES.items() if not (shutil.which(probe) or Path(probe).exists())}
    )
    if not missing:
        return
    if os.geteuid() != 0:
        raise Unavailable(f"a node needs root and the Debian packages {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for refresh in (False, True):
        if refresh:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False, env=env)
        install = ["apt-get", "install", "-y", "-qq", *missing]
        done = subprocess.run(install, capture_output=True, text=True, check=False, env=env)
        if done.returncode == 0:
            return
    raise Unavailable(f"installing {' '.join(missing)} failed:\n{done.stderr[-3000:]}")


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise Unavailable("no Go toolchain to build the Kubernetes commands with")
    return go


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()[:12]


def _module_key() -> str:
    """What the built commands depend on, whatever the checkout's path: the module's pins and the pause source."""
    return _digest(*((MODULE_DIR / name).read_bytes() for name in ("go.mod", "go.sum", "tools.go", "pause/main.go")))


def binaries() -> dict[str, Path]:
    """The Kubernetes commands and the sandbox's pause binary, built once (minutes cold, seconds with Go's cache)."""
    directory = cache_root() / f"kube-node-{KUBERNETES_VERSION}-{_module_key()}"
    found = {name: directory / name for name in (*COMMANDS, "pause")}
    if all(path.exists() for path in found.values()):
        return found
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(path.exists() for path in found.values()):
            go = _go()
            staging = directory / "build"
            staging.mkdir(exist_ok=True)
            _run([go, "build", "-o", f"{staging}/", *(f"k8s.io/kubernetes/cmd/{c}" for c in COMMANDS)],
                 what="building the Kubernetes commands", cwd=MODULE_DIR)  # fmt: skip
            # Static, so the sandbox image needs nothing but this one file.
            _run([go, "build", "-o", str(staging / "pause"), "./pause"], what="building pause", cwd=MODULE_DIR,
                 env={**os.environ, "CGO_ENABLED": "0"})  # fmt: skip
            for name, path in found.items():
                (staging / name).rename(path)
            staging.rmdir()
    return found


def _image_archive(name: str, key: str) -> Path:
    return cache_root() / "kube-node-images" / f"{name}-{key}.tar"


def _oci_to_archive(layout: Path, tag: str, reference: str, target: Path) -> None:
    staging = target.with_suffix(".tmp")
    staging.unlink(missing_ok=True)
    _run(["skopeo", "copy", "--quiet", f"oci:{layout}:{tag}", f"docker-archive:{staging}:{reference}"],
         what=f"exporting {reference}")  # fmt: skip
    staging.rename(target)


def pause_image_archive() -> Path:
    """A docker-archive of the sandbox image: the static `pause` binary as its entrypoint."""
    pause = binaries()["pause"]
    key = _digest(pause.read_bytes())
    target = _image_archive("pause", key)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".pause.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            work = target.parent / f"pause-{key}.work"
            shutil.rmtree(work, ignore_errors=True)
            (work / "rootfs").mkdir(parents=True)
            shutil.copy2(pause, work / "rootfs" / "pause")
            layout = work / "layout"
            _run(["umoci", "init", "--layout", str(layout)], what="umoci init")
            _run(["umoci", "new", "--image", f"{layout}:pause"], what="umoci new")
            _run(["umoci", "insert", "--image", f"{layout}:pause", str(work / "rootfs" / "pause"), "/pause"],
                 what="umoci insert")  # fmt: skip
            _run(["umoci", "config", "--image", f"{layout}:pause", "--config.entrypoint", "/pause"],
                 what="umoci config")  # fmt: skip
            _oci_to_archive(layout, "pause", PAUSE_IMAGE, target)
            shutil.rmtree(work, ignore_errors=True)
    return target


def task_image_archive(
    requirements: tuple[str, ...] = TASK_REQUIREMENTS,
    reference: str = TASK_IMAGE,
    *,
    venv: Path | None = None,
    debian_packages: tuple[str, ...] = (),
) -> Path:
    """A docker-archive of an image `reference`: Debian's python3 (debootstrap) with /opt/venv holding `requirements`.

    Built once per requirement set and reference (a few minutes: debootstrap and pip download from their registries).
    With `venv` (a virtualenv of this machine's Python 3.11 that pip filled with `requirements`), its installed
    packages are copied instead of downloaded again: the same wheels, and no second download of a large set.
    """
    # The suite's task image keeps the key it had before images were named (its cached archive stays valid).
    named = (
        () if reference == TASK_IMAGE else (reference.encode(), str(venv).encode(), *map(str.encode, debian_packages))
    )
    key = _digest(DEBIAN_SUITE.encode(), *(r.encode() for r in requirements), *named)
    target = _image_archive("task", key)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".task-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            work = target.parent / f"task-{key}.work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            rootfs = work / "rootfs"
            include = ",".join(("python3", "python3-venv", "ca-certificates", *debian_packages))
            _run(["debootstrap", "--variant=minbase", f"--include={include}", DEBIAN_SUITE, str(rootfs),
                  DEBIAN_MIRROR], what="debootstrap")  # fmt: skip
            chroot = shutil.which("chroot") or "/usr/sbin/chroot"
            image_env = {"PATH": "/usr/bin:/bin", "HOME": "/root"}
            _run([chroot, str(rootfs), "/usr/bin/python3", "-m", "venv", "/opt/venv"], what="python3 -m venv",
                 env=image_env)  # fmt: skip
            if venv is not None:
                _copy_venv(venv, rootfs / "opt" / "venv")
            else:
                # The wheels come through this machine's pip (its index, proxy and certificates, the same Python
                # 3.11 and platform as the image's), then the image's own pip installs them offline.
                wheels = rootfs / "tmp" / "wheels"
                _run([sys.executable, "-m", "pip", "download", "-q", "--dest", str(wheels), "--only-binary=:all:",
                      *requirements], what="pip download")  # fmt: skip
                _run([chroot, str(rootfs), "/opt/venv/bin/pip", "install", "--no-index", "--find-links",
                      "/tmp/wheels", "--no-cache-dir", "-q", *requirements],
                     what="pip install in the task image", env=image_env)  # fmt: skip
                shutil.rmtree(wheels)
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                shutil.rmtree(rootfs / junk, ignore_errors=True)
            layout = work / "layout"
            _run(["umoci", "init", "--layout", str(layout)], what="umoci init")
            _run(["umoci", "new", "--image", f"{layout}:task"], what="umoci new")
            _run(["umoci", "insert", "--image", f"{layout}:task", str(rootfs), "/"], what="umoci insert")
            _run(["umoci", "config", "--image", f"{layout}:task",
                  "--config.env", "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "--config.env", "LANG=C.UTF-8", "--config.workingdir", "/root"],
                 what="umoci config")  # fmt: skip
            _oci_to_archive(layout, "task", reference, target)
            shutil.rmtree(work, ignore_errors=True)
    return target


def _copy_venv(source: Path, target: Path) -> None:
    """`source`'s installed packages and console scripts into the image's virtualenv `target` (same Python 3.11)."""
    packages = source / "lib" / "python3.11" / "site-packages"
    if not packages.is_dir():
        raise Unavailable(f"{source} is not a Python 3.11 virtualenv")
    shutil.copytree(packages, target / "lib" / "python3.11" / "site-packages", symlinks=True, dirs_exist_ok=True)
    interpreter = f"#!{source / 'bin' / 'python'}".encode()
    for script in (source / "bin").iterdir():
        if script.is_symlink() or not script.is_file() or (target / "bin" / script.name).exists():
            continue
        body = script.read_bytes()
        if body.startswith(interpreter):  # a console script: run by the image's interpreter instead
            body = b"#!/opt/venv/bin/python" + body[len(interpreter) :]
        (target / "bin" / script.name).write_bytes(body)
        (target / "bin" / script.name).chmod(0o755)


# -- bringing it up ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> dict[str, int]:
    """Free ports among the hundred from FLYTEPLANE_K8S_NODE_PORT_BASE (a developer's range), else any free ones.

    A range is searched rather than used as is: on a busy machine its ports may be in use as the ephemeral
    source ports of other connections.
    """
    base = os.environ.get("FLYTEPLANE_K8S_NODE_PORT_BASE")
    if not base:
        return {name: _free_port() for name in PORT_NAMES}
    free = [port for port in range(int(base), int(base) + 100) if _bindable(port)]
    if len(free) < len(PORT_NAMES):
        raise Unavailable(f"fewer than {len(PORT_NAMES)} free ports from {base}")
    return dict(zip(PORT_NAMES, free, strict=False))


def _start(directory: Path, name: str, args: list[str]) -> int:
    """Starts `args` in its own session (it outlives a `k8s-node.sh up`), logging to <directory>/logs/<name>.log."""
    (directory / "logs").mkdir(exist_ok=True)
    with (directory / "logs" / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=directory)  # fmt: skip
    return process.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie child of this process counts as gone.
    with contextlib.suppress(ChildProcessError):
        finished, _ = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    return True


def _ours(pid: int, directory: Path) -> bool:
    """Whether `pid` is a live process of the node in `directory` (every one names the directory in its arguments)."""
    with contextlib.suppress(OSError):
        return _alive(pid) and str(directory).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def _log_tail(directory: Path, name: str) -> str:
    with contextlib.suppress(OSError):
        return (directory / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
    return ""


def _wait(what: str, ready: Any, directory: Path, pid: int, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise Unavailable(f"{what} exited:\n{_log_tail(directory, name)}")
        with contextlib.suppress(OSError, urllib.error.URLError, subprocess.SubprocessError):
            if ready():
                return
        time.sleep(0.2)
    raise Unavailable(f"{what} not ready in {timeout:.0f} s:\n{_log_tail(directory, name)}")


def _api_get(url: str, path: str) -> Any:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, context=context, timeout=5) as answer:
        body = answer.read()
        return json.loads(body) if body.startswith(b"{") else body.decode()


def _kubeconfig(path: Path, url: str) -> Path:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "node",
        "clusters": [{"name": "node", "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "admin", "user": {"token": TOKEN}}],
        "contexts": [{"name": "node", "context": {"cluster": "node", "user": "admin"}}],
    }))  # fmt: skip
    return path


def node_ip(ports: Mapping[str, int]) -> str:
    """The node's address: the kubelet refuses a loopback one, so a private address of its own on `lo` (reachable
    from this machine only), where the kubelet listens and the API server reaches it for logs."""
    return f"10.245.{ports['kubelet'] % 250}.1"


def _cgroup_root(ports: Mapping[str, int]) -> str:
    return f"/flyteplane-node-{ports['kubelet']}"


NODE_CPU_SHARES = 4096


def _make_cgroup_root(name: str) -> None:
    """The kubelet's cgroup root in every v1 hierarchy; cpuset needs its CPUs and memory nodes before use."""
    for hierarchy in CGROUP_ROOT.iterdir():
        if not (hierarchy / "cgroup.procs").exists():
            continue
        target = hierarchy / name.lstrip("/")
        target.mkdir(exist_ok=True)
        for inherited in ("cpuset.cpus", "cpuset.mems"):
            if (hierarchy / inherited).exists():
                (target / inherited).write_text((hierarchy / inherited).read_text())
        if (target / "cpu.shares").exists():
            # The weight of as many processes as pods run at once (the tests' four), not of one: at the default
            # 1024, a node's pods got ~1% of a core each for minutes beside a busy test worker's own processes.
            (target / "cpu.shares").write_text(str(NODE_CPU_SHARES))


def _remove_cgroup_root(name: str) -> None:
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / name.lstrip("/")
        if not top.is_dir():
            continue
        for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def _containerd_config(directory: Path, ports: Mapping[str, int]) -> Path:
    cni = directory / "cni"
    (cni / "net.d").mkdir(parents=True, exist_ok=True)
    # The bridge network pods without hostNetwork get; its own bridge, subnet and IPAM store per node.
    third = ports["kubelet"] % 250
    (cni / "net.d" / "10-flyteplane.conflist").write_text(json.dumps({
        "cniVersion": "1.0.0", "name": f"flyteplane-{ports['kubelet']}",
        "plugins": [
            {"type": "bridge", "bridge": f"fpk{ports['kubelet']}", "isGateway": True, "ipMasq": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": f"10.244.{third}.0/24"}]],
                      "dataDir": str(cni / "ipam"), "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }))  # fmt: skip
    config = directory / "containerd.toml"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    config.write_text(f"""version = 2
root = "{directory / "containerd" / "root"}"
state = "{directory / "containerd" / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{directory / "containerd.sock"}"
[ttrpc]
  address = "{directory / "containerd.sock.ttrpc"}"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{directory / "containerd" / "opt"}"
[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_cdi = false
  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [{cri}.cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni / "net.d"}"
""")
    return config


def _kubelet_config(directory: Path, ports: Mapping[str, int]) -> Path:
    config = directory / "kubelet.json"
    config.write_text(json.dumps({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": node_ip(ports), "port": ports["kubelet"], "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": ports["kubelet_healthz"],
        "containerRuntimeEndpoint": f"unix://{directory / 'containerd.sock'}",
        "cgroupDriver": "cgroupfs", "cgroupRoot": _cgroup_root(ports), "failSwapOn": False,
        "podLogsDir": str(directory / "pod-logs"),
        "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},
        # The machine's disk and memory are shared with everything else; do not evict on its usual levels.
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False, "registerNode": True, "maxPods": 110,
        "volumePluginDir": str(directory / "volume-plugins"),
        "syncFrequency": "5s", "fileCheckFrequency": "20s", "nodeStatusUpdateFrequency": "5s",
    }))  # fmt: skip
    return config


def up(directory: Path) -> Node:
    """Brings a node up in `directory` (made fresh) and waits until it is Ready and images are in place."""
    if os.geteuid() != 0:
        raise Unavailable("a kubelet and runc need root")
    ensure_debian_packages()
    found = binaries()
    archives = [pause_image_archive(), task_image_archive()]
    etcd = shutil.which("etcd")
    containerd = shutil.which("containerd")
    if etcd is None or containerd is None:
        raise Unavailable("etcd or containerd is missing")
    down(directory)
    _clear(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ports = _ports()
    node = Node(directory=directory, api_url=f"https://127.0.0.1:{ports['apiserver']}", token=TOKEN,
                kubeconfig=directory / "kubeconfig", ports=ports, pids={})  # fmt: skip
    node.save()  # before anything starts: `down` finds what to stop even when `up` fails half way
    try:
        _up(node, found, archives, etcd, containerd)
    except BaseException:
        down(directory)
        raise
    return node


def _up(node: Node, found: dict[str, Path], archives: list[Path], etcd: str, containerd: str) -> None:
    directory, ports, pids = node.directory, node.ports, node.pids
    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
    pids["etcd"] = _start(directory, "etcd", [
        etcd, "--data-dir", str(directory / "etcd"), "--listen-client-urls", etcd_url,
        "--advertise-client-urls", etcd_url, "--listen-peer-urls", peer_url,
        "--initial-advertise-peer-urls", peer_url, "--initial-cluster", f"default={peer_url}",
    ])  # fmt: skip
    node.save()
    pids["containerd"] = _start(directory, "containerd",
                                [containerd, "--config", str(_containerd_config(directory, ports))])  # fmt: skip
    node.save()
    key = directory / "sa.key"
    _run(["openssl", "genrsa", "-out", str(key), "2048"], what="openssl genrsa")
    _run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(directory / "sa.pub")], what="openssl rsa")
    (directory / "tokens.csv").write_text(f"{TOKEN},admin,admin,system:masters\n")
    pids["apiserver"] = _start(directory, "apiserver", [
        str(found["kube-apiserver"]), f"--etcd-servers={etcd_url}", f"--secure-port={ports['apiserver']}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--cert-dir={directory / 'certs'}",
        f"--token-auth-file={directory / 'tokens.csv'}", "--authorization-mode=AlwaysAllow",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={directory / 'sa.pub'}", f"--service-account-signing-key-file={key}",
        "--service-cluster-ip-range=10.96.0.0/24", "--allow-privileged=true",
        "--kubelet-preferred-address-types=InternalIP",
    ])  # fmt: skip
    node.save()
    kubeconfig = _kubeconfig(node.kubeconfig, node.api_url)
    _wait("kube-apiserver", lambda: _api_get(node.api_url, "/readyz") == "ok", directory, pids["apiserver"],
          "apiserver", 120)  # fmt: skip
    common = [f"--kubeconfig={kubeconfig}", "--leader-elect=false", "--bind-address=127.0.0.1"]
    pids["controller_manager"] = _start(directory, "controller-manager", [
        str(found["kube-controller-manager"]), *common, f"--secure-port={ports['controller_manager']}",
        f"--root-ca-file={directory / 'certs' / 'apiserver.crt'}",
        f"--service-account-private-key-file={key}", "--use-service-account-credentials=false",
        "--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle",
    ])  # fmt: skip
    pids["scheduler"] = _start(directory, "scheduler", [
        str(found["kube-scheduler"]), *common, f"--secure-port={ports['scheduler']}",
    ])  # fmt: skip
    node.save()
    ctr = ["ctr", "--address", str(directory / "containerd.sock"), "-n", "k8s.io"]
    _wait("containerd", lambda: subprocess.run([*ctr, "version"], capture_output=True, check=False, timeout=5)
          .returncode == 0, directory, pids["containerd"], "containerd", 60)  # fmt: skip
    # containerd's root outlives the node (`_clear` keeps it): an archive is imported (and unpacked) once.
    imported = directory / "containerd" / "root" / "imported.json"
    done: list[str] = json.loads(imported.read_text()) if imported.exists() else []
    for archive in archives:
        if archive.name not in done:
            _run([*ctr, "images", "import", str(archive)], what=f"importing {archive.name}", timeout=600)
            imported.write_text(json.dumps([*done, archive.name]))
            done.append(archive.name)
    _make_cgroup_root(_cgroup_root(ports))
    subprocess.run(["ip", "addr", "add", f"{node_ip(ports)}/32", "dev", "lo"], capture_output=True, check=False)
    node.sysctls.update(_sysctls())
    node.save()
    pids["kubelet"] = _start(directory, "kubelet", [
        str(found["kubelet"]), f"--config={_kubelet_config(directory, ports)}", f"--kubeconfig={kubeconfig}",
        f"--root-dir={directory / 'kubelet'}", f"--hostname-override={NODE_NAME}", f"--node-ip={node_ip(ports)}",
    ])  # fmt: skip
    node.save()
    _wait("the node", lambda: _node_ready(node.api_url), directory, pids["kubelet"], "kubelet", 120)
    # Pods are admitted only once their namespace's `default` service account exists.
    account = "/api/v1/namespaces/default/serviceaccounts/default"
    _wait("the default service account", lambda: _api_get(node.api_url, account), directory,
          pids["controller_manager"], "controller-manager", 60)  # fmt: skip


def _clear(directory: Path) -> None:
    """Removes what a node left in `directory` but containerd's root: images imported once stay (its containers
    were removed by `down`)."""
    if not directory.exists():
        return
    for entry in [*directory.iterdir(), *directory.glob("containerd/*")]:
        if entry.name in ("containerd", "root") and entry.parent.name in (directory.name, "containerd"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def _sysctls() -> dict[str, str]:
    """The kernel settings a kubelet changes (its `protectKernelDefaults` list) and the bridge plugin's forwarding."""
    found = {}
    for name in KUBELET_SYSCTLS:
        with contextlib.suppress(OSError):
            found[name] = _sysctl_path(name).read_text().strip()
    return found


def _node_ready(url: str) -> bool:
    node = _api_get(url, f"/api/v1/nodes/{NODE_NAME}")
    conditions = node.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


# -- taking it down ---------------------------------------------------------------------------------------


def _stop(*pids: int, timeout: float = 15) -> None:
    """SIGTERM to each process group at once, SIGKILL to what is left after `timeout`; returns when all are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    while any(_alive(pid) for pid in pids):
        time.sleep(0.05)


def _mounts_under(directory: Path) -> list[str]:
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(directory) or point.startswith(f"{directory}/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def _shims(directory: Path) -> list[int]:
    """containerd-shim processes of this node's containerd (they outlive it unless their tasks are deleted)."""
    address = str(directory / "containerd.sock")
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and address.encode() in argv:
                found.append(int(proc.name))
    return found


def down(directory: Path) -> None:
    """Stops the node in `directory` and removes what it left on the machine (pods, mounts, cgroups, bridge)."""
    node = Node.load(directory)
    if node is None:
        return
    # Only processes of this node: after a reboot, a recorded pid may belong to anything.
    pids = {name: pid for name, pid in node.pids.items() if _ours(pid, directory)}
    if "apiserver" in pids and "kubelet" in pids and _alive(pids["kubelet"]):
        # The kubelet tears each pod's sandbox (and its network) down when the pod goes.
        with contextlib.suppress(Exception):
            node.kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force",
                         "--wait=false", check=False)  # fmt: skip
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and node.kubectl("get", "pods", "-A", "-o", "name", check=False):
                time.sleep(0.5)
    _stop(*(pids[name] for name in ("kubelet", "scheduler", "controller_manager") if name in pids))
    if "containerd" in pids and _alive(pids["containerd"]):
        ctr = ["ctr", "--address", str(directory / "containerd.sock"), "-n", "k8s.io"]
        tasks = subprocess.run([*ctr, "tasks", "ls", "-q"], capture_output=True, text=True, check=False)
        for task in tasks.stdout.split():
            subprocess.run([*ctr, "tasks", "kill", "-s", "SIGKILL", task], capture_output=True, check=False)
            subprocess.run([*ctr, "tasks", "delete", "-f", task], capture_output=True, check=False)
        # Pods' containers and their snapshots go; the images stay for the next node in this directory.
        containers = subprocess.run([*ctr, "containers", "ls", "-q"], capture_output=True, text=True, check=False)
        if containers.stdout.split():
            subprocess.run([*ctr, "containers", "delete", *containers.stdout.split()], capture_output=True, check=False)
    for shim in _shims(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(shim, signal.SIGKILL)
    _stop(*(pids[name] for name in ("containerd", "apiserver") if name in pids))
    _stop(*(pids[name] for name in ("etcd",) if name in pids))
    for point in _mounts_under(directory):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    _remove_cgroup_root(_cgroup_root(node.ports))
    subprocess.run(["ip", "addr", "del", f"{node_ip(node.ports)}/32", "dev", "lo"], capture_output=True, check=False)
    bridge = f"fpk{node.ports['kubelet']}"
    if Path(f"/sys/class/net/{bridge}").exists():
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True, check=False)
    for name, value in node.sysctls.items():
        with contextlib.suppress(OSError):
            _sysctl_path(name).write_text(value)
    (directory / "node.json").unlink(missing_ok=True)


def leftovers(directory: Path, ports: Mapping[str, int]) -> list[str]:
    """What a node in `directory` left on the machine after `down`: processes, mounts, cgroups, its bridge."""
    found = [f"mount {m}" for m in _mounts_under(directory)]
    found += [f"shim {pid}" for pid in _shims(directory)]
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and str(directory).encode() in (proc / "cmdline").read_bytes():
                found.append(f"process {proc.name}: {(proc / 'cmdline').read_bytes()[:200]!r}")
    found += [f"cgroup {h}" for h in CGROUP_ROOT.glob(f"*{_cgroup_root(ports)}")]
    addresses = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=False)
    if f" {node_ip(ports)}/" in addresses.stdout:
        found.append(f"address {node_ip(ports)} on lo")
    if Path(f"/sys/class/net/fpk{ports['kubelet']}").exists():
        found.append(f"bridge fpk{ports['kubelet']}")
    return found


def status(directory: Path) -> str:
    node = Node.load(directory)
    if node is None:
        return f"no node in {directory}"
    lines = [f"node in {directory}: API {node.api_url}, kubeconfig {node.kubeconfig}"]
    lines += [f"  {name}: pid {pid} {'running' if _alive(pid) else 'GONE'}" for name, pid in node.pids.items()]
    with contextlib.suppress(Exception):
        lines.append(node.kubectl("get", "nodes,pods", "-A", "-o", "wide", check=False))
    return "\n".join(lines)


# -- one node per test session ----------------------------------------------------------------------------


def _shared_directory() -> Path:
    return Path(os.environ.get("FLYTEPLANE_K8S_NODE_DIR") or cache_root() / "kube-node-run")


@contextlib.contextmanager
def shared_node() -> Iterator[Node]:
    """One node for every test process of this machine that wants one (pytest-xdist workers): the first brings it
    up, the last one out takes it down. Users are process ids, so a killed run's node is replaced, not reused."""
    directory = _shared_directory()
    directory.parent.mkdir(parents=True, exist_ok=True)
    lock_path = directory.parent / f".{directory.name}.lock"
    users_path = directory.parent / f".{directory.name}.users"

    def users() -> set[int]:
        with contextlib.suppress(OSError, ValueError):
            return {int(p) for p in users_path.read_text().split() if _alive(int(p))}
        return set()

    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        alive = users()
        node = Node.load(directory) if alive else None
        if node is None or not all(_ours(pid, directory) for pid in node.pids.values()):
            node = up(directory)
        alive.add(os.getpid())
        users_path.write_text(" ".join(map(str, sorted(alive))))
    try:
        yield node
    finally:
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            alive = users() - {os.getpid()}
            users_path.write_text(" ".join(map(str, sorted(alive))))
            if not alive:
                down(directory)
                _clear(directory)


def main(argv: list[str]) -> int:
    directory = Path(os.environ.get("FLYTEPLANE_K8S_NODE_DIR") or "/tmp/flyteplane-k8s-node")
    command = argv[0] if argv else "status"
    if command == "up":
        started = time.monotonic()
        node = up(directory)
        print(f"node up in {time.monotonic() - started:.1f} s: {node.api_url}")
        print(f"kubectl: {binaries()['kubectl']} --kubeconfig {node.kubeconfig} get pods -A")
        print(f"images: {PAUSE_IMAGE} (sandbox), {TASK_IMAGE} (tasks)")
    elif command == "down":
        node = Node.load(directory)
        started = time.monotonic()
        down(directory)
        print(f"node down in {time.monotonic() - started:.1f} s")
        if node is not None:
            left = leftovers(directory, node.ports)
            print("left behind: " + ("; ".join(left) if left else "nothing"))
        _clear(directory)
        print(f"kept: the imported images in {directory / 'containerd' / 'root'} (remove the directory to drop them)")
    elif command == "status":
        print(status(directory))
    elif command == "build":
        started = time.monotonic()
        print(binaries()["kubelet"].parent, pause_image_archive(), task_image_archive(), sep="\n")
        print(f"built in {time.monotonic() - started:.1f} s")
    else:
        print("usage: k8s-node.sh up|down|status|build", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
