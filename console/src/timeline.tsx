// The timeline: a Gantt row per node (and per attempt, where a node has several), on one time axis.
import { useMemo } from "preact/hooks";
import type { ExecutionIdentifier, NodeExecution, TaskExecution } from "./api";
import { ErrorBox, formatSeconds, isTerminal, phaseColour, seconds, useLoad } from "./util";
import { VirtualList } from "./virtual";

interface Bar {
  key: string;
  label: string;
  depth: number;
  nodeId: string;
  start?: number;
  end?: number;
  phase?: string;
  attempt?: number;
}

const ATTEMPTS_UP_TO = 200; // nodes whose attempts are fetched; past that, node bars only

interface Times {
  startedAt?: string;
  createdAt?: string;
  updatedAt?: string;
  duration?: string;
  phase?: string;
}

/** Where a bar lies: from its start (its creation when it never reported running) for its duration;
 * while it runs, up to now; a terminal one without a duration ends at its last update. */
function span(times: Times): { start?: number; end?: number } {
  const from = times.startedAt ?? times.createdAt;
  if (!from) return {};
  const start = Date.parse(from);
  const length = seconds(times.duration);
  if (length > 0) return { start, end: start + length * 1000 };
  if (!isTerminal(times.phase) && times.phase !== "RETRYABLE_FAILURE") return { start, end: Date.now() };
  return { start, end: Math.max(start, times.updatedAt ? Date.parse(times.updatedAt) : start) };
}

export function Timeline(props: {
  id: ExecutionIdentifier;
  top: NodeExecution[];
  children: Map<string, NodeExecution[]>;
  opened: Set<string>;
  running: boolean;
  onSelect: (nodeId: string) => void;
  attempts: (nodeId: string, signal: AbortSignal) => Promise<TaskExecution[]>;
}) {
  const nodes = useMemo(() => {
    const rows: { node: NodeExecution; depth: number }[] = [];
    const add = (list: NodeExecution[], depth: number) => {
      for (const node of [...list].sort((a, b) => (a.closure?.startedAt ?? "~").localeCompare(b.closure?.startedAt ?? "~"))) {
        const nodeId = node.id?.nodeId ?? "";
        if (nodeId === "start-node" || nodeId === "end-node") continue;
        rows.push({ node, depth });
        if (props.opened.has(nodeId)) add(props.children.get(nodeId) ?? [], depth + 1);
      }
    };
    add(props.top, 0);
    return rows;
  }, [props.top, props.children, props.opened]);
  const taskNodes = nodes.filter(({ node }) => !node.metadata?.isParentNode && !node.metadata?.isArray).slice(0, ATTEMPTS_UP_TO);
  const key = taskNodes.map(({ node }) => `${node.id?.nodeId}:${node.closure?.phase}`).join(",");
  const attempts = useLoad(
    async (signal) => {
      const found = new Map<string, TaskExecution[]>();
      await Promise.all(taskNodes.map(async ({ node }) => found.set(node.id?.nodeId ?? "", await props.attempts(node.id?.nodeId ?? "", signal))));
      return found;
    },
    [key],
  );
  const bars: Bar[] = [];
  for (const { node, depth } of nodes) {
    const nodeId = node.id?.nodeId ?? "";
    bars.push({ key: nodeId, label: node.metadata?.specNodeId || nodeId, depth, nodeId, phase: node.closure?.phase, ...span(node.closure ?? {}) });
    const tries = attempts.data?.get(nodeId) ?? [];
    if (tries.length > 1) {
      for (const a of tries) {
        const n = a.id?.retryAttempt ?? 0;
        bars.push({ key: `${nodeId}#${n}`, label: `attempt ${n}`, depth: depth + 1, nodeId, attempt: n, phase: a.closure?.phase, ...span(a.closure ?? {}) });
      }
    }
  }
  const starts = bars.map((b) => b.start).filter((s): s is number => s !== undefined);
  const ends = bars.map((b) => b.end).filter((s): s is number => s !== undefined);
  const t0 = starts.length ? Math.min(...starts) : 0;
  const t1 = ends.length ? Math.max(...ends, t0 + 1000) : t0 + 1000;
  const total = t1 - t0;
  return (
    <div class="timeline">
      <ErrorBox error={attempts.error} />
      <div class="timeline-axis">
        <span>0s</span>
        <span>{formatSeconds(total / 2000)}</span>
        <span>{formatSeconds(total / 1000)}</span>
      </div>
      <VirtualList
        items={bars}
        rowHeight={24}
        height={520}
        row={(bar) => (
          <div class="timeline-row" data-timeline={bar.key} onClick={() => props.onSelect(bar.nodeId)}>
            <span class="timeline-label" style={{ paddingLeft: `${bar.depth * 12}px` }}>
              {bar.label}
            </span>
            <span class="timeline-track">
              {bar.start !== undefined && bar.end !== undefined ? (
                <span
                  class={`timeline-bar ${bar.attempt !== undefined ? "attempt" : ""}`}
                  title={`${bar.label}: ${formatSeconds((bar.end - bar.start) / 1000)} ${bar.phase ?? ""}`}
                  style={{
                    left: `${((bar.start - t0) / total) * 100}%`,
                    width: `${Math.max(0.3, ((bar.end - bar.start) / total) * 100)}%`,
                    background: phaseColour(bar.phase),
                  }}
                />
              ) : null}
            </span>
          </div>
        )}
      />
    </div>
  );
}
