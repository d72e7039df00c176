"""The local backend's messages and files (`plugins.local.protocol`), and the programs that use them apart from our
packages."""

from __future__ import annotations

import subprocess
import sys

from plugins.local import launch
from plugins.local.protocol import (
    Answer,
    RunnerRecord,
    decode_answer,
    decode_finished,
    decode_ready,
    decode_request,
    decode_status,
    encode,
    status_of_returncode,
)


def test_process_programs_load_with_the_standard_library_only() -> None:
    # -S: no site-packages, so neither our packages nor their dependencies can be imported; as in a task environment.
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('launch', sys.argv[1])\n"
        "launch = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(launch)\n"
        "print(' '.join(sorted(launch.load(program).__name__ for program in launch.PROGRAMS)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(launch.SCRIPT)], capture_output=True, text=True, check=True
    )
    names = ["_flyteplane_local.runner", "_flyteplane_local.warm.server", "_flyteplane_local.warm.worker"]
    assert result.stdout.split() == names


def test_answer_with_a_record_reads_back_as_written() -> None:
    record: RunnerRecord = {"pid": 12, "pgid": 12, "start_time": 99}
    answer: Answer = {"ok": True, "result": "started", "pid": 12, "forks": 3, "rss": 1024, "record": record}
    assert decode_answer(encode(answer)) == answer


def test_unreadable_answer_is_a_refusal_that_quotes_it() -> None:
    assert decode_answer(b"{not json\n") == {"ok": False, "error": "unreadable answer b'{not json\\n'", "fatal": False}
    assert decode_answer(b'{"ok": true, "result": "maybe", "pid": 1}')["ok"] is False


def test_empty_ready_line_is_not_ready() -> None:
    assert decode_ready(b"") == {"ready": False, "error": None}


def test_request_without_its_attempt_is_refused() -> None:
    try:
        decode_request(b'{"entry": "pyflyte-execute"}')
    except ValueError as exc:
        assert "attempt" in str(exc)
    else:
        raise AssertionError("decoded a request without an attempt")


def test_only_a_finished_notice_decodes_as_one() -> None:
    assert decode_finished(b'{"ok": true, "result": "started", "pid": 1}') is None
    notice = decode_finished(b'{"finished": "/a", "exit_code": 0, "recycle": null, "attempts": 2, "rss": 5}')
    assert notice is not None and notice["finished"] == "/a"


def test_status_of_a_return_code_is_an_exit_code_or_a_signal() -> None:
    assert status_of_returncode(3)["exit_code"] == 3
    assert status_of_returncode(-9)["signal"] == 9
    assert decode_status({"exit_code": None, "signal": 9, "start_error": None, "errno": None})["signal"] == 9
