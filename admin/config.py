"""Admin's section of the configuration (`admin:`), and the part of the whole schema a standalone admin reads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from flyteplane.config import PlaneConfig, Section
from flyteplane.kube import KubeConnection

# The default texts of a notification (Flyte's placeholders; see admin.managers.notifications).
DEFAULT_SUBJECT = "Execution {{ project }}/{{ domain }}/{{ name }} has {{ phase }}"
DEFAULT_BODY = (
    "Execution {{ name }} in project {{ project }}, domain {{ domain }} has {{ phase }}. "
    "It ran workflow {{ workflow.name }} (version {{ workflow.version }}) from launch plan "
    "{{ launch_plan.name }} (version {{ launch_plan.version }}).{{ error }} Details: {{ link }}"
)


class SmtpConfig(Section):
    """The mail server e-mail (and PagerDuty, and Slack channel addresses) notifications go through."""

    host: str | None = None  # None: e-mail notifications are not sent (logged and counted as unsent)
    port: int = Field(default=587, ge=1, le=65535)
    # "starttls": upgrade a plain connection (port 587); "tls": TLS from the start (465); "none": plain.
    security: Literal["starttls", "tls", "none"] = "starttls"
    verify_tls: bool = True
    ca_file: Path | None = None  # a CA bundle for a private mail server; None: the system's
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "flyteplane@localhost"


class SlackConfig(Section):
    """Slack: an incoming webhook for notifications whose recipients are not webhook URLs themselves."""

    # None: a Slack recipient that is an https URL is posted to; any other is sent e-mail (Slack's
    # channel e-mail addresses, as Flyte does).
    webhook_url: str | None = None


class TemplatesConfig(Section):
    """The text of a notification; a notification's own `template` replaces the body."""

    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY


class RetryConfig(Section):
    """How the outbox retries a receiver that failed: exponential backoff from `base_seconds`."""

    base_seconds: float = Field(default=5.0, gt=0)
    max_seconds: float = Field(default=600.0, gt=0)
    max_attempts: int = Field(default=0, ge=0)  # 0: retry until delivered
    send_timeout_seconds: float = Field(default=20.0, gt=0)  # each SMTP session or HTTP request
    max_concurrent: int = Field(default=8, ge=1)  # deliveries in flight at once, per channel
    poll_interval_seconds: float = Field(default=1.0, gt=0)  # how often the outbox is read


class NotificationsConfig(Section):
    """E-mail, PagerDuty and Slack messages on execution phases (`admin.notifications`)."""

    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    templates: TemplatesConfig = Field(default_factory=TemplatesConfig)
    # Base of the execution links in messages; None: admin.console_url, else admin's HTTP address.
    console_url: str | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)


EventKind = Literal["workflow", "node", "task"]
EVENT_KINDS: tuple[EventKind, ...] = ("workflow", "node", "task")


class CloudEventsConfig(Section):
    """Execution events published to a webhook as CloudEvents (structured JSON), through the outbox."""

    enabled: bool = False
    sink_url: str | None = None  # required when enabled
    source: str = "flyteplane/admin"  # the CloudEvents `source` attribute
    event_types: list[EventKind] = Field(default_factory=lambda: list(EVENT_KINDS))

    @model_validator(mode="after")
    def _sink_when_enabled(self) -> CloudEventsConfig:
        if self.enabled and not self.sink_url:
            raise ValueError("cloud_events.sink_url is required when cloud_events.enabled is true")
        return self


class ConsoleConfig(Section):
    """The web console admin serves at /console (`admin.console`)."""

    enabled: bool = True
    # Where the built single-page app is (console/dist, built by scripts/setup.sh); None: the checkout's.
    dist_dir: Path | None = None
    # A link from an execution page to its trace, e.g. "http://jaeger:16686/trace/{trace_id}"; None: no link.
    trace_url_template: str | None = None

    @model_validator(mode="after")
    def _template_names_the_trace(self) -> ConsoleConfig:
        if self.trace_url_template is not None and "{trace_id}" not in self.trace_url_template:
            raise ValueError("console.trace_url_template must contain {trace_id}")
        return self


