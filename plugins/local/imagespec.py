"""What a flytekit ImageSpec means on the local backend: the spec document, its validation and its build plan.

flyteplane's flytekit plugin (`clients/flytekit-plugin`) uploads an ImageSpec as a JSON document through
admin's data proxy and names the task's image `<name>:<tag>@<document URI>`. Here that document becomes
a `BuildPlan` -- the virtualenv uv builds for it -- or an `ImageSpecError` naming the field that a
virtualenv cannot honour (system packages, conda, CUDA, a base image, shell commands). Pure functions:
`plugins.local.imagespec_env` reads the document, builds and caches the environment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

DOCUMENT_NAME = "flyteplane-imagespec.json"
FORMAT = "flyteplane-imagespec/1"
IMAGE_ID_VARIABLE = "_F_IMG_ID"  # flytekit's `ImageSpec.is_container()` compares it with the spec's id

# What a virtualenv cannot do, per field, and what to do instead.
UNSUPPORTED: Mapping[str, str] = {
    "apt_packages": "it builds a Python virtualenv, not a container image, so it installs no system packages: "
    "install them on the machine that runs the plane, or run the task on a backend that builds images",
    "conda_packages": "it installs Python packages with uv (PyPI), not conda: use `packages` with PyPI names",
    "conda_channels": "it installs Python packages with uv (PyPI), not conda: use `packages` with PyPI names",
    "cuda": "it installs no CUDA toolkit: use the machine's own CUDA and PyPI wheels that bundle their libraries",
    "cudnn": "it installs no cuDNN: use the machine's own and PyPI wheels that bundle their libraries",
    "base_image": "a virtualenv has no base image: the spec's packages go into a fresh virtualenv",
    "commands": "it runs no build commands: there is no container to run them in",
    "copy": "it copies no files into an image: ship them with the code bundle (`pyflyte run --copy all`)",
    "entrypoint": "a virtualenv has no entrypoint: the task's command runs as flytekit registered it",
    "python_exec": "the virtualenv's own python runs the task: use `python_version` to choose it",
}

_PYTHON_VERSION = re.compile(r"^3(\.\d{1,2}){0,2}$")
# A requirement naming flytekit itself (not `flytekitplugins-*`): then the spec chooses flytekit's version.
_FLYTEKIT = re.compile(r"^\s*flytekit\s*(\[[^\]]*\])?\s*($|[=<>!~;@ ])", re.IGNORECASE)


class ImageSpecError(Exception):
    """The spec cannot be built here; `field` names the ImageSpec field at fault ("" when it is the document)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ImageSpecImage:
    """A task image that names an ImageSpec document: `<name>:<tag>@<document URI>`."""

    name: str
    tag: str
    document_uri: str


def parse_image(image: str) -> ImageSpecImage | None:
    """The ImageSpec an image names; None for any other image (a real container image stays as it is)."""
    reference, at, uri = image.partition("@")
    if not at or "://" not in uri or not uri.endswith("/" + DOCUMENT_NAME):
        return None
    name, colon, tag = reference.rpartition(":")
    if not colon or not name or not tag or "/" in tag:
        return None
    return ImageSpecImage(name=name, tag=tag, document_uri=uri)


@dataclass(frozen=True)
class RequirementsFile:
    name: str
    text: str


@dataclass(frozen=True)
class BuildPlan:
    """The virtualenv of one ImageSpec: what uv installs, with which python; `key` names it on disk."""

    name: str
    tag: str
    python: str  # a version uv looks for ("3.11"), or the interpreter's path
    requirements: tuple[str, ...]
    requirements_file: RequirementsFile | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    source_archive: str | None = None  # URI of the source root's files, unpacked beside the virtualenv
    # For the task, not the build (so not in `key`): the spec's variables and flytekit's image id.
    env: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        built = asdict(self)
        built.pop("env")
        built.pop("name")  # two specs differing only in name share one environment
        return hashlib.sha256(json.dumps(built, sort_keys=True).encode()).hexdigest()[:24]

    @property
    def label(self) -> str:
        return f"{self.name}:{self.tag}"

    def requirements_in(self) -> str:
        """The input of `uv pip compile`: one requirement a line, then the spec's requirements file."""
        lines = list(self.requirements)
        if self.requirements_file is not None:
            lines.append(f"-r {self.requirements_file.name}")
        return "\n".join(lines) + "\n"

    def index_args(self) -> list[str]:
        args = ["--index-url", self.index_url] if self.index_url else []
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        return args


