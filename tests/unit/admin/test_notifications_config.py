"""The `admin.notifications` and `admin.cloud_events` sections, set from the YAML file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteplane.errors import InvalidArgument
from launcher.config import load_config

YAML = """
admin:
  console_url: https://flyte.example.com
  notifications:
    smtp: {host: smtp.example.com, port: 465, security: tls, username: bot, password: s3cret, sender: ml@example.com}
    slack: {webhook_url: https://hooks.slack.com/services/T/B/X}
    templates: {subject: "{{ name }} {{ phase }}", body: "see {{ link }}"}
    retry: {base_seconds: 2, max_seconds: 60, max_attempts: 10}
  cloud_events: {enabled: true, sink_url: https://events.example.com/in, event_types: [workflow]}
"""


def test_the_notification_and_cloud_event_sections_are_read_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "flyteplane.yaml"
    path.write_text(YAML)
    admin = load_config(path, env={}).admin
    smtp = admin.notifications.smtp
    assert (smtp.host, smtp.port, smtp.security, smtp.username, smtp.sender) == (
        "smtp.example.com",
        465,
        "tls",
        "bot",
        "ml@example.com",
    )
    assert smtp.password is not None and smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(admin)  # a password never reaches a log line
    assert admin.notifications.slack.webhook_url == "https://hooks.slack.com/services/T/B/X"
    assert admin.notifications.templates.subject == "{{ name }} {{ phase }}"
    assert admin.notifications.retry.base_seconds == 2
    assert admin.notifications.retry.send_timeout_seconds == 20  # unset: its default
    assert admin.cloud_events.enabled and admin.cloud_events.event_types == ["workflow"]


def test_defaults_send_nothing_anywhere() -> None:
    admin = load_config(None, env={}).admin
    assert admin.notifications.smtp.host is None
    assert admin.notifications.slack.webhook_url is None
    assert not admin.cloud_events.enabled


def test_the_environment_sets_the_smtp_host() -> None:
    admin = load_config(None, env={"FLYTEPLANE_ADMIN__NOTIFICATIONS__SMTP__HOST": "mail.internal"}).admin
    assert admin.notifications.smtp.host == "mail.internal"


def test_cloud_events_enabled_without_a_sink_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flyteplane.yaml"
    path.write_text("admin:\n  cloud_events: {enabled: true}\n")
    with pytest.raises(InvalidArgument, match="sink_url"):
        load_config(path, env={})
