"""Task isolation's pure parts (`plugins.local.isolation`): project uids, privileges, the sandbox plan, input paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flyteidl_py.core import literals_pb2
from plugins.config import IsolationConfig
from plugins.local.isolation import (
    IsolationUnavailable,
    assign_uid,
    check_privileges,
    literal_paths,
    missing_privileges,
    plan_sandbox,
    project_uid,
    seal,
)

ALL_CAPABILITIES = "CapEff:\t000001ffffffffff\n"
NO_CAPABILITIES = "CapEff:\t0000000000000000\n"


def test_each_project_gets_the_next_free_uid_and_keeps_it() -> None:
    config = IsolationConfig(mode="users", uid_base=5000, uid_count=2)
    table: dict[str, int] = {}
    assert assign_uid(table, "a", config) == 5000
    assert assign_uid(table, "b", config) == 5001
    assert assign_uid(table, "a", config) == 5000
    with pytest.raises(ValueError, match="no free uid left for project 'c'"):
        assign_uid(table, "c", config)


def test_project_uids_are_recorded_in_the_work_dir_for_the_next_process(tmp_path: Path) -> None:
    config = IsolationConfig(mode="users", uid_base=7000)
    assert project_uid(tmp_path, "a", config) == 7000
    assert project_uid(tmp_path, "b", config) == 7001
    assert project_uid(tmp_path, "a", config) == 7000
    assert (tmp_path / ".isolation").stat().st_mode & 0o077 == 0


def test_missing_capabilities_are_named() -> None:
    missing = missing_privileges(NO_CAPABILITIES)
    assert {"CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"} <= set(missing)
    assert ("root (euid 0)" in missing_privileges(ALL_CAPABILITIES)) == (os.geteuid() != 0)


def test_isolation_off_asks_for_nothing_and_on_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    check_privileges(IsolationConfig(mode="off"))
    monkeypatch.setattr("plugins.local.isolation.missing_privileges", lambda: ["CAP_SYS_ADMIN"])
    with pytest.raises(IsolationUnavailable, match=r"isolation\.mode is 'users'.*lacks CAP_SYS_ADMIN.*'off'"):
        check_privileges(IsolationConfig(mode="users"))


def test_the_sandbox_hides_the_data_and_shows_back_only_what_lies_under_it_parents_first() -> None:
    sandbox = plan_sandbox(
        9000,
        ["/data", "/data/store"],
        [("/data/store/x/out", True), ("/data/store/x", False), ("/data/work/a1", True), ("/opt/venv", False)],
        traversable=lambda path: True,
    )
    assert sandbox["uid"] == sandbox["gid"] == 9000
    assert sandbox["hide"] == ["/data", "/tmp"]  # /data/store is under /data already
    assert sandbox.get("scratch") == ["/tmp"]
    # /opt/venv is not hidden: it stays where it is, unmounted.
    assert sandbox["expose"] == [["/data/store/x", False], ["/data/work/a1", True], ["/data/store/x/out", True]]


def test_a_directory_the_uid_could_not_traverse_on_the_way_to_a_shown_path_is_hidden_too() -> None:
    closed = {"/root", "/tmp/pytest-of-root"}
    sandbox = plan_sandbox(
        9000,
        ["/tmp/pytest-of-root/p/data"],
        [("/root/.cache/venv", False), ("/tmp/pytest-of-root/p/data/work/a1", True), ("/srv/code", False)],
        scratch="/var/tmp",
        traversable=lambda path: path not in closed,
    )
    assert sandbox["hide"] == ["/root", "/tmp/pytest-of-root", "/var/tmp"]
    assert [path for path, _ in sandbox["expose"]] == ["/root/.cache/venv", "/tmp/pytest-of-root/p/data/work/a1"]


def test_a_path_given_writable_once_is_writable() -> None:
    sandbox = plan_sandbox(1, ["/d"], [("/d/x", False), ("/d/x", True)], traversable=lambda path: True)
    assert sandbox["expose"] == [["/d/x", True]]


def _blob(uri: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri=uri)))


def test_the_local_paths_inputs_reference_are_found_wherever_they_nest() -> None:
    dataset = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(structured_dataset=literals_pb2.StructuredDataset(uri="file:///store/df"))
    )
    offloaded = literals_pb2.Literal(offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="/store/big.pb"))
    literals = literals_pb2.LiteralMap(
        literals={
            "f": _blob("/store/raw/a/file.txt"),
            "remote": _blob("s3://bucket/key"),
            "many": literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[_blob("/store/b")])),
            "named": literals_pb2.Literal(map=literals_pb2.LiteralMap(literals={"k": dataset})),
            "big": offloaded,
            "n": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=1))),
        }
    )
    assert sorted(literal_paths(literals)) == ["/store/b", "/store/big.pb", "/store/df", "/store/raw/a/file.txt"]


@pytest.mark.skipif(os.geteuid() != 0, reason="taking files back needs root")
def test_sealing_takes_a_tasks_outputs_back_for_its_projects_group_and_removes_links(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    (outputs / "deck").mkdir(parents=True)
    (outputs / "outputs.pb").write_bytes(b"")
    (outputs / "deck" / "deck.html").write_text("<p>")
    (outputs / "elsewhere.pb").symlink_to(tmp_path / "another-executions-outputs.pb")
    for path in (outputs, outputs / "deck", outputs / "outputs.pb", outputs / "deck" / "deck.html"):
        os.chown(path, 4242, 4242)
    assert seal([outputs], 4242) == [str(outputs / "elsewhere.pb")]
    assert not (outputs / "elsewhere.pb").is_symlink()
    for path, mode in ((outputs, 0o750), (outputs / "deck", 0o750), (outputs / "outputs.pb", 0o640)):
        info = path.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 4242, mode), path
