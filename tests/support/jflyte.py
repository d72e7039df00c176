"""flytekit-java for the tests: jflyte installed by the repo's own script, workflow projects built with Maven, cached.

Maven's downloads land in ~/.m2 the first time. jflyte goes where the plane looks by default
(scripts/install-jflyte.sh, which returns at once when it is there); a project's jars are built once per content of
its sources, under the test cache. Both are built before a plane serves, as the flytekit virtualenv is.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

from tests.support.venvs import cache_root

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install-jflyte.sh"


def jflyte_home() -> Path:
    """jflyte's installation directory, installed by scripts/install-jflyte.sh where the plane looks by default."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".jflyte.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        finished = subprocess.run([str(INSTALL)], capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"scripts/install-jflyte.sh failed:\n{finished.stderr}")
    return Path(finished.stdout.strip().splitlines()[-1])


def build_workflows(project: Path) -> Path:
    """The directory `jflyte register workflows -cp` takes: `project`'s jar and its runtime dependencies, which its
    pom.xml puts in target/lib (as flytekit-java's examples do)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project.rglob("*") if p.is_file() and "target" not in p.relative_to(project).parts):
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes())
    root = cache_root() / f"java-{project.name}-{digest.hexdigest()[:12]}"
    ready = root / ".ready"
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f".{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(project, root, ignore=shutil.ignore_patterns("target"))
            finished = subprocess.run(
                ["mvn", "-q", "-B", "-Dstyle.color=never", "package"],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            if finished.returncode != 0:
                raise RuntimeError(f"mvn package of {project} failed:\n{finished.stdout}\n{finished.stderr}")
            ready.write_text("built\n")
    return root / "target" / "lib"
