"""Tasks that read secrets as users write them: flytekit's SecretsManager, a mounted file, a variable of their own.

They return a digest of what they read, so the test can check the value without the value itself
landing in outputs (which admin stores and serves).
"""

import hashlib
import os

import flytekit
from flytekit import Secret, task, workflow


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@task(secret_requests=[Secret(group="db", key="password", mount_requirement=Secret.MountType.ENV_VAR)])
def from_environment() -> str:
    return digest(flytekit.current_context().secrets.get("db", "password"))


@task(secret_requests=[Secret(group="db", key="token", mount_requirement=Secret.MountType.FILE)])
def from_file() -> str:
    secrets = flytekit.current_context().secrets
    if secrets.get_secrets_env_var("db", "token") in os.environ:
        raise AssertionError("a FILE secret must not arrive as an environment variable")
    with open(secrets.get_secrets_file("db", "token")) as handle:
        return digest(handle.read())


@task(secret_requests=[Secret(group="db", key="password", env_var="DB_PASSWORD")])
def from_named_variable() -> str:
    return digest(os.environ["DB_PASSWORD"])


@workflow
def secrets_wf() -> tuple[str, str, str]:
    return from_environment(), from_file(), from_named_variable()


@task(secret_requests=[Secret(group="db", key="absent")])
def needs_an_absent_secret() -> str:
    return flytekit.current_context().secrets.get("db", "absent")


@workflow
def absent_secret_wf() -> str:
    return needs_an_absent_secret()
