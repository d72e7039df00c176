"""An ImageSpec document becomes a build plan, or an error naming the field a virtualenv cannot honour."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from plugins.local.imagespec import (
    FORMAT,
    IMAGE_ID_VARIABLE,
    UNSUPPORTED,
    ImageSpecError,
    parse_image,
    plan,
    read_document,
)
from plugins.local.imagespec_env import SOURCE_DIR, environment_of, unpack_source

URI = "s3://bucket/uploads/flytesnacks/development/imagespec-ab12/flyteplane-imagespec.json"


def document(**fields: Any) -> dict[str, Any]:
    """What the flytekit plugin writes for `ImageSpec(name="sk")`, with `fields` on top."""
    base: dict[str, Any] = {
        "format": FORMAT, "name": "sk", "tag": "T4g", "id": "Id1", "platform": "linux/amd64",
        "flytekit_version": "1.16.0", "packages": None, "requirements": None, "env": None,
    }  # fmt: skip
    return {**base, **fields}


def test_an_image_naming_a_spec_document_is_an_imagespec_image() -> None:
    image = parse_image(f"localhost:30000/sk:T4g@{URI}")
    assert image is not None
    assert (image.name, image.tag, image.document_uri) == ("localhost:30000/sk", "T4g", URI)


@pytest.mark.parametrize(
    "image",
    ["python:3.11", "ghcr.io/org/app@sha256:0123abcd", "sk:T4g@s3://bucket/other.json", f"no-tag@{URI}", ""],
)
def test_other_images_are_left_alone(image: str) -> None:
    assert parse_image(image) is None


def test_packages_are_installed_with_the_task_environments_flytekit() -> None:
    built = plan(document(packages=["scikit-learn>=1.5"]), default_python="/env/bin/python", flytekit_version="1.16.31")
    assert built.requirements == ("scikit-learn>=1.5", "flytekit==1.16.31")
    assert built.python == "/env/bin/python"
    assert built.label == "sk:T4g"


def test_without_a_known_task_environment_the_clients_flytekit_is_pinned() -> None:
    built = plan(document(), default_python="python3", flytekit_version=None)
    assert built.requirements == ("flytekit==1.16.0",)


@pytest.mark.parametrize("named", ["flytekit==1.15.3", "flytekit[agent]>=1.16", "FlyteKit"])
def test_a_spec_that_names_flytekit_chooses_its_version(named: str) -> None:
    built = plan(document(packages=["numpy", named]), default_python="python3", flytekit_version="1.16.31")
    assert built.requirements == ("numpy", named)


def test_a_flytekit_plugin_is_not_flytekit() -> None:
    built = plan(document(packages=["flytekitplugins-pandera"]), default_python="p", flytekit_version="1.16.31")
    assert built.requirements[-1] == "flytekit==1.16.31"


def test_a_requirements_file_is_installed_with_the_packages_and_may_name_flytekit() -> None:
    text = "pandas==2.2.3\nflytekit==1.16.30\n"
    built = plan(
        document(requirements={"name": "requirements.txt", "text": text}, runtime_packages=["rich"]),
        default_python="p", flytekit_version="1.16.31",
    )  # fmt: skip
    assert built.requirements == ("rich",)
    assert built.requirements_in() == "rich\n-r requirements.txt\n"


def test_the_python_version_and_indexes_are_the_specs() -> None:
    built = plan(
        document(python_version="3.12", pip_index="https://pypi.internal/simple",
                 pip_extra_index_url=["https://extra/simple"], pip_extra_args="--pre --no-build-isolation"),
        default_python="p", flytekit_version="1.16.31",
    )  # fmt: skip
    assert built.python == "3.12"
    assert built.index_args() == [
        "--index-url",
        "https://pypi.internal/simple",
        "--extra-index-url",
        "https://extra/simple",
    ]
    assert built.extra_args == ("--pre", "--no-build-isolation")


def test_the_task_gets_the_specs_variables_and_flytekits_image_id() -> None:
    built = plan(document(env={"MODE": "fast"}), default_python="p", flytekit_version="1")
    assert built.env == {"MODE": "fast", IMAGE_ID_VARIABLE: "Id1"}


def test_the_environment_is_named_by_what_is_built_not_by_variables_or_name() -> None:
    one = plan(document(env={"A": "1"}), default_python="p", flytekit_version="1")
    other = plan(document(env={"A": "2"}, name="renamed"), default_python="p", flytekit_version="1")
    assert one.key == other.key
    assert one.key != plan(document(packages=["numpy"]), default_python="p", flytekit_version="1").key
    assert one.key != plan(document(), default_python="other", flytekit_version="1").key


@pytest.mark.parametrize("field", sorted(UNSUPPORTED))
def test_what_a_virtualenv_cannot_do_is_refused_naming_the_field(field: str) -> None:
    value: Any = "nvidia/cuda:12" if field in ("cuda", "cudnn", "base_image", "python_exec") else ["x"]
    with pytest.raises(ImageSpecError) as refused:
        plan(document(**{field: value}), default_python="p", flytekit_version="1")
    assert refused.value.field == field
    assert f"ImageSpec field {field!r}" in str(refused.value)
    assert "not supported" in str(refused.value)


def test_empty_unsupported_fields_are_no_request() -> None:
    plan(document(apt_packages=[], commands=None), default_python="p", flytekit_version="1")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"python_version": "python3"}, "python_version"),
        ({"packages": "numpy"}, "packages"),
        ({"env": {"A": 1}}, "env"),
        ({"requirements": {"name": "../etc/passwd", "text": ""}}, "requirements"),
        ({"tag": None}, "tag"),
    ],
)
def test_malformed_fields_are_named(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ImageSpecError) as refused:
        plan(document(**fields), default_python="p", flytekit_version="1")
    assert refused.value.field == field


def test_a_document_of_another_format_is_refused() -> None:
    with pytest.raises(ImageSpecError, match="format"):
        read_document(json.dumps({"format": "other/9"}).encode())
    with pytest.raises(ImageSpecError, match="not JSON"):
        read_document(b"\xff")
    assert read_document(json.dumps(document()).encode())["name"] == "sk"


def test_a_built_spec_stands_for_its_virtualenv_with_its_variables_and_source_files(tmp_path: Path) -> None:
    with_source = plan(document(source_archive="s3://b/source.tar.gz", env={"A": "1"}), default_python="p",
                       flytekit_version="1")  # fmt: skip
    environment = environment_of(with_source, tmp_path / "env")
    assert environment.venv == tmp_path / "env"
    assert environment.python_path == (tmp_path / "env" / SOURCE_DIR,)
    assert environment.env == {"A": "1", IMAGE_ID_VARIABLE: "Id1"}
    assert environment_of(plan(document(), default_python="p", flytekit_version="1"), tmp_path).python_path == ()


def test_the_source_archive_cannot_write_outside_its_directory(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name in ("pkg/mod.py", "../escaped.py"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.OutsideDestinationError):
        unpack_source(archive.getvalue(), tmp_path / "root")
    assert not (tmp_path / "escaped.py").exists()
