"""How to reach a Kubernetes API server: the connection settings, and the client configuration they describe.

Shared by the Kubernetes backends (which create and watch task pods) and admin (which reads a pod's log
through the pod log API with the connection of the backend that ran it), so both read one schema.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

if TYPE_CHECKING:
    from kubernetes import client as k8s


class KubeConnection(BaseModel):
    """How to reach the Kubernetes API server. Precedence: `host`, then `in_cluster`, then a kubeconfig."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str | None = Field(default=None, description="API server URL, e.g. https://10.0.0.1:6443.")
    token: SecretStr | None = Field(default=None, description="Bearer token used with `host`.")
    ca_file: Path | None = Field(default=None, description="CA bundle for `host`; None: the system's.")
    verify_ssl: bool = True
    in_cluster: bool = Field(default=False, description="Use the pod's service account (KUBERNETES_SERVICE_HOST).")
    kubeconfig: Path | None = Field(default=None, description="None: $KUBECONFIG or ~/.kube/config.")
    context: str | None = Field(default=None, description="Kubeconfig context; None: the current one.")
    request_timeout_seconds: float = Field(default=30.0, gt=0)


def api_configuration(connection: KubeConnection) -> k8s.Configuration:
    """The client configuration `connection` describes (reads kubeconfig or service-account files: blocking)."""
    # Imported here: `kubernetes` takes about a second to import, and every `flyteplane` command reads this schema.
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    configuration = k8s.Configuration()
    if connection.host:
        configuration.host = connection.host.rstrip("/")
        if connection.token is not None:
            configuration.api_key = {"authorization": f"Bearer {connection.token.get_secret_value()}"}
        if connection.ca_file is not None:
            configuration.ssl_ca_cert = str(connection.ca_file)
        configuration.verify_ssl = connection.verify_ssl
    elif connection.in_cluster or (connection.kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST")):
        k8s_config.load_incluster_config(client_configuration=configuration)
    else:
        k8s_config.load_kube_config(
            config_file=str(connection.kubeconfig) if connection.kubeconfig else None,
            context=connection.context,
            client_configuration=configuration,
        )
    return configuration


@dataclass(frozen=True)
class HttpEndpoint:
    """An API server as a plain HTTP client needs it: base URL, TLS context and the Authorization header (if any)."""

    base_url: str
    tls: ssl.SSLContext | None
    authorization: str | None


def http_endpoint(connection: KubeConnection) -> HttpEndpoint:
    """The endpoint `connection` describes, for clients other than `kubernetes`' own (blocking: reads files).

    The bearer token is the one the configuration holds now (a caller that keeps the endpoint keeps the token).
    """
    configuration = api_configuration(connection)
    base_url = str(configuration.host).rstrip("/")
    tls: ssl.SSLContext | None = None
    if base_url.startswith("https://"):
        tls = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
        if not configuration.verify_ssl:
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        if configuration.cert_file:
            tls.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    bearer = configuration.auth_settings().get("BearerToken")
    authorization = str(bearer["value"]) if bearer and bearer.get("value") else None
    return HttpEndpoint(base_url, tls, authorization)
