"""The error of a failed map task: the failed elements' indices and own messages, counted and bounded."""

from __future__ import annotations

from propeller.nodes.array import failure_summary
from propeller.status import NodePhase

FAILED, SUCCEEDED, ABORTED = int(NodePhase.FAILED), int(NodePhase.SUCCEEDED), int(NodePhase.ABORTED)


def test_each_failed_element_is_named_by_its_index_with_its_own_message() -> None:
    phases = [SUCCEEDED, ABORTED, FAILED, ABORTED, FAILED]
    summary = failure_summary(phases, {"2": "ValueError: bad 2", "4": "KeyError: 'k'"}, minimum=5, size=5)
    lines = summary.splitlines()
    assert lines[0] == "2 of the array's 5 elements failed (5 had to succeed; 1 succeeded, 2 aborted):"
    assert lines[1:] == ["[2]: ValueError: bad 2", "[4]: KeyError: 'k'"]


def test_elements_that_failed_alike_share_one_line_of_index_ranges() -> None:
    errors = {str(i): "boom" for i in (0, 1, 2, 5, 7, 8)}
    summary = failure_summary([FAILED] * 9, errors, minimum=9, size=9)
    assert "[0-2][5][7-8]: boom" in summary.splitlines()
    assert "more failed" in summary  # 9 failed, 6 of them with a kept message


def test_the_summary_lists_a_bounded_number_of_messages_and_counts_the_rest() -> None:
    errors = {str(i): f"error {i} " + "x" * 5000 for i in range(100)}
    summary = failure_summary([FAILED] * 1000, errors, minimum=1000, size=1000)
    assert len(summary) <= 8000
    assert summary.startswith("1000 of the array's 1000 elements failed")
    assert summary.splitlines()[1].startswith("[0]: error 0 ")
    assert summary.endswith("more failed element(s)")
