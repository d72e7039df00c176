// An execution: its summary and actions, the node list, graph and timeline, and the chosen node's details.
// Everything polls while the execution runs and stops when it ends.
import { useCallback, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  all,
  call,
  consoleInfo,
  type ConsoleInfo,
  executionVars,
  identifierVars,
  type CompiledWorkflow,
  type Execution,
  type ExecutionIdentifier,
  type LiteralMap,
  type NodeExecution,
  type TaskExecution,
} from "./api";
import { Graph, type NodeState } from "./graph";
import { LaunchFormFor, SignalForm } from "./launch";
import { LiteralMapView } from "./literals";
import { LogsPanel } from "./logs";
import { executionHref, href, navigate } from "./router";
import { Timeline } from "./timeline";
import { ErrorBox, Phase, Section, Spinner, elapsed, isTerminal, useLoad, when } from "./util";
import { VirtualList } from "./virtual";

const POLL_MS = 2000;
const NODE_PAGE = 2000;

type Tab = "nodes" | "graph" | "timeline";
type Dynamic = { primary: CompiledWorkflow; subWorkflows: CompiledWorkflow[] };

async function nodesUnder(id: ExecutionIdentifier, parent: string, signal: AbortSignal): Promise<NodeExecution[]> {
  return all<NodeExecution>(async (token) => {
    const answer = await call(
      "get",
      "/api/v1/node_executions/{workflow_execution_id.project}/{workflow_execution_id.domain}/{workflow_execution_id.name}",
      executionVars(id, "workflow_execution_id"),
      { query: { limit: NODE_PAGE, token, unique_parent_id: parent || undefined }, signal },
    );
    return { token: answer.token, items: answer.nodeExecutions ?? [] };
  });
}

async function taskExecutionsOf(id: ExecutionIdentifier, nodeId: string, signal?: AbortSignal): Promise<TaskExecution[]> {
  const vars = {
    "node_execution_id.execution_id.project": id.project ?? "",
    "node_execution_id.execution_id.domain": id.domain ?? "",
    "node_execution_id.execution_id.name": id.name ?? "",
    "node_execution_id.node_id": nodeId,
  };
  return all<TaskExecution>(async (token) => {
    const answer = await call(
      "get",
      "/api/v1/task_executions/{node_execution_id.execution_id.project}/{node_execution_id.execution_id.domain}/{node_execution_id.execution_id.name}/{node_execution_id.node_id}",
      vars,
      { query: { limit: 100, token }, signal },
    );
    return { token: answer.token, items: answer.taskExecutions ?? [] };
  });
}

/** A map task's elements by phase, from its task execution's external resources (the latest per index). */
export function elementCounts(attempts: TaskExecution[]): string | undefined {
  const latest = new Map<number, string>();
  for (const attempt of attempts) {
    for (const resource of attempt.closure?.metadata?.externalResources ?? []) {
      latest.set(resource.index ?? 0, resource.phase ?? "UNDEFINED");
    }
  }
  if (latest.size === 0) return undefined;
  const counts = new Map<string, number>();
  for (const phase of latest.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, n]) => `${n} ${phase.toLowerCase()}`)
    .join(", ");
}

function nodeVars(id: ExecutionIdentifier, nodeId: string): Record<string, string> {
  return {
    "id.execution_id.project": id.project ?? "",
    "id.execution_id.domain": id.domain ?? "",
    "id.execution_id.name": id.name ?? "",
    "id.node_id": nodeId,
  };
}

