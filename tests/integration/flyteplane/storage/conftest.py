"""Fixtures that start real storage servers on free loopback ports, and a `Storage` using all of them.

moto's S3 server and gcp-storage-emulator run as subprocesses of this interpreter (`python -m ...`),
so a checkout with `pip install -e .[dev]` needs nothing else; the local signed-URL app runs under
uvicorn in a thread.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs
from pydantic import SecretStr

from flyteplane.storage import GCSConfig, S3Config, Storage, StorageConfig
from flyteplane.storage.http import signed_url_app

BACKENDS = ("file", "s3", "gs")
S3_KEY = "flyteplane-test"
S3_SECRET = "flyteplane-test-secret"
SIGNING_SECRET = "flyteplane-test-signing-secret"
MiB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(command: list[str], ready_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Starts `command` (logging to `log`) and waits until `ready_url` answers HTTP."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[2]} exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(ready_url, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[2]} did not answer on {ready_url} within 60 s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's standalone S3 server (`python -m moto.server`), in its own process."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = _start_server(command, f"{endpoint}/moto-api/", tmp_path_factory.mktemp("moto") / "log")
    yield endpoint
    _stop(process)


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gcp-storage-emulator (`python -m gcp_storage_emulator start`), in memory, in its own process."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "gcp_storage_emulator",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--in-memory",
        "--quiet",
    ]
    process = _start_server(command, f"{endpoint}/", tmp_path_factory.mktemp("gcs") / "log")
    yield endpoint
    _stop(process)


@pytest.fixture(scope="session")
def service_account_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, rsa.RSAPrivateKey]:
    """A throwaway service-account JSON key made locally (no Google involved), for V4 URL signing."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": "flyteplane-test",
        "private_key_id": "test-key",
        "private_key": pem.decode(),
        "client_email": "signer@flyteplane-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",  # never used: API calls are anonymous
    }
    path = tmp_path_factory.mktemp("gcs-key") / "service-account.json"
    path.write_text(json.dumps(info))
    return path, key


@pytest.fixture(scope="session")
def http_socket() -> Iterator[socket.socket]:
    """The loopback socket the signed-URL server will listen on, bound first so its URL is known."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def storage_config(
    tmp_path_factory: pytest.TempPathFactory,
    moto_endpoint: str,
    gcs_endpoint: str,
    service_account_key: tuple[Path, rsa.RSAPrivateKey],
    http_socket: socket.socket,
) -> StorageConfig:
    port = http_socket.getsockname()[1]
    return StorageConfig(
        local_root=tmp_path_factory.mktemp("store"),
        # Small parts and chunks, so that test objects of tens of MiB span several of them.
        s3=S3Config(
            endpoint_url=moto_endpoint,
            access_key_id=S3_KEY,
            secret_access_key=SecretStr(S3_SECRET),
            multipart_part_size=5 * MiB,
        ),
        gcs=GCSConfig(
            endpoint_url=gcs_endpoint,
            project="flyteplane-test",
            anonymous=True,
            service_account_file=service_account_key[0],
            upload_chunk_size=4 * MiB,
        ),
        signing_secret=SecretStr(SIGNING_SECRET),
        public_base_url=f"http://127.0.0.1:{port}",
        max_upload_bytes=64 * MiB,
    )


@pytest.fixture(scope="session")
def storage(storage_config: StorageConfig) -> Storage:
    return Storage(storage_config)


@pytest.fixture(scope="session")
def signed_url_server(storage_config: StorageConfig, http_socket: socket.socket) -> Iterator[str]:
    """`signed_url_app` served by uvicorn in a thread of its own; yields its base URL. The app gets its
    own `Storage` (same config and secret), as it would in admin's process."""
    app = signed_url_app(Storage(storage_config))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [http_socket]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield storage_config.public_base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )


@pytest.fixture(scope="session")
def gcs_client(gcs_endpoint: str) -> Any:
    return gcs.Client(
        project="flyteplane-test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": gcs_endpoint},
    )


@pytest.fixture
def new_base(storage_config: StorageConfig, s3_client: Any, gcs_client: Any) -> Callable[[str], str]:
    """Makes an empty place to write to in a backend: a fresh bucket (s3, gs) or directory (file)."""

    def make(backend: str) -> str:
        name = f"t-{uuid.uuid4().hex[:20]}"
        if backend == "file":
            return f"file://{storage_config.local_root.as_posix()}/{name}"
        if backend == "s3":
            s3_client.create_bucket(Bucket=name)
            return f"s3://{name}"
        gcs_client.create_bucket(name)
        return f"gs://{name}"

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def base(backend: str, new_base: Callable[[str], str]) -> str:
    """An empty prefix in each backend in turn (the test runs once per backend)."""
    return new_base(backend)
