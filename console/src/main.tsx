// The console's shell: header, the page the URL names, and the list pages.
import { render } from "preact";
import { useState } from "preact/hooks";
import { all, call, type Execution, type NamedEntity } from "./api";
import { ExecutionPage } from "./execution";
import { EntityPage } from "./entity";
import { KIND_PATH, KIND_TITLE, executionHref, href, useRoute, type EntityKind, type Route } from "./router";
import "./style.css";
import { ErrorBox, Phase, Spinner, elapsed, useLoad, when } from "./util";
import { VirtualList } from "./virtual";

const KIND_TYPE: Record<EntityKind, "LAUNCH_PLAN" | "WORKFLOW" | "TASK"> = {
  launch_plan: "LAUNCH_PLAN",
  workflow: "WORKFLOW",
  task: "TASK",
};

function App() {
  const route = useRoute();
  return (
    <div class="app">
      <Header route={route} />
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}

function Header({ route }: { route: Route }) {
  const scoped = "project" in route ? route : undefined;
  return (
    <header>
      <a class="brand" href={href()}>
        flyteplane
      </a>
      {scoped ? (
        <nav>
          <span class="crumb">{scoped.project}</span>
          <span class="crumb">{scoped.domain}</span>
          <a href={href("projects", scoped.project, "domains", scoped.domain, "executions")}>Executions</a>
          {(Object.keys(KIND_PATH) as EntityKind[]).map((kind) => (
            <a key={kind} href={href("projects", scoped.project, "domains", scoped.domain, KIND_PATH[kind])}>
              {KIND_TITLE[kind]}
            </a>
          ))}
        </nav>
      ) : null}
    </header>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "projects":
      return <Projects />;
    case "executions":
      return <Executions key={`${route.project}/${route.domain}`} project={route.project} domain={route.domain} />;
    case "execution":
      return <ExecutionPage key={`${route.project}/${route.domain}/${route.name}`} {...route} />;
    case "entities":
      return <Entities key={`${route.project}/${route.domain}/${route.kind}`} {...route} />;
    case "entity":
      return <EntityPage key={`${route.project}/${route.domain}/${route.kind}/${route.name}/${route.version ?? ""}`} {...route} />;
    case "notfound":
      return <ErrorBox title="No such page" error={`The console has no page at ${route.path}.`} />;
  }
}

function Projects() {
  const projects = useLoad((signal) => call("get", "/api/v1/projects", {}, { signal }), []);
  return (
    <div>
      <h2>Projects</h2>
      <ErrorBox error={projects.error} />
      <Spinner when={projects.loading && !projects.data} />
      <div class="cards">
        {(projects.data?.projects ?? []).map((project) => (
          <div class="card" key={project.id}>
            <h3>{project.name || project.id}</h3>
            <p class="muted">{project.description}</p>
            <div class="domains">
              {(project.domains ?? []).map((domain) => (
                <a key={domain.id} class="button" href={href("projects", project.id ?? "", "domains", domain.id ?? "", "executions")}>
                  {domain.name || domain.id}
                </a>
              ))}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

const PHASES = ["", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"];
const PAGE = 100;

function Executions({ project, domain }: { project: string; domain: string }) {
  const [phase, setPhase] = useState("");
  const [launchPlan, setLaunchPlan] = useState("");
  const [name, setName] = useState("");
  const [pages, setPages] = useState(1);
  const filters = [
    phase ? `eq(phase,${phase})` : "",
    launchPlan ? `contains(launch_plan.name,${launchPlan})` : "",
    name ? `contains(name,${name})` : "",
  ]
    .filter(Boolean)
    .join("+");
  const listing = useLoad(
    async (signal) => {
      const found: Execution[] = [];
      let token = "";
      for (let page = 0; page < pages; page++) {
        const answer = await call(
          "get",
          "/api/v1/executions/{id.project}/{id.domain}",
          { "id.project": project, "id.domain": domain },
          { query: { limit: PAGE, token, filters, "sort_by.key": "created_at", "sort_by.direction": "DESCENDING" }, signal },
        );
        found.push(...(answer.executions ?? []));
        token = answer.token ?? "";
        if (!token) break;
      }
      return { executions: found, more: token !== "" };
    },
    [project, domain, filters, pages],
    3000,
    () => true,
  );
  const executions = listing.data?.executions ?? [];
  return (
    <div>
      <h2>Executions</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Phase{" "}
          <select value={phase} onChange={(e) => setPhase(e.currentTarget.value)} name="phase">
            {PHASES.map((p) => (
              <option key={p} value={p}>
                {p || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Launch plan <input name="launch_plan" value={launchPlan} onInput={(e) => setLaunchPlan(e.currentTarget.value)} />
        </label>
        <label>
          Name <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <Spinner when={listing.loading} />
      </form>
      <ErrorBox error={listing.error} />
      <div class="table-head exec-row">
        <span>Name</span>
        <span>Phase</span>
        <span>Launch plan</span>
        <span>Started</span>
        <span>Duration</span>
      </div>
      <VirtualList
        items={executions}
        rowHeight={34}
        height={Math.min(600, Math.max(68, executions.length * 34))}
        className="executions"
        row={(execution) => {
          const id = execution.id ?? {};
          const closure = execution.closure ?? {};
          return (
            <div class="exec-row" data-execution={id.name}>
              <a href={executionHref(id.project ?? "", id.domain ?? "", id.name ?? "")}>{id.name}</a>
              <Phase phase={closure.phase} />
              <span>
                {execution.spec?.launchPlan?.name}
                <span class="muted"> {execution.spec?.launchPlan?.version}</span>
              </span>
              <span>{when(closure.startedAt ?? closure.createdAt)}</span>
              <span>{elapsed(closure.startedAt, closure.duration, closure.phase)}</span>
            </div>
          );
        }}
      />
      {executions.length === 0 && !listing.loading && !listing.error ? <p class="muted">No executions.</p> : null}
      {listing.data?.more ? (
        <button type="button" onClick={() => setPages(pages + 1)}>
          Load more
        </button>
      ) : null}
    </div>
  );
}

function Entities({ project, domain, kind }: { project: string; domain: string; kind: EntityKind }) {
  const listing = useLoad(
    (signal) =>
      all<NamedEntity>(async (token) => {
        const answer = await call(
          "get",
          "/api/v1/named_entities/{resource_type}/{project}/{domain}",
          { resource_type: KIND_TYPE[kind], project, domain },
          { query: { limit: 200, token, "sort_by.key": "name", "sort_by.direction": "ASCENDING" }, signal },
        );
        return { token: answer.token, items: answer.entities ?? [] };
      }),
    [project, domain, kind],
  );
  return (
    <div>
      <h2>{KIND_TITLE[kind]}</h2>
      <ErrorBox error={listing.error} />
      <Spinner when={listing.loading} />
      <ul class="entities">
        {(listing.data ?? []).map((entity) => (
          <li key={entity.id?.name}>
            <a href={href("projects", project, "domains", domain, KIND_PATH[kind], entity.id?.name ?? "")}>{entity.id?.name}</a>
            <span class="muted"> {entity.metadata?.description}</span>
          </li>
        ))}
      </ul>
      {listing.data?.length === 0 ? <p class="muted">None registered.</p> : null}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