class LogsConfig(Section):
    """Task logs served on admin's HTTP port (`GET /api/v1/logs/...`, `admin.logs`)."""

    # Admin reads a log file only inside one of these directories (after resolving links), whatever
    # an event names. Empty: the task directories and the local store's root (where the local plugin
    # and the local store keep logs) -- never the whole data directory, which holds the databases,
    # the secrets key and the plane credential.
    roots: list[Path] = Field(default_factory=list)
    # Where the local plugin keeps its attempt directories (`plugins.backends.local.work_dir`): a map
    # element's live log is found there by its generated name. Empty: <data_dir>/local-tasks.
    task_dirs: list[Path] = Field(default_factory=list)
    # How often a followed log is looked at for new bytes, and its attempt for a terminal phase.
    poll_interval_seconds: float = Field(default=0.25, gt=0, le=10)
    # The Kubernetes API servers whose pods' logs admin reads (the pod log API), by the id of the backend an
    # attempt's events name (`k8s-pod`, `k8s-array`, ...): the connection that backend uses. `flyteplane` fills
    # it in from `propeller.plugins.backends.<id>.kube.connection` where the same file configures the backends;
    # `serve admin` alone needs it here. A pod of a backend not listed has no log admin can read (404).
    kubernetes: dict[str, KubeConnection] = Field(default_factory=dict)
    # The most one request without `follow` answers from a pod's log (the pod log API has no byte offsets:
    # each request reads the log from its start up to offset + this); the answer's offset header says where
    # to ask again from.
    pod_window_bytes: int = Field(default=4 * 1024 * 1024, gt=0, le=256 * 1024 * 1024)


class ExternalAuthConfig(Section):
    """An external OpenID Connect provider people log in with (`admin.auth.external`): flytekit and flytectl run
    PKCE or the device flow against it, and admin accepts its tokens, verified against its JWKS; or, with
    `admin.auth.people: built-in`, admin's own server sends people to it to say who they are."""

    issuer: str  # the provider's issuer URL; its discovery document is <issuer>/.well-known/openid-configuration
    # The `aud` values accepted in its tokens (its access tokens name the client they were issued to). Empty:
    # the client id.
    audiences: list[str] = Field(default_factory=list)
    client_id: str = "flytectl"  # the public client flytekit and flytectl log in as (PublicClientConfig)
    redirect_uri: str = "http://localhost:53593/callback"  # flytekit's PKCE callback
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email", "groups", "offline_access"])
    groups_claim: str = "groups"  # the claim listing a person's groups
    # The claim that names a person in executions and audit records (their `sub` when the token lacks it).
    principal_claim: str = "email"
    # Where to read the discovery document and keys, if not at the issuer (e.g. the provider's in-cluster name).
    discovery_url: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)


class RoleBinding(Section):
    """A role given to principals in some projects and domains ("*": all)."""

    role: Literal["viewer", "launcher", "admin"]
    subjects: list[str] = Field(default_factory=list)  # token principals: service client ids, people's emails
    groups: list[str] = Field(default_factory=list)  # groups from the identity provider's groups claim
    clients: list[str] = Field(default_factory=list)  # OAuth2 clients the token was issued to
    projects: list[str] = Field(default_factory=lambda: ["*"])
    domains: list[str] = Field(default_factory=lambda: ["*"])


class AuthorizationConfig(Section):
    """Roles per project and domain (`admin.auth.authorization`); off: every authenticated caller may do anything."""

    enabled: bool = False
    bindings: list[RoleBinding] = Field(default_factory=list)


class PublicClient(Section):
    """A public OAuth2 client people log in through at the built-in server (no secret: PKCE or the device flow)."""

    client_id: str
    # Where /oauth2/authorize may send the code back to (exact match), as flyteadmin's default `flytectl` client.
    redirect_uris: list[str] = Field(default_factory=list)


def _default_public_clients() -> list[PublicClient]:
    return [
        PublicClient(
            client_id="flytectl",
            redirect_uris=["http://localhost:53593/callback", "http://localhost:12345/callback"],
        )
    ]


