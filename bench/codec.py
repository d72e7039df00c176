"""Encode/decode cost of flyteidl messages with protobuf (upb) and with betterproto2 dataclasses.

Workloads: a LiteralMap of 1,000 mixed literals (what task inputs/outputs look like) and a
CompiledWorkflowClosure of 200 nodes (what admin stores and propeller loads per execution).
Run: .venv/bin/python bench/codec.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from google.protobuf import struct_pb2

import flyteidl_py.typed.flyteidl.core as typed_core
from flyteidl_py.core import (
    compiler_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)


def _literal(i: int) -> literals_pb2.Literal:
    kind = i % 10
    s = literals_pb2.Scalar
    if kind == 0:
        return literals_pb2.Literal(scalar=s(primitive=literals_pb2.Primitive(integer=i)))
    if kind == 1:
        return literals_pb2.Literal(scalar=s(primitive=literals_pb2.Primitive(float_value=i / 7)))
    if kind == 2:
        return literals_pb2.Literal(scalar=s(primitive=literals_pb2.Primitive(string_value=f"value-{i}" * 3)))
    if kind == 3:
        when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i)
        p = literals_pb2.Primitive()
        p.datetime.FromDatetime(when)
        return literals_pb2.Literal(scalar=s(primitive=p))
    if kind == 4:
        blob = literals_pb2.Blob(
            uri=f"s3://bucket/raw/{i:06d}/data.parquet",
            metadata=literals_pb2.BlobMetadata(type=types_pb2.BlobType(format="parquet")),
        )
        return literals_pb2.Literal(scalar=s(blob=blob))
    if kind == 5:
        items = [literals_pb2.Literal(scalar=s(primitive=literals_pb2.Primitive(integer=j))) for j in range(8)]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind == 6:
        inner = {
            f"k{j}": literals_pb2.Literal(scalar=s(primitive=literals_pb2.Primitive(boolean=j % 2 == 0)))
            for j in range(4)
        }
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=inner))
    if kind == 7:
        st = struct_pb2.Struct()
        st.update({"name": f"row{i}", "score": i * 1.5, "tags": ["a", "b"], "nested": {"ok": True}})
        return literals_pb2.Literal(scalar=s(generic=st))
    if kind == 8:
        return literals_pb2.Literal(scalar=s(binary=literals_pb2.Binary(value=bytes(range(64)), tag="msgpack")))
    sd = literals_pb2.StructuredDataset(
        uri=f"s3://bucket/sd/{i}",
        metadata=literals_pb2.StructuredDatasetMetadata(
            structured_dataset_type=types_pb2.StructuredDatasetType(format="parquet")
        ),
    )
    return literals_pb2.Literal(scalar=s(structured_dataset=sd))


def literal_map(n: int = 1000) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(literals={f"input_{i}": _literal(i) for i in range(n)})


def compiled_closure(n: int = 200) -> compiler_pb2.CompiledWorkflowClosure:
    int_type = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    iface = interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(variables={"x": interface_pb2.Variable(type=int_type, description="x")}),
        outputs=interface_pb2.VariableMap(variables={"o0": interface_pb2.Variable(type=int_type, description="o0")}),
    )
    task_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK,
        project="flytesnacks",
        domain="development",
        name="wf.add_one",
        version="v1",
    )
    template = tasks_pb2.TaskTemplate(
        id=task_id,
        type="python-task",
        interface=iface,
        container=tasks_pb2.Container(
            image="localhost/app:v1",
            args=[
                "pyflyte-execute",
                "--inputs",
                "{{.input}}",
                "--output-prefix",
                "{{.outputPrefix}}",
                "--resolver",
                "flytekit.core.python_auto_container.default_task_resolver",
                "--",
                "task-module",
                "wf",
                "task-name",
                "add_one",
            ],
        ),
    )
    nodes = []
    for i in range(n):
        upstream = "" if i == 0 else f"n{i - 1}"
        binding = literals_pb2.BindingData(
            promise=types_pb2.OutputReference(node_id=upstream or "start-node", var="o0" if upstream else "x")
        )
        nodes.append(
            workflow_pb2.Node(
                id=f"n{i}",
                metadata=workflow_pb2.NodeMetadata(name="add_one"),
                inputs=[literals_pb2.Binding(var="x", binding=binding)],
                upstream_node_ids=[upstream] if upstream else [],
                task_node=workflow_pb2.TaskNode(reference_id=task_id),
            )
        )
    wf_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW,
        project="flytesnacks",
        domain="development",
        name="wf.chain",
        version="v1",
    )
    wf = workflow_pb2.WorkflowTemplate(id=wf_id, interface=iface, nodes=nodes)
    connections = compiler_pb2.ConnectionSet(
        downstream={f"n{i}": compiler_pb2.ConnectionSet.IdList(ids=[f"n{i + 1}"]) for i in range(n - 1)},
        upstream={f"n{i + 1}": compiler_pb2.ConnectionSet.IdList(ids=[f"n{i}"]) for i in range(n - 1)},
    )
    return compiler_pb2.CompiledWorkflowClosure(
        primary=compiler_pb2.CompiledWorkflow(template=wf, connections=connections),
        tasks=[compiler_pb2.CompiledTask(template=template)],
    )


def _best_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cases = [
        ("LiteralMap, 1,000 mixed literals", literal_map(), literals_pb2.LiteralMap, typed_core.LiteralMap),
        (
            "CompiledWorkflowClosure, 200 nodes",
            compiled_closure(),
            compiler_pb2.CompiledWorkflowClosure,
            typed_core.CompiledWorkflowClosure,
        ),
    ]
    print(f"{'workload':38} {'codec':12} {'op':7} {'best ms':>9} {'median ms':>10} {'bytes':>8}")
    for name, message, pb_cls, typed_cls in cases:
        data = message.SerializeToString()
        typed = typed_cls.parse(data)
        assert pb_cls.FromString(bytes(typed)) == message, "betterproto2 changed the message"
        rows = [
            ("protobuf", "encode", lambda m=message: m.SerializeToString()),
            ("protobuf", "decode", lambda d=data, c=pb_cls: c.FromString(d)),
            ("betterproto2", "encode", lambda t=typed: bytes(t)),
            ("betterproto2", "decode", lambda d=data, c=typed_cls: c.parse(d)),
        ]
        for codec, op, fn in rows:
            best, median = _best_ms(fn, args.repeat)
            print(f"{name:38} {codec:12} {op:7} {best:9.3f} {median:10.3f} {len(data):8}")


if __name__ == "__main__":
    main()