def read_document(data: bytes) -> dict[str, Any]:
    """The document the flytekit plugin wrote; ImageSpecError when it is not one."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageSpecError(f"the ImageSpec document is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ImageSpecError(f"the ImageSpec document's format is {found!r}, expected {FORMAT!r}", "format")
    return document


def plan(document: Mapping[str, Any], *, default_python: str, flytekit_version: str | None) -> BuildPlan:
    """The build plan of a spec document; ImageSpecError naming the first field a virtualenv cannot honour.

    `default_python`: the interpreter when the spec names no `python_version` (the default task environment's).
    `flytekit_version`: pinned when the spec's packages and requirements do not name flytekit (Flyte's default
    builder does the same with the client's version); None: the client's, as the document reports it.
    """
    for name, why in UNSUPPORTED.items():
        value = document.get(name)
        if value:
            raise ImageSpecError(
                f"ImageSpec field {name!r} ({value!r}) is not supported by flyteplane's local backend: {why}.", name
            )
    python = _optional_str(document, "python_version")
    if python is not None and not _PYTHON_VERSION.match(python):
        message = f"ImageSpec field 'python_version' must look like '3.11', not {python!r}"
        raise ImageSpecError(message, "python_version")
    packages = [*_strings(document, "packages"), *_strings(document, "runtime_packages")]
    requirements_file = _requirements(document)
    requirements_text = requirements_file.text if requirements_file is not None else ""
    if not any(_FLYTEKIT.match(line) for line in [*packages, *requirements_text.splitlines()]):
        version = flytekit_version or _optional_str(document, "flytekit_version")
        packages.append(f"flytekit=={version}" if version else "flytekit")
    extra_args = _optional_str(document, "pip_extra_args")
    return BuildPlan(
        name=_required_str(document, "name"),
        tag=_required_str(document, "tag"),
        python=python or default_python,
        requirements=tuple(packages),
        requirements_file=requirements_file,
        index_url=_optional_str(document, "pip_index"),
        extra_index_urls=tuple(_strings(document, "pip_extra_index_url")),
        extra_args=tuple(extra_args.split()) if extra_args else (),
        source_archive=_optional_str(document, "source_archive"),
        env={**_env(document), IMAGE_ID_VARIABLE: _required_str(document, "id")},
    )


def _required_str(document: Mapping[str, Any], name: str) -> str:
    value = _optional_str(document, name)
    if not value:
        raise ImageSpecError(f"the ImageSpec document has no {name!r}", name)
    return value


def _optional_str(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise ImageSpecError(f"ImageSpec field {name!r} must be a string, not {value!r}", name)
    return value


def _strings(document: Mapping[str, Any], name: str) -> Sequence[str]:
    value = document.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImageSpecError(f"ImageSpec field {name!r} must be a list of strings, not {value!r}", name)
    return value


def _env(document: Mapping[str, Any]) -> dict[str, str]:
    value = document.get("env")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ImageSpecError(f"ImageSpec field 'env' must map strings to strings, not {value!r}", "env")
    return dict(value)


def _requirements(document: Mapping[str, Any]) -> RequirementsFile | None:
    value = document.get("requirements")
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise ImageSpecError("ImageSpec field 'requirements' must carry the file's text", "requirements")
    name = value.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name) or name in (".", ".."):
        raise ImageSpecError(f"ImageSpec field 'requirements' names no plain file ({name!r})", "requirements")
    return RequirementsFile(name=name, text=value["text"])
