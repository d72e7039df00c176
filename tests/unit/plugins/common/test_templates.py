"""Flyte's template variables render into a task's command line as propeller renders them."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2

from flyteidl_py.core import literals_pb2
from plugins.common.templates import TemplateError, TemplateValues, render, rewrite_dest_dir, variables_in

VALUES = TemplateValues(
    input="s3://b/n0/data/inputs.pb",
    input_prefix="s3://b/n0/data",
    output_prefix="s3://b/n0/data/0",
    raw_output_data_prefix="s3://b/raw/ab/x",
    checkpoint_output_prefix="s3://b/raw/ab/x/_flytecheckpoints",
    prev_checkpoint_prefix="s3://b/raw/cd/y/_flytecheckpoints",
    task_template_path="s3://b/n0/data/task.pb",
    remote_package_path="file:///store/fast123.tar.gz",
    per_retry_unique_key="e1_abc",
    namespace="flytesnacks-development",
)


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("{{.input}}", VALUES.input),
        ("{{.Input}}", VALUES.input),
        ("{{ .input }}", VALUES.input),
        ("{{$Input}}", VALUES.input),
        ("{{.inputPrefix}}", VALUES.input_prefix),
        ("{{.outputPrefix}}", VALUES.output_prefix),
        ("{{.OUTPUTPREFIX}}", VALUES.output_prefix),
        ("{{.rawOutputDataPrefix}}", VALUES.raw_output_data_prefix),
        ("{{.checkpointOutputPrefix}}", VALUES.checkpoint_output_prefix),
        ("{{.prevCheckpointPrefix}}", VALUES.prev_checkpoint_prefix),
        ("{{.taskTemplatePath}}", VALUES.task_template_path),
        ("{{ .remote_package_path }}", VALUES.remote_package_path),
        ("{{.PerRetryUniqueKey}}", VALUES.per_retry_unique_key),
        ("{{.namespace}}", VALUES.namespace),
        ("--out={{.outputPrefix}}/x", f"--out={VALUES.output_prefix}/x"),
        ("{{.input}} {{.outputPrefix}}", f"{VALUES.input} {VALUES.output_prefix}"),
        ("{{.notAVariable}}", "{{.notAVariable}}"),
        ("{{input}}", "{{input}}"),
        ("plain", "plain"),
    ],
)
def test_variable_renders_case_insensitively_with_spaces(arg: str, expected: str) -> None:
    assert render([arg], VALUES) == [expected]


def test_first_attempt_renders_previous_checkpoint_as_empty_string() -> None:
    first = TemplateValues(input="i", input_prefix="p", output_prefix="o", raw_output_data_prefix="r",
                           checkpoint_output_prefix="c")  # fmt: skip
    assert render(["--prev-checkpoint", "{{.prevCheckpointPrefix}}"], first) == ["--prev-checkpoint", ""]


def test_unknown_optional_variables_stay_visible() -> None:
    bare = TemplateValues(input="i", input_prefix="p", output_prefix="o", raw_output_data_prefix="r",
                          checkpoint_output_prefix="c")  # fmt: skip
    args = ["{{ .remote_package_path }}", "{{.taskTemplatePath}}"]
    assert render(args, bare) == args
    assert variables_in(render(args, bare)) == {"remote_package_path", "tasktemplatepath"}


def _literal(**primitive: object) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**primitive)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        (_literal(integer=-42), "-42"),
        (_literal(float_value=0.5), "0.5"),
        (_literal(float_value=2.0), "2"),
        (_literal(float_value=100000.0), "100000"),
        (_literal(float_value=1e6), "1e+06"),
        (_literal(float_value=123456789.0), "1.23456789e+08"),
        (_literal(float_value=1e-5), "1e-05"),
        (_literal(float_value=0.0001), "0.0001"),
        (_literal(string_value="a b"), "a b"),
        (_literal(boolean=True), "true"),
        (_literal(duration=duration_pb2.Duration(seconds=3723, nanos=500_000_000)), "1h2m3.5s"),
        (_literal(duration=duration_pb2.Duration(nanos=1_500_000)), "1.5ms"),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/f.txt"))), "s3://b/f.txt"),
        # A client's upload to the local store is named local:///path; a command line gets the path.
        (
            literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="local:///data/up/f.txt"))),
            "/data/up/f.txt",
        ),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="/data/f.txt"))), "/data/f.txt"),
        (
            literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(literals=[_literal(integer=1), _literal(integer=2)])
            ),
            "[1,2]",
        ),
    ],
)
def test_input_reference_renders_literal_as_text(literal: literals_pb2.Literal, text: str) -> None:
    inputs = literals_pb2.LiteralMap(literals={"x": literal})
    assert render(["echo {{.Inputs.x}}"], VALUES, inputs) == [f"echo {text}"]


def test_input_reference_to_a_map_cannot_render() -> None:
    inputs = literals_pb2.LiteralMap(literals={"m": literals_pb2.Literal(map=literals_pb2.LiteralMap())})
    with pytest.raises(TemplateError, match="'m'"):
        render(["{{.inputs.m}}"], VALUES, inputs)


def test_input_reference_to_a_missing_input_cannot_render() -> None:
    with pytest.raises(TemplateError, match="names no input"):
        render(["{{.inputs.nope}}"], VALUES, literals_pb2.LiteralMap())


FAST = ["pyflyte-fast-execute", "--additional-distribution", "x.tar.gz", "--dest-dir", "/root", "--",
        "pyflyte-execute", "--dest-dir", "inner"]  # fmt: skip


def test_fast_execute_dest_dir_is_rewritten_before_the_inner_command() -> None:
    assert rewrite_dest_dir(FAST, "/work/a/code") == [*FAST[:4], "/work/a/code", *FAST[5:]]


def test_fast_execute_dest_dir_equals_form_is_rewritten() -> None:
    argv = ["/venv/bin/pyflyte-fast-execute", "--dest-dir=/root", "--", "pyflyte-execute"]
    assert rewrite_dest_dir(argv, "/w") == ["/venv/bin/pyflyte-fast-execute", "--dest-dir=/w", "--", "pyflyte-execute"]


def test_dest_dir_of_other_commands_is_left_alone() -> None:
    argv = ["pyflyte-execute", "--dest-dir", "/root"]
    assert rewrite_dest_dir(argv, "/w") == argv
