// A launch plan, workflow or task: its versions, the chosen version's interface, and (launch plans) the launch form.
import { call, identifierVars, type Identifier, type LaunchPlan, type Task, type Workflow } from "./api";
import { Graph } from "./graph";
import { LaunchForm } from "./launch";
import { typeText } from "./literals";
import { KIND_PATH, KIND_TITLE, href, type EntityKind } from "./router";
import { ErrorBox, Section, Spinner, useLoad, when } from "./util";

type Entity = LaunchPlan | Workflow | Task;

async function versions(kind: EntityKind, project: string, domain: string, name: string, signal: AbortSignal): Promise<Entity[]> {
  const vars = { "id.project": project, "id.domain": domain, "id.name": name };
  const query = { limit: 100, "sort_by.key": "created_at", "sort_by.direction": "DESCENDING" };
  if (kind === "launch_plan") {
    return (await call("get", "/api/v1/launch_plans/{id.project}/{id.domain}/{id.name}", vars, { query, signal })).launchPlans ?? [];
  }
  if (kind === "workflow") {
    return (await call("get", "/api/v1/workflows/{id.project}/{id.domain}/{id.name}", vars, { query, signal })).workflows ?? [];
  }
  return (await call("get", "/api/v1/tasks/{id.project}/{id.domain}/{id.name}", vars, { query, signal })).tasks ?? [];
}

function createdAt(entity: Entity): string | undefined {
  return entity.closure?.createdAt;
}

export function EntityPage(props: { project: string; domain: string; kind: EntityKind; name: string; version?: string }) {
  const { project, domain, kind, name } = props;
  const listing = useLoad((signal) => versions(kind, project, domain, name, signal), [kind, project, domain, name]);
  const all = listing.data ?? [];
  const chosen = props.version ? all.find((e) => e.id?.version === props.version) : all[0];
  return (
    <div>
      <h2>
        <span class="muted">{KIND_TITLE[kind].replace(/s$/, "")}</span> {name}
      </h2>
      <ErrorBox error={listing.error} />
      <Spinner when={listing.loading} />
      {props.version && listing.data && !chosen ? <ErrorBox error={`version ${props.version} not found`} /> : null}
      <div class="split">
        <Section title="Versions">
          <ul class="versions">
            {all.map((entity) => (
              <li key={entity.id?.version} class={entity === chosen ? "chosen" : ""}>
                <a href={href("projects", project, "domains", domain, KIND_PATH[kind], name, "version", entity.id?.version ?? "")}>
                  {entity.id?.version}
                </a>
                <span class="muted"> {when(createdAt(entity))}</span>
              </li>
            ))}
          </ul>
        </Section>
        <div class="grow">{chosen?.id ? <Version kind={kind} id={chosen.id} entity={chosen} /> : null}</div>
      </div>
    </div>
  );
}

function Version({ kind, id, entity }: { kind: EntityKind; id: Identifier; entity: Entity }) {
  if (kind === "launch_plan") {
    const plan = entity as LaunchPlan;
    return (
      <div>
        <Section title="Launch">
          <LaunchForm plan={plan} />
        </Section>
        <Section title="Workflow">
          {plan.spec?.workflowId ? (
            <a href={href("projects", id.project ?? "", "domains", id.domain ?? "", "workflows", plan.spec.workflowId.name ?? "", "version", plan.spec.workflowId.version ?? "")}>
              {plan.spec.workflowId.name} {plan.spec.workflowId.version}
            </a>
          ) : null}
          <p class="muted">state: {plan.closure?.state ?? "INACTIVE"}</p>
        </Section>
      </div>
    );
  }
  if (kind === "workflow") return <WorkflowVersion id={id} />;
  const task = entity as Task;
  const template = task.closure?.compiledTask?.template;
  return (
    <Section title={`Task ${template?.type ?? ""}`}>
      <Interface inputs={template?.interface?.inputs?.variables} outputs={template?.interface?.outputs?.variables} />
    </Section>
  );
}

function WorkflowVersion({ id }: { id: Identifier }) {
  const workflow = useLoad((signal) => call("get", "/api/v1/workflows/{id.project}/{id.domain}/{id.name}/{id.version}", identifierVars(id), { signal, query: { "id.resource_type": "WORKFLOW" } }), [
    id.project,
    id.domain,
    id.name,
    id.version,
  ]);
  const compiled = workflow.data?.closure?.compiledWorkflow;
  const template = compiled?.primary?.template;
  return (
    <div>
      <ErrorBox error={workflow.error} />
      <Section title="Interface">
        <Interface inputs={template?.interface?.inputs?.variables} outputs={template?.interface?.outputs?.variables} />
      </Section>
      {compiled ? (
        <Section title="Graph">
          <Graph compiled={compiled} onSelect={() => undefined} />
        </Section>
      ) : null}
    </div>
  );
}

type Variables = Record<string, { type?: import("./api").LiteralType; description?: string }>;

export function Interface({ inputs, outputs }: { inputs?: Variables; outputs?: Variables }) {
  const rows = (title: string, variables?: Variables) =>
    Object.entries(variables ?? {}).map(([name, variable]) => (
      <tr key={`${title}-${name}`}>
        <td class="muted">{title}</td>
        <th>{name}</th>
        <td>
          <code>{typeText(variable.type)}</code>
        </td>
        <td class="muted">{variable.description}</td>
      </tr>
    ));
  return (
    <table class="literals">
      <tbody>
        {rows("input", inputs)}
        {rows("output", outputs)}
      </tbody>
    </table>
  );
}
