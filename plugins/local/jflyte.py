"""What a flytekit-java task runs as a local process: jflyte's command line, with what a jflyte image carries.

flytekit-java registers (with `jflyte register workflows`) a task whose container has no command and whose args are
jflyte's: `jflyte execute --task <class> --inputs {{.input}} --outputPrefix {{.outputPrefix}} --taskTemplatePath
{{.taskTemplatePath}}`. In the jflyte image those args go to its entrypoint, `java -cp /jflyte/* org.flyte.jflyte.Main`,
with FLYTE_INTERNAL_MODULE_DIR naming the file system modules (/jflyte/modules). Here the entrypoint is a local Java
with the jflyte that scripts/install-jflyte.sh lays out the same way (`JflyteConfig.home`).

jflyte fetches the task's jars (the template's `custom.jflyte.artifacts`, staged at registration) and reads and writes
the task's data itself, through its modules: jflyte-aws (s3://, pointed at the plane's endpoint by the same
FLYTE_AWS_* variables flytekit reads) and jflyte-google-cloud (gs://). It has no file system for anything else, so a
task whose data is on the local store (file://) is refused before it starts, with what to do instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from flyteidl_py.core import tasks_pb2
from plugins.config import JflyteConfig
from plugins.core import BadTaskDefinition, Transition

PROGRAM = "jflyte"
MAIN_CLASS = "org.flyte.jflyte.Main"
SCHEMES = ("s3", "gs")  # jflyte's file systems: jflyte-aws, jflyte-google-cloud
CONFIG_KEY = "propeller.plugins.backends.local.jflyte"


class JflyteUnavailable(BadTaskDefinition):
    """Java or jflyte is not where the plane looks for it: the platform's to fix, not the task's."""

    def transition(self) -> Transition:
        return Transition.failure("JflyteUnavailable", str(self), retryable=False, system=True)


def runs_jflyte(container: tasks_pb2.Container) -> bool:
    """Whether `container` is a jflyte image's: no command (the image's entrypoint runs), args starting `jflyte`."""
    return not container.command and container.args[:1] == [PROGRAM]


def check_store(uris: Iterable[str]) -> None:
    """BadTaskDefinition unless every one of the attempt's data URIs is on a store jflyte can read and write."""
    for uri in uris:
        scheme = uri.split("://", 1)[0] if "://" in uri else "file"
        if scheme not in SCHEMES:
            raise BadTaskDefinition(
                f"this Java task's data is at {uri}, but jflyte (flytekit-java) reads and writes only s3:// and gs://: "
                "run the plane on an S3-compatible store (`flyteplane start --storage s3://<bucket> --s3-endpoint "
                "<url>`) or on GCS (`--storage gs://<bucket>`), and register the workflow with FLYTE_STAGING_LOCATION "
                "on that store"
            )


def find_java(config: JflyteConfig) -> str:
    """The Java executable and a check that jflyte is installed; JflyteUnavailable otherwise. Blocking (stats files)."""
    java = shutil.which(config.java)
    if java is None:
        raise JflyteUnavailable(
            f"cannot run the Java task: no Java executable {config.java!r} on PATH (Java 11 or later; or name one "
            f"in {CONFIG_KEY}.java)"
        )
    lib = config.home / "lib"
    if not any(lib.glob("jflyte-[0-9]*.jar")):  # jflyte itself, not its jflyte-api
        raise JflyteUnavailable(
            f"cannot run the Java task: jflyte is not installed in {config.home} (no jflyte jar in {lib}): run "
            f"`scripts/install-jflyte.sh {config.home}` (it resolves jflyte from Maven Central with Maven), or point "
            f"{CONFIG_KEY}.home at an installation"
        )
    return java


def command(
    java: str, config: JflyteConfig, args: Iterable[str], *, tmp_dir: str | None, memory_limit: int | None
) -> list[str]:
    """The image's entrypoint before the task's (rendered) args.

    The JVM's temporary files (jflyte downloads the task's jars there) go to the attempt's TMPDIR, which Java itself
    ignores. Under a memory limit the JVM sizes its heap as in a container with that limit (`MaxRAM`), instead of
    from the machine's memory, which would outgrow the limit.
    """
    options = list(config.jvm_options)
    if tmp_dir:
        options.append(f"-Djava.io.tmpdir={tmp_dir}")
    if memory_limit is not None:
        options.append(f"-XX:MaxRAM={memory_limit}")
    return [java, *options, "-cp", str(config.home / "lib" / "*"), MAIN_CLASS, *args]


def environment(config: JflyteConfig, image: str) -> dict[str, str]:
    """The variables a jflyte image sets (besides FLYTE_PLATFORM_*, which every task process gets)."""
    return {"FLYTE_INTERNAL_MODULE_DIR": str(Path(config.home) / "modules"), "FLYTE_INTERNAL_IMAGE": image}
