"""Prints (as one JSON line) the document flyteplane's builder writes for an ImageSpec, and its source archive.

Run with flytekit's python, flyteplane's plugin on PYTHONPATH: `<python> probe.py <config> <project> <domain> <json>`;
the JSON names the project directory holding `requirements.txt` and the `pkg` package the spec's source root copies.
"""

import json
import sys
import tarfile
import tempfile
from pathlib import Path

from flytekit.constants import CopyFileDetection
from flytekit.image_spec.image_spec import ImageBuildEngine, ImageSpec
from flytekitplugins.flyteplane import builder

params = json.loads(sys.argv[4])
root = Path(params["root"])
spec = ImageSpec(
    name="probe",
    packages=["numpy"],
    requirements=str(root / "requirements.txt"),
    source_root=str(root),
    source_copy_mode=CopyFileDetection.ALL,
    apt_packages=["curl"],
)
document = builder.spec_document(spec)
with tempfile.TemporaryDirectory() as scratch:
    archive = builder._source_archive(spec, Path(scratch))
    assert archive is not None
    with tarfile.open(archive) as tar:
        members = sorted(tar.getnames())
    again = builder._source_archive(spec, Path(scratch))
    assert again is not None
    same_bytes = archive.read_bytes() == again.read_bytes()
print(
    json.dumps(
        {
            "default_builder": spec.builder,
            "registered": sorted(ImageBuildEngine.get_registry()),
            "document": document,
            "members": members,
            "same_bytes": same_bytes,
        }
    )
)
