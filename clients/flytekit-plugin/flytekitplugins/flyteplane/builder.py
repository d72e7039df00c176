"""Turns an ImageSpec into a document the plane builds a virtualenv from, uploaded through admin's data proxy.

No image is built here and Docker is never asked: `build_image` writes the spec (with the text of its
requirements file and, when the spec copies source files, an archive of them) to the store through the
data proxy flytekit already uses for code bundles, and names the image `<name>:<tag>@<document URL>`.
The plane reads the document when a task with that image runs and builds the environment once per spec.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import flytekit
from flytekit.constants import CopyFileDetection
from flytekit.image_spec.image_spec import ImageSpec, ImageSpecBuilder

BUILDER = "flyteplane"
PRIORITY = 10
FORMAT = "flyteplane-imagespec/1"
DOCUMENT = "flyteplane-imagespec.json"
SOURCE_ARCHIVE = "source.tar.gz"

# Fields copied into the document as they are; the plane decides what it supports and names the rest.
_FIELDS = (
    "name", "python_version", "env", "packages", "conda_packages", "conda_channels", "apt_packages", "cuda",
    "cudnn", "platform", "pip_index", "pip_extra_index_url", "pip_extra_args", "entrypoint", "commands",
    "python_exec", "runtime_packages", "builder_options",
)  # fmt: skip


class FlyteplaneImageSpecBuilder(ImageSpecBuilder):
    """Ships the spec to the plane, which builds a virtualenv from it (see the module docstring)."""

    def should_build(self, image_spec: ImageSpec) -> bool:
        # Always: the upload is content-addressed, so repeating it is cheap, and it is what names the image.
        return True

    def build_image(self, image_spec: ImageSpec) -> str | None:
        remote = _remote()
        with tempfile.TemporaryDirectory(prefix="flyteplane-imagespec-") as scratch:
            document = spec_document(image_spec)
            archive = _source_archive(image_spec, Path(scratch))
            if archive is not None:
                document["source_archive"] = _upload(remote, archive, "imagespec-source-" + _digest(archive))
            path = Path(scratch) / DOCUMENT
            path.write_text(json.dumps(document, sort_keys=True, indent=1))
            url = _upload(remote, path, "imagespec-" + _digest(path))
        return f"{image_spec.image_name()}@{url}"


def spec_document(image_spec: ImageSpec) -> dict[str, Any]:
    """What the plane needs of `image_spec`: its fields, identity, requirements text and the client's flytekit."""
    document: dict[str, Any] = {"format": FORMAT, "tag": image_spec.tag, "id": image_spec.id}
    for field in _FIELDS:
        document[field] = getattr(image_spec, field)
    base = image_spec.base_image
    document["base_image"] = base.image_name() if isinstance(base, ImageSpec) else base
    document["copy"] = list(image_spec.copy) if image_spec.copy else None
    if image_spec.requirements:
        requirements = Path(image_spec.requirements)
        document["requirements"] = {"name": requirements.name, "text": requirements.read_text()}
    else:
        document["requirements"] = None
    document["source_root"] = str(image_spec.source_root) if image_spec.source_root else None
    document["flytekit_version"] = flytekit.__version__
    return document


def _copies_source(image_spec: ImageSpec) -> bool:
    mode = image_spec.source_copy_mode
    return bool(image_spec.source_root) and mode is not None and mode != CopyFileDetection.NO_COPY


def _source_archive(image_spec: ImageSpec, scratch: Path) -> Path | None:
    """The files flytekit's Docker builder would copy into the image from the source root, as a tar.gz."""
    if not _copies_source(image_spec):
        return None
    from flytekit.tools.ignore import DockerIgnore, GitIgnore, IgnoreGroup, StandardIgnore
    from flytekit.tools.script_mode import ls_files

    root = str(image_spec.source_root)
    ignore = IgnoreGroup(root, [GitIgnore, DockerIgnore, StandardIgnore])
    files, _ = ls_files(root, image_spec.source_copy_mode, deref_symlinks=False, ignore_group=ignore)
    archive = scratch / SOURCE_ARCHIVE
    # Fixed modes and times: the same files give the same bytes, so the upload stays content-addressed.
    with open(archive, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
        for name in sorted(files):
            relative = os.path.relpath(name, root)
            data = Path(name).read_bytes()
            info = tarfile.TarInfo(relative)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:32]


def _upload(remote: Any, path: Path, filename_root: str) -> str:
    _, url = remote.upload_file(path, filename_root=filename_root)
    return str(url)


def _remote() -> Any:
    """The FlyteRemote of the running pyflyte command (so its config, project and domain), else one from the config.

    pyflyte serializes (and so builds images) on a thread of its own, where click's context is not set; but
    every FlyteRemote, when created, registers the `flyte://` filesystem bound to itself with fsspec: the
    latest of them is the command's (`pyflyte run --remote` and `pyflyte register` create one first).
    """
    import fsspec

    try:
        remote = fsspec.get_filesystem_class("flyte")(skip_instance_cache=True)._remote
    except (ValueError, ImportError, AttributeError, TypeError):
        remote = None
    if remote is not None:
        return remote
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    return FlyteRemote(Config.auto(), default_project="flytesnacks", default_domain="development")