class AuthConfig(Section):
    """Authentication (`admin.auth`): admin's built-in authorization server and the token every call must carry.

    The authorization server (token, revocation and JWKS endpoints) always answers, so what
    AuthMetadataService advertises is true; `enabled` makes every RPC and REST call require a token.
    """

    enabled: bool = False
    # The `iss` of the tokens admin issues and accepts; None: admin's HTTP address (http://host:port).
    issuer: str | None = None
    # The audiences accepted; tokens are issued for the first. Empty: the issuer.
    audiences: list[str] = Field(default_factory=list)
    access_token_seconds: int = Field(default=3600, ge=5, le=86400)
    # How far the `exp` and `iat` of admin's own tokens may be off, for clocks that disagree.
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    # A task process's token (its calls back into admin): it lives as long as a long task may run.
    task_token_seconds: int = Field(default=86400, ge=60, le=7 * 86400)
    # The RSA key tokens are signed with (PEM, created if missing); replicas must share it. None: in the data dir.
    signing_key_file: Path | None = None
    # The gRPC metadata key flytekit sends the token under (it also always accepts `authorization`).
    header_key: str = "flyte-authorization"
    # People's logins through an OpenID Connect provider; None: only the built-in server's service clients.
    external: ExternalAuthConfig | None = None
    # Who issues people's tokens. "provider": flytekit logs in at the provider and admin accepts its tokens.
    # "built-in": flytekit logs in at admin's own server (/oauth2/authorize, /oauth2/device/code), which sends the
    # person to the provider to say who they are, then issues its own tokens and refresh tokens. Either needs
    # `external`; without one people cannot log in (the people's endpoints answer so and are not advertised).
    people: Literal["provider", "built-in"] = "provider"
    # The built-in server's public clients (people's logins); flytekit's and flytectl's default is `flytectl`.
    # AuthMetadataService's PublicClientConfig names the first (and its first redirect URI).
    public_clients: list[PublicClient] = Field(default_factory=_default_public_clients)
    refresh_token_seconds: int = Field(default=30 * 86400, ge=60, le=365 * 86400)  # rotated at each use
    device_code_seconds: int = Field(default=600, ge=5, le=3600)  # how long a person has to enter the code
    device_poll_seconds: int = Field(default=5, ge=1, le=60)  # the device flow's polling interval
    authorization: AuthorizationConfig = Field(default_factory=AuthorizationConfig)


class AdminConfig(Section):
    """FlyteAdmin: where it listens, its database, and the platform defaults Flyte keeps in admin's config."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30080, ge=0, le=65535)  # flytekit's sandbox config points here
    http_port: int = Field(default=30081, ge=0, le=65535)  # signed URLs of the local store, REST, console
    database_url: str | None = None  # None: SQLite at <data_dir>/admin.db
    domains: list[str] = Field(default_factory=lambda: ["development", "staging", "production"])
    default_projects: list[str] = Field(default_factory=lambda: ["flytesnacks"])
    max_parallelism: int = Field(default=25, ge=0)
    # Get*Data returns literal maps inline below this size; larger outputs in events are refused.
    max_inline_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    metadata_prefix: str = "metadata"  # <bucket>/<metadata_prefix>/<project>/<domain>/<execution>/...
    upload_prefix: str = "uploads"  # data proxy uploads: <bucket>/<upload_prefix>/<project>/<domain>/...
    max_upload_expiry_seconds: int = Field(default=3600, gt=0)
    max_download_expiry_seconds: int = Field(default=3600, gt=0)
    console_url: str | None = None  # base URL printed for executions; None: admin's HTTP address
    # The engine admin launches executions on (propeller's engine API); None records launches only.
    # Several engines sharing one propeller database: "host:port,host:port" (launches round-robin).
    engine_endpoint: str | None = None
    metrics_port: int = Field(default=0, ge=0, le=65535)  # Prometheus GET /metrics on this port; 0: off
    # GET /metrics on the HTTP port (with `flyteplane start`, the engine's metrics too).
    http_metrics: bool = True
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    cloud_events: CloudEventsConfig = Field(default_factory=CloudEventsConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)

    logs: LogsConfig = Field(default_factory=LogsConfig)


class AdminPlaneConfig(PlaneConfig):
    """What admin reads of the whole configuration: the shared settings and its own section."""

    admin: AdminConfig = Field(default_factory=AdminConfig)