export function ExecutionPage({ project, domain, name }: { project: string; domain: string; name: string }) {
  const id: ExecutionIdentifier = { project, domain, name };
  const execution = useLoad(
    (signal) => call("get", "/api/v1/executions/{id.project}/{id.domain}/{id.name}", executionVars(id, "id"), { signal }),
    [project, domain, name],
    POLL_MS,
    (data) => !isTerminal(data?.closure?.phase),
  );
  const phase = execution.data?.closure?.phase;
  const running = !!execution.data && !isTerminal(phase);
  const workflowId = execution.data?.closure?.workflowId;
  const workflow = useLoad(
    async (signal) => (workflowId ? call("get", "/api/v1/workflows/{id.project}/{id.domain}/{id.name}/{id.version}", identifierVars(workflowId), { signal, query: { "id.resource_type": "WORKFLOW" } }) : undefined),
    [workflowId?.name, workflowId?.version],
  );
  // Node lists: the top level, and the children of each node opened in the list or the graph.
  const [opened, setOpened] = useState<Set<string>>(new Set());
  // Loaded once the execution is known, again when it ends (a final refresh), and polled while it runs;
  // keyed on that stage, not on the phase, so that a listing of thousands is not restarted needlessly.
  const stage = !execution.data ? "" : running ? "running" : "ended";
  const nodes = useLoad(
    async (signal) => {
      if (!stage) return { top: [], children: new Map<string, NodeExecution[]>() };
      const top = await nodesUnder(id, "", signal);
      const children = new Map<string, NodeExecution[]>();
      await Promise.all(
        [...opened].map(async (parent) => {
          try {
            children.set(parent, await nodesUnder(id, parent, signal));
          } catch (error) {
            if (!(error instanceof ApiError && error.status === 404)) throw error;
          }
        }),
      );
      return { top, children };
    },
    [project, domain, name, stage, opened],
    POLL_MS,
    () => running,
  );
  // Map tasks: their element counts, from their task executions.
  const arrays = (nodes.data ? [...nodes.data.top, ...[...nodes.data.children.values()].flat()] : []).filter((n) => n.metadata?.isArray);
  const arrayKey = arrays.map((n) => `${n.id?.nodeId}:${n.closure?.phase}:${n.closure?.updatedAt}`).join(",");
  const counts = useLoad(
    async (signal) => {
      const found = new Map<string, string>();
      for (const node of arrays.slice(0, 50)) {
        const nodeId = node.id?.nodeId ?? "";
        const text = elementCounts(await taskExecutionsOf(id, nodeId, signal));
        if (text) found.set(nodeId, text);
      }
      return found;
    },
    [arrayKey],
  );
  const [dynamics, setDynamics] = useState<Map<string, Dynamic>>(new Map());
  const asked = useRef(new Set<string>());
  const requestDynamic = useCallback(
    (execId: string) => {
      if (asked.current.has(execId)) return;
      asked.current.add(execId);
      setOpened((o) => new Set([...o, execId]));
      call(
        "get",
        "/api/v1/node_executions/{id.execution_id.project}/{id.execution_id.domain}/{id.execution_id.name}/{id.node_id}/dynamic_workflow",
        nodeVars(id, execId),
      ).then(
        (answer) => {
          const closure = answer.compiledWorkflow;
          if (closure?.primary) setDynamics((d) => new Map([...d, [execId, { primary: closure.primary!, subWorkflows: closure.subWorkflows ?? [] }]]));
          else asked.current.delete(execId);
        },
        () => asked.current.delete(execId),
      );
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [project, domain, name],
  );
  const [graphExpanded, setGraphExpanded] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | undefined>();
  const [tab, setTab] = useState<Tab>("graph");

  const byId = useMemo(() => {
    const map = new Map<string, NodeExecution>();
    for (const n of nodes.data?.top ?? []) map.set(n.id?.nodeId ?? "", n);
    for (const list of nodes.data?.children.values() ?? []) for (const n of list) map.set(n.id?.nodeId ?? "", n);
    return map;
  }, [nodes.data]);
  const state = useMemo(() => {
    const toState = (n: NodeExecution): NodeState => ({
      execId: n.id?.nodeId ?? "",
      phase: n.closure?.phase,
      isParent: n.metadata?.isParentNode,
      isDynamic: n.metadata?.isDynamic,
      extra: counts.data?.get(n.id?.nodeId ?? ""),
    });
    // Indexed once per answer: the graph asks for every node it lays out (5,000 lookups, not 5,000 scans).
    const index = new Map<string, NodeState>();
    const add = (parent: string, list: NodeExecution[]) => {
      for (const n of list) index.set(`${parent}\u0000${n.metadata?.specNodeId || n.id?.nodeId}`, toState(n));
    };
    add("", nodes.data?.top ?? []);
    for (const [parent, list] of nodes.data?.children ?? []) add(parent, list);
    return (parent: string, specId: string): NodeState | undefined => index.get(`${parent}\u0000${specId}`);
  }, [nodes.data, counts.data]);
  const dynamic = useCallback((execId: string) => dynamics.get(execId), [dynamics]);
  const toggleGraph = (key: string, execId?: string) => {
    const next = new Set(graphExpanded);
    if (next.has(key)) next.delete(key);
    else {
      next.add(key);
      if (execId) setOpened((o) => new Set([...o, execId]));
    }
    setGraphExpanded(next);
  };

  if (execution.error && !execution.data) {
    return <ErrorBox title={`Execution ${name}`} error={execution.error} />;
  }
  const data = execution.data;
  return (
    <div class="execution">
      <Summary execution={data} loading={execution.loading} onChanged={execution.reload} />
      <ErrorBox error={execution.error} title="Refreshing the execution failed" />
      <Signals id={id} running={running} />
      <div class="split">
        <div class="grow main-col">
          <div class="tabs" role="tablist">
            {(["graph", "nodes", "timeline"] as Tab[]).map((t) => (
              <button type="button" key={t} role="tab" aria-selected={tab === t} class={tab === t ? "active" : ""} onClick={() => setTab(t)}>
                {t === "graph" ? "Graph" : t === "nodes" ? "Nodes" : "Timeline"}
              </button>
            ))}
            <Spinner when={nodes.loading} />
          </div>
          <ErrorBox error={nodes.error} title="Listing the nodes failed" />
          <ErrorBox error={workflow.error} title="Loading the workflow failed" />
          {tab === "graph" && workflow.data?.closure?.compiledWorkflow ? (
            <Graph
              compiled={workflow.data.closure.compiledWorkflow}
              state={state}
              dynamic={dynamic}
              requestDynamic={requestDynamic}
              expanded={graphExpanded}
              onToggle={toggleGraph}
              selected={selected}
              // A node clicked before its execution state arrived is chosen by its key: at the top level that is
              // its node id, so its details open as soon as the node list loads.
              onSelect={(execId, key) => setSelected(execId ?? key)}
            />
          ) : null}
          {tab === "nodes" ? (
            <NodeList
              top={nodes.data?.top ?? []}
              children={nodes.data?.children ?? new Map()}
              opened={opened}
              counts={counts.data}
              onOpen={(execId) => {
                const next = new Set(opened);
                if (next.has(execId)) next.delete(execId);
                else next.add(execId);
                setOpened(next);
              }}
              selected={selected}
              onSelect={setSelected}
            />
          ) : null}
          {tab === "timeline" ? (
            <Timeline id={id} top={nodes.data?.top ?? []} children={nodes.data?.children ?? new Map()} opened={opened} onSelect={setSelected} running={running} attempts={(nodeId, signal) => taskExecutionsOf(id, nodeId, signal)} />
          ) : null}
        </div>
        <aside class="details">
          {selected && byId.get(selected) ? (
            <NodeDetails id={id} node={byId.get(selected)!} running={running} />
          ) : (
            <ExecutionData id={id} phase={phase} />
          )}
        </aside>
      </div>
    </div>
  );
}

function Summary({ execution, loading, onChanged }: { execution?: Execution; loading: boolean; onChanged: () => void }) {
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [relaunching, setRelaunching] = useState(false);
  const id = execution?.id ?? {};
  const closure = execution?.closure ?? {};
  const spec = execution?.spec ?? {};
  const trace = useLoad(async (): Promise<ConsoleInfo> => (id.name ? consoleInfo(id) : {}), [id.name]);
  if (!execution) return <Spinner when={loading} />;
  const terminate = async () => {
    setError(undefined);
    try {
      await call("delete", "/api/v1/executions/{id.project}/{id.domain}/{id.name}", executionVars(id, "id"), {
        body: { id, cause: "terminated from the console" },
      });
      setMessage("Termination requested.");
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const relaunch = async () => {
    setError(undefined);
    try {
      const answer = await call("post", "/api/v1/executions/relaunch", {}, { body: { id } });
      const next = answer.id;
      if (next) navigate(executionHref(next.project ?? "", next.domain ?? "", next.name ?? ""));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  // RecoverExecution: a new execution (mode RECOVERED) that reuses the outputs of the nodes that succeeded.
  const recover = async () => {
    setError(undefined);
    try {
      const answer = await call("post", "/api/v1/executions/recover", {}, { body: { id } });
      const next = answer.id;
      if (next) navigate(executionHref(next.project ?? "", next.domain ?? "", next.name ?? ""));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const labels = Object.entries(spec.labels?.values ?? {});
  return (
    <div class="summary">
      <div class="title-row">
        <h2 class="execution-name">{id.name}</h2>
        <Phase phase={closure.phase} />
        <span class="muted">{elapsed(closure.startedAt, closure.duration, closure.phase)}</span>
        <div class="actions">
          {!isTerminal(closure.phase) ? (
            <button type="button" class="danger" onClick={terminate}>
              Terminate
            </button>
          ) : null}
          {closure.phase === "FAILED" ? (
            <button type="button" onClick={recover} title="a new execution that reuses the outputs of the nodes that succeeded">
              Recover
            </button>
          ) : null}
          <button type="button" onClick={relaunch}>
            Relaunch
          </button>
          <button type="button" onClick={() => setRelaunching(!relaunching)}>
            Relaunch with new inputs…
          </button>
          {trace.data?.traceUrl && /^https?:\/\//.test(trace.data.traceUrl) ? (
            <a class="button" href={trace.data.traceUrl} target="_blank" rel="noopener noreferrer" data-trace-id={trace.data.traceId}>
              Trace
            </a>
          ) : null}
        </div>
      </div>
      <dl class="facts">
        <dt>Launch plan</dt>
        <dd>
          {spec.launchPlan ? (
            <a href={href("projects", spec.launchPlan.project ?? "", "domains", spec.launchPlan.domain ?? "", "launch_plans", spec.launchPlan.name ?? "", "version", spec.launchPlan.version ?? "")}>
              {spec.launchPlan.name} <span class="muted">{spec.launchPlan.version}</span>
            </a>
          ) : null}
        </dd>
        <dt>Workflow</dt>
        <dd>{closure.workflowId?.name}</dd>
        <dt>Created</dt>
        <dd>{when(closure.createdAt)}</dd>
        <dt>Mode</dt>
        <dd>{spec.metadata?.mode ?? "MANUAL"}</dd>
        {labels.length ? (
          <>
            <dt>Labels</dt>
            <dd class="labels">
              {labels.map(([k, v]) => (
                <span class="label" key={k}>
                  {k}={v}
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {spec.metadata?.referenceExecution ? (
          <>
            <dt>{spec.metadata.mode === "RECOVERED" ? "Recovery of" : "Relaunch of"}</dt>
            <dd>{spec.metadata.referenceExecution.name}</dd>
          </>
        ) : null}
      </dl>
      {closure.error ? <ErrorBox title={`${closure.error.kind ?? ""} error ${closure.error.code ?? ""}`} error={closure.error.message} /> : null}
      {closure.abortMetadata?.cause || closure.abortCause ? <p class="muted">Aborted: {closure.abortMetadata?.cause ?? closure.abortCause}</p> : null}
      {message ? <p class="note">{message}</p> : null}
      <ErrorBox error={error} title="The action failed" />
      {relaunching && spec.launchPlan ? <LaunchFormFor planId={spec.launchPlan} initial={spec.inputs} /> : null}
    </div>
  );
}

function Signals({ id, running }: { id: ExecutionIdentifier; running: boolean }) {
  const signals = useLoad(
    (signal) =>
      call(
        "get",
        "/api/v1/signals/{workflow_execution_id.project}/{workflow_execution_id.domain}/{workflow_execution_id.name}",
        executionVars(id, "workflow_execution_id"),
        { query: { limit: 100 }, signal },
      ),
    [id.name, running],
    POLL_MS,
    () => running,
  );
  const list = signals.data?.signals ?? [];
  if (!list.length && !signals.error) return null;
  return (
    <Section title="Gates and signals">
      <ErrorBox error={signals.error} />
      {list.map((s) => (
        <div class="signal" key={s.id?.signalId} data-signal={s.id?.signalId}>
          <strong>{s.id?.signalId}</strong>{" "}
          {s.value ? (
            <span>
              set: <LiteralMapView map={{ literals: { value: s.value } }} />
            </span>
          ) : running ? (
            <SignalForm signal={s} onSet={signals.reload} />
          ) : (
            <span class="muted">never set</span>
          )}
        </div>
      ))}
    </Section>
  );
}

function NodeList(props: {
  top: NodeExecution[];
  children: Map<string, NodeExecution[]>;
  opened: Set<string>;
  counts?: Map<string, string>;
  onOpen: (execId: string) => void;
  selected?: string;
  onSelect: (execId: string) => void;
}) {
  const rows: { node: NodeExecution; depth: number }[] = [];
  const add = (list: NodeExecution[], depth: number) => {
    for (const node of list) {
      const nodeId = node.id?.nodeId ?? "";
      if (nodeId === "start-node" || nodeId === "end-node") continue;
      rows.push({ node, depth });
      if (props.opened.has(nodeId)) add(props.children.get(nodeId) ?? [], depth + 1);
    }
  };
  add(props.top, 0);
  return (
    <div class="node-list">
      <div class="table-head node-row">
        <span>Node</span>
        <span>Phase</span>
        <span>Started</span>
        <span>Duration</span>
      </div>
      <VirtualList
        items={rows}
        rowHeight={32}
        height={520}
        row={({ node, depth }) => {
          const nodeId = node.id?.nodeId ?? "";
          const parent = node.metadata?.isParentNode;
          return (
            <div class={`node-row ${props.selected === nodeId ? "selected" : ""}`} data-node-row={nodeId} onClick={() => props.onSelect(nodeId)}>
              <span style={{ paddingLeft: `${depth * 16}px` }}>
                {parent ? (
                  <button
                    type="button"
                    class="link"
                    onClick={(e) => {
                      e.stopPropagation();
                      props.onOpen(nodeId);
                    }}
                  >
                    {props.opened.has(nodeId) ? "▾" : "▸"}
                  </button>
                ) : (
                  <span class="spacer" />
                )}
                {node.metadata?.specNodeId || nodeId} <span class="muted">{nodeId}</span>
                {props.counts?.get(nodeId) ? <span class="muted"> · {props.counts.get(nodeId)}</span> : null}
              </span>
              <Phase phase={node.closure?.phase} />
              <span>{when(node.closure?.startedAt)}</span>
              <span>{elapsed(node.closure?.startedAt, node.closure?.duration, node.closure?.phase)}</span>
            </div>
          );
        }}
      />
    </div>
  );
}

/** The typed inputs and outputs of an execution or a node, as the data endpoints answer them. */
function InputsOutputs({ data }: { data?: { fullInputs?: LiteralMap; fullOutputs?: LiteralMap } }) {
  return (
    <>
      <Section title="Inputs">
        <LiteralMapView map={data?.fullInputs} />
      </Section>
      <Section title="Outputs">
        <LiteralMapView map={data?.fullOutputs} />
      </Section>
    </>
  );
}

function ExecutionData({ id, phase }: { id: ExecutionIdentifier; phase?: string }) {
  const data = useLoad((signal) => call("get", "/api/v1/data/executions/{id.project}/{id.domain}/{id.name}", executionVars(id, "id"), { signal }), [id.name, phase]);
  return (
    <div>
      <p class="muted">Choose a node for its details.</p>
      <ErrorBox error={data.error} />
      <InputsOutputs data={data.data} />
    </div>
  );
}

function NodeDetails({ id, node, running }: { id: ExecutionIdentifier; node: NodeExecution; running: boolean }) {
  const nodeId = node.id?.nodeId ?? "";
  const nodePhase = node.closure?.phase;
  const nodeRunning = running && !isTerminal(nodePhase);
  const attempts = useLoad((signal) => taskExecutionsOf(id, nodeId, signal), [nodeId, nodePhase, node.closure?.updatedAt]);
  const data = useLoad(
    (signal) =>
      call(
        "get",
        "/api/v1/data/node_executions/{id.execution_id.project}/{id.execution_id.domain}/{id.execution_id.name}/{id.node_id}",
        nodeVars(id, nodeId),
        { signal },
      ),
    [nodeId, nodePhase],
  );
  const [attempt, setAttempt] = useState<number | undefined>();
  const list = [...(attempts.data ?? [])].sort((a, b) => (a.id?.retryAttempt ?? 0) - (b.id?.retryAttempt ?? 0));
  const chosen = attempt ?? (list.length ? list[list.length - 1].id?.retryAttempt ?? 0 : undefined);
  const chosenAttempt = list.find((a) => (a.id?.retryAttempt ?? 0) === chosen);
  const meta = node.closure?.taskNodeMetadata;
  const childExecution = node.closure?.workflowNodeMetadata?.executionId;
  return (
    <div class="node-details" data-details={nodeId}>
      <h3>
        {node.metadata?.specNodeId || nodeId} <Phase phase={nodePhase} />
      </h3>
      <dl class="facts">
        <dt>Node id</dt>
        <dd>{nodeId}</dd>
        <dt>Started</dt>
        <dd>{when(node.closure?.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{elapsed(node.closure?.startedAt, node.closure?.duration, nodePhase)}</dd>
        <dt>Attempts</dt>
        <dd data-attempts={list.length}>{list.length}</dd>
        {meta?.cacheStatus ? (
          <>
            <dt>Cache</dt>
            <dd data-cache={meta.cacheStatus}>
              {meta.cacheStatus}
              {MISSES.includes(meta.cacheStatus) ? <CacheExplain id={id} nodeId={nodeId} /> : null}
            </dd>
          </>
        ) : null}
        {childExecution ? (
          <>
            <dt>Child execution</dt>
            <dd>
              <a href={executionHref(childExecution.project ?? "", childExecution.domain ?? "", childExecution.name ?? "")}>{childExecution.name}</a>
            </dd>
          </>
        ) : null}
      </dl>
      {node.closure?.error ? <ErrorBox title={`Error ${node.closure.error.code ?? ""}`} error={node.closure.error.message} /> : null}
      <ErrorBox error={attempts.error} />
      {list.length ? (
        <Section title="Attempts">
          <table class="attempts">
            <tbody>
              {list.map((a) => {
                const n = a.id?.retryAttempt ?? 0;
                return (
                  <tr key={n} class={n === chosen ? "chosen" : ""} onClick={() => setAttempt(n)} data-attempt={n}>
                    <td>#{n}</td>
                    <td>
                      <Phase phase={a.closure?.phase} />
                    </td>
                    <td>{elapsed(a.closure?.startedAt, a.closure?.duration, a.closure?.phase)}</td>
                    <td class="attempt-error">{a.closure?.error?.message?.split("\n").slice(-2).join(" ")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {chosenAttempt?.closure?.error ? <ErrorBox title={`Attempt ${chosen} error`} error={chosenAttempt.closure.error.message} /> : null}
          {(chosenAttempt?.closure?.logs ?? []).map((log) =>
            log.uri && /^https?:\/\//.test(log.uri) ? (
              <a key={log.uri} href={log.uri} target="_blank" rel="noopener noreferrer" class="log-link">
                {log.name || "log"}
              </a>
            ) : (
              <span key={log.uri} class="muted log-link">
                {log.name}: {log.uri}
              </span>
            ),
          )}
        </Section>
      ) : null}
      {chosen !== undefined && !node.metadata?.isArray ? (
        <LogsPanel key={`${nodeId}/${chosen}`} id={id} nodeId={nodeId} attempt={chosen} running={nodeRunning} />
      ) : null}
      {node.metadata?.isArray ? <ElementLog id={id} nodeId={nodeId} attempts={list} running={nodeRunning} /> : null}
      <ErrorBox error={data.error} />
      <InputsOutputs data={data.data} />
    </div>
  );
}

// A lookup that missed: CACHE_POPULATED is a miss whose outputs were then stored.
const MISSES = ["CACHE_MISS", "CACHE_POPULATED"];

/** Why the node's cache lookup missed (or a map element's: `index`): `flyteplane cache explain`'s report, asked of
 * admin on demand. */
function CacheExplain({ id, nodeId, index }: { id: ExecutionIdentifier; nodeId: string; index?: number }) {
  const [state, setState] = useState<{ loading?: boolean; report?: string; error?: string }>({});
  const ask = async () => {
    setState({ loading: true });
    const path = [id.project, id.domain, id.name].map((p) => encodeURIComponent(p ?? "")).join("/");
    try {
      const response = await fetch(`/api/v1/console/cache_explain/${path}?${new URLSearchParams(index === undefined ? { node_id: nodeId } : { node_id: nodeId, index: String(index) })}`);
      const body = await response.text();
      if (response.ok) return setState({ report: body });
      let message = body.slice(0, 500);
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // plain text
      }
      setState({ error: `${response.status}: ${message}` });
    } catch (e) {
      setState({ error: `admin cannot be reached: ${String(e)}` });
    }
  };
  return (
    <>
      {" "}
      <button type="button" class="link" onClick={ask} disabled={state.loading} data-cache-explain-button>
        Why a miss?
      </button>
      <Spinner when={!!state.loading} />
      {state.error ? <span class="error-inline">{state.error}</span> : null}
      {state.report !== undefined ? <pre class="cache-explain">{state.report}</pre> : null}
    </>
  );
}

/** A map task's element log: the element is chosen by its index; its phase comes from the external resources. */
function ElementLog({ id, nodeId, attempts, running }: { id: ExecutionIdentifier; nodeId: string; attempts: TaskExecution[]; running: boolean }) {
  const phases = new Map<number, string>();
  const caching = new Map<number, string>();
  for (const attempt of attempts) {
    for (const resource of attempt.closure?.metadata?.externalResources ?? []) {
      phases.set(resource.index ?? 0, resource.phase ?? "UNDEFINED");
      if (resource.cacheStatus) caching.set(resource.index ?? 0, resource.cacheStatus);
    }
  }
  const size = phases.size ? Math.max(...phases.keys()) + 1 : 0;
  const [text, setText] = useState("0");
  const [shown, setShown] = useState<number | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const show = (e: Event) => {
    e.preventDefault();
    const value = text.trim();
    if (!/^\d+$/.test(value)) return setProblem("an element index is a whole number");
    if (size && Number(value) >= size) return setProblem(`this map has elements 0 to ${size - 1}`);
    setProblem(undefined);
    setShown(Number(value));
  };
  const phase = shown !== undefined ? phases.get(shown) : undefined;
  const cacheStatus = shown !== undefined ? caching.get(shown) : undefined;
  return (
    <Section title="Element logs">
      <form class="element-log" onSubmit={show}>
        <label>
          Element{" "}
          <input name="element" type="number" min={0} max={size ? size - 1 : undefined} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit">Show log</button>
        {size ? <span class="muted">0–{size - 1}</span> : null}
        {phase ? <Phase phase={phase} /> : null}
      </form>
      {problem ? <p class="error-inline">{problem}</p> : null}
      {shown !== undefined && cacheStatus && cacheStatus !== "CACHE_DISABLED" ? (
        <p class="element-cache" data-element-cache={cacheStatus}>
          Cache {cacheStatus}
          {MISSES.includes(cacheStatus) ? <CacheExplain key={shown} id={id} nodeId={nodeId} index={shown} /> : null}
        </p>
      ) : null}
      {shown !== undefined ? (
        <LogsPanel key={`${nodeId}[${shown}]`} id={id} nodeId={nodeId} index={shown} running={running && !isTerminal(phase)} />
      ) : null}
    </Section>
  );
}
