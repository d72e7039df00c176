// Lists projects, launches a registered launch plan with typed inputs through the Connect client
// generated (protoc-gen-es) from flyteplane's idl/, waits for the execution to succeed and prints
// one JSON line with what it read.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { AdminService } from "./gen/flyteidl/service/admin_pb.js";
import { ExecutionMetadata_ExecutionMode } from "./gen/flyteidl/admin/execution_pb.js";
import { ResourceType } from "./gen/flyteidl/core/identifier_pb.js";
import { WorkflowExecution_Phase } from "./gen/flyteidl/core/execution_pb.js";
import type { Literal, LiteralSchema, Primitive } from "./gen/flyteidl/core/literals_pb.js";

function arg(flag: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : "";
}

type LiteralInit = MessageInitShape<typeof LiteralSchema>;
type PrimitiveValue = Exclude<Primitive["value"], { case: undefined }>;

function primitive(value: PrimitiveValue): LiteralInit {
  return { value: { case: "scalar", value: { value: { case: "primitive", value: { value } } } } };
}

function primitiveOf(literal: Literal | undefined): Primitive["value"] | undefined {
  const scalar = literal?.value.case === "scalar" ? literal.value.value : undefined;
  return scalar?.value.case === "primitive" ? scalar.value.value.value : undefined;
}

async function main(): Promise<void> {
  const [project, domain] = [arg("--project"), arg("--domain")];
  const client = createClient(AdminService, createGrpcTransport({ baseUrl: `http://${arg("--admin")}` }));

  const projects = await client.listProjects({});

  const integer = (v: bigint): LiteralInit => primitive({ case: "integer", value: v });
  const created = await client.createExecution({
    project,
    domain,
    name: arg("--execution"),
    spec: {
      launchPlan: {
        resourceType: ResourceType.LAUNCH_PLAN,
        project,
        domain,
        name: arg("--launch-plan"),
        version: arg("--version"),
      },
      metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL, principal: "ts-client" },
    },
    inputs: {
      literals: {
        n: integer(3n),
        word: primitive({ case: "stringValue", value: "ab" }),
        scale: primitive({ case: "floatValue", value: 1.5 }),
        xs: { value: { case: "collection", value: { literals: [integer(4n), integer(5n)] } } },
      },
    },
  });
  const id = created.id!;

  const terminal = [
    WorkflowExecution_Phase.SUCCEEDED,
    WorkflowExecution_Phase.FAILED,
    WorkflowExecution_Phase.ABORTED,
    WorkflowExecution_Phase.TIMED_OUT,
  ];
  let phase: WorkflowExecution_Phase;
  for (;;) {
    phase = (await client.getExecution({ id })).closure?.phase ?? WorkflowExecution_Phase.UNDEFINED;
    if (terminal.includes(phase)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const outputs = (await client.getExecutionData({ id })).fullOutputs?.literals ?? {};
  const [o0, o1, o2] = ["o0", "o1", "o2"].map((name) => primitiveOf(outputs[name])?.value);
  console.log(
    JSON.stringify({
      projects: projects.projects.map((p) => p.id),
      execution: id.name,
      phase: WorkflowExecution_Phase[phase],
      outputs: { o0: Number(o0), o1, o2 },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
