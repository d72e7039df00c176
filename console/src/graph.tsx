// The workflow's graph: nodes from the compiled closure coloured by phase, edges from its connections.
// Sub-workflows, branches and @dynamic children expand in place (their start and end take the parent's
// edges); only what is expanded is laid out, so a 5,000-node workflow lays out one level at a time.
// dagre lays out graphs of ordinary size; past LARGE nodes a linear layering by longest path takes
// over (dagre's crossing minimisation is quadratic), and only the nodes in view are in the DOM.
import dagre from "@dagrejs/dagre";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { CompiledWorkflow, CompiledWorkflowClosure, CoreNode } from "./api";
import { phaseColour } from "./util";

export interface NodeState {
  execId: string;
  phase?: string;
  isParent?: boolean;
  isDynamic?: boolean;
  /** A line under the name: a map task's element counts by phase, retries. */
  extra?: string;
}

export interface Template {
  nodes: CoreNode[];
  downstream: Record<string, string[]>;
}

export interface GraphProps {
  compiled: CompiledWorkflowClosure;
  /** The state of spec node `specId` under the node execution `parentExec` ("" at the top). */
  state?: (parentExec: string, specId: string) => NodeState | undefined;
  /** The workflow a @dynamic node produced, once known (the caller loads it when asked). */
  dynamic?: (execId: string) => { primary: CompiledWorkflow; subWorkflows: CompiledWorkflow[] } | undefined;
  requestDynamic?: (execId: string) => void;
  expanded?: Set<string>;
  onToggle?: (key: string, execId: string | undefined) => void;
  selected?: string;
  onSelect: (execId: string | undefined, key: string) => void;
  height?: number;
}

interface Placed {
  key: string;
  execId?: string;
  label: string;
  kind: string;
  phase?: string;
  extra?: string;
  expandable: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Group {
  key: string;
  execId?: string;
  label: string;
  phase?: string;
  members: string[];
  depth: number;
  box?: { x: number; y: number; w: number; h: number };
}

const LARGE = 600;
const NODE_W = 170;
const NODE_H = 44;
const SMALL = 18;

function template(compiled: CompiledWorkflow): Template {
  const downstream: Record<string, string[]> = {};
  for (const [from, ids] of Object.entries(compiled.connections?.downstream ?? {})) downstream[from] = ids.ids ?? [];
  return { nodes: compiled.template?.nodes ?? [], downstream };
}

function sameId(a?: { project?: string; domain?: string; name?: string; version?: string }, b?: typeof a): boolean {
  return !!a && !!b && a.project === b.project && a.domain === b.domain && a.name === b.name && a.version === b.version;
}

function kindOf(node: CoreNode): string {
  if (node.id === "start-node" || node.id === "end-node") return "terminal";
  if (node.arrayNode) return "map";
  if (node.branchNode) return "branch";
  if (node.gateNode) return "gate";
  if (node.workflowNode?.subWorkflowRef) return "subworkflow";
  if (node.workflowNode?.launchplanRef) return "launchplan";
  return "task";
}

function branchChildren(node: CoreNode): Template {
  const ifElse = node.branchNode?.ifElse;
  const nodes: CoreNode[] = [];
  if (ifElse?.case?.thenNode) nodes.push(ifElse.case.thenNode);
  for (const other of ifElse?.other ?? []) if (other.thenNode) nodes.push(other.thenNode);
  if (ifElse?.elseNode) nodes.push(ifElse.elseNode);
  return { nodes, downstream: {} };
}

interface Built {
  nodes: Placed[];
  edges: [string, string][];
  groups: Group[];
}

function build(props: GraphProps, subWorkflows: CompiledWorkflow[]): Built {
  const nodes: Placed[] = [];
  const edges: [string, string][] = [];
  const groups: Group[] = [];
  const expanded = props.expanded ?? new Set<string>();

  const addLevel = (prefix: string, parentExec: string, level: Template, subs: CompiledWorkflow[], depth: number) => {
    const ends = new Map<string, { entry: string[]; exit: string[] }>();
    const members: string[] = [];
    for (const node of level.nodes) {
      const specId = node.id ?? "";
      const key = prefix ? `${prefix}/${specId}` : specId;
      const state = props.state?.(parentExec, specId);
      const kind = kindOf(node);
      let inner: Template | undefined;
      let innerSubs = subs;
      if (kind === "subworkflow") {
        const found = subs.find((s) => sameId(s.template?.id, node.workflowNode?.subWorkflowRef));
        if (found) inner = template(found);
      } else if (kind === "branch") {
        inner = branchChildren(node);
      } else if (state?.isDynamic && state.execId) {
        const dynamic = props.dynamic?.(state.execId);
        if (dynamic) {
          inner = template(dynamic.primary);
          innerSubs = [...dynamic.subWorkflows, ...subs];
        }
      }
      const expandable = kind === "subworkflow" || kind === "branch" || !!state?.isDynamic;
      if (expandable && expanded.has(key) && inner) {
        const inside = addLevel(key, state?.execId ?? "", inner, innerSubs, depth + 1);
        ends.set(specId, inside.ends);
        groups.push({ key, execId: state?.execId, label: node.metadata?.name || specId, phase: state?.phase, members: inside.members, depth });
        members.push(...inside.members);
        continue;
      }
      if (expandable && expanded.has(key) && !inner && state?.execId) props.requestDynamic?.(state.execId);
      const terminal = kind === "terminal";
      nodes.push({
        key,
        execId: state?.execId,
        label: terminal ? (specId === "start-node" ? "start" : "end") : node.metadata?.name?.split(".").pop() || specId,
        kind,
        phase: state?.phase,
        extra: state?.extra,
        expandable,
        x: 0,
        y: 0,
        w: terminal ? SMALL : NODE_W,
        h: terminal ? SMALL : NODE_H,
      });
      members.push(key);
    }
    const keyOf = (spec: string) => (prefix ? `${prefix}/${spec}` : spec);
    for (const [from, tos] of Object.entries(level.downstream)) {
      for (const to of tos) {
        const sources = ends.get(from)?.exit ?? [keyOf(from)];
        const targets = ends.get(to)?.entry ?? [keyOf(to)];
        for (const s of sources) for (const t of targets) edges.push([s, t]);
      }
    }
    const ids = new Set(level.nodes.map((n) => n.id));
    const entryOf = (spec: string) => ends.get(spec)?.entry ?? [keyOf(spec)];
    const exitOf = (spec: string) => ends.get(spec)?.exit ?? [keyOf(spec)];
    const all = level.nodes.map((n) => n.id ?? "");
    return {
      members,
      ends: {
        entry: ids.has("start-node") ? entryOf("start-node") : all.flatMap(entryOf),
        exit: ids.has("end-node") ? exitOf("end-node") : all.flatMap(exitOf),
      },
    };
  };

  const primary = props.compiled.primary;
  if (primary) addLevel("", "", template(primary), subWorkflows, 0);
  return { nodes, edges, groups };
}

/** The innermost expanded group holding `key` (groups are keyed by the path of the node they expand). */
function enclosing(key: string, groups: Group[]): Group | undefined {
  let best: Group | undefined;
  for (const g of groups) {
    if (g.key !== key && key.startsWith(`${g.key}/`) && (!best || g.key.length > best.key.length)) best = g;
  }
  return best;
}

/** dagre, with each expanded group a cluster: its nodes are laid out together and nothing else lands inside. */
function layoutDagre(built: Built): void {
  const graph = new dagre.graphlib.Graph({ compound: true });
  graph.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 48, marginx: 20, marginy: 30 });
  graph.setDefaultEdgeLabel(() => ({}));
  const cluster = (g: Group) => `group:${g.key}`;
  for (const g of built.groups) graph.setNode(cluster(g), { label: g.label });
  for (const g of built.groups) {
    const outer = enclosing(g.key, built.groups);
    if (outer) graph.setParent(cluster(g), cluster(outer));
  }
  for (const node of built.nodes) {
    graph.setNode(node.key, { width: node.w, height: node.h });
    const outer = enclosing(node.key, built.groups);
    if (outer) graph.setParent(node.key, cluster(outer));
  }
  for (const [from, to] of built.edges) if (graph.hasNode(from) && graph.hasNode(to)) graph.setEdge(from, to);
  dagre.layout(graph);
  for (const node of built.nodes) {
    const placed = graph.node(node.key);
    node.x = placed.x - node.w / 2;
    node.y = placed.y - node.h / 2;
  }
  for (const g of built.groups) {
    const placed = graph.node(cluster(g));
    if (placed?.width) g.box = { x: placed.x - placed.width / 2, y: placed.y - placed.height / 2 - 14, w: placed.width, h: placed.height + 14 };
  }
}

/** Longest-path layering, each layer wrapped into columns of at most PER_COLUMN nodes: linear time. */
function layoutLayers(built: Built): void {
  const PER_COLUMN = 40;
  const rank = new Map<string, number>();
  const incoming = new Map<string, number>();
  const out = new Map<string, string[]>();
  for (const node of built.nodes) incoming.set(node.key, 0);
  for (const [from, to] of built.edges) {
    if (!incoming.has(from) || !incoming.has(to)) continue;
    incoming.set(to, (incoming.get(to) ?? 0) + 1);
    out.set(from, [...(out.get(from) ?? []), to]);
  }
  const queue = built.nodes.filter((n) => incoming.get(n.key) === 0).map((n) => n.key);
  for (const key of queue) rank.set(key, 0);
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i];
    for (const next of out.get(key) ?? []) {
      rank.set(next, Math.max(rank.get(next) ?? 0, (rank.get(key) ?? 0) + 1));
      const left = (incoming.get(next) ?? 1) - 1;
      incoming.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  const layers = new Map<number, Placed[]>();
  for (const node of built.nodes) {
    const r = rank.get(node.key) ?? 0; // a node on a cycle (none in a valid closure) lands in layer 0
    layers.set(r, [...(layers.get(r) ?? []), node]);
  }
  let x = 20;
  for (const r of [...layers.keys()].sort((a, b) => a - b)) {
    const layer = layers.get(r) ?? [];
    const columns = Math.ceil(layer.length / PER_COLUMN);
    layer.forEach((node, index) => {
      node.x = x + Math.floor(index / PER_COLUMN) * (NODE_W + 14) + (NODE_W - node.w) / 2;
      node.y = 20 + (index % PER_COLUMN) * (NODE_H + 12) + (NODE_H - node.h) / 2;
    });
    x += columns * (NODE_W + 14) + 40;
  }
}

function boxes(built: Built): void {
  const byKey = new Map(built.nodes.map((n) => [n.key, n]));
  for (const group of built.groups) {
    if (group.box) continue; // dagre placed it
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const key of group.members) {
      const n = byKey.get(key);
      if (!n) continue;
      x0 = Math.min(x0, n.x);
      y0 = Math.min(y0, n.y);
      x1 = Math.max(x1, n.x + n.w);
      y1 = Math.max(y1, n.y + n.h);
    }
    if (x0 === Infinity) continue;
    const pad = 10;
    group.box = { x: x0 - pad, y: y0 - pad - 16, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad + 16 };
  }
}

export function Graph(props: GraphProps) {
  const subWorkflows = props.compiled.subWorkflows ?? [];
  const built = useMemo(() => {
    const result = build(props, subWorkflows);
    if (result.nodes.length > LARGE) layoutLayers(result);
    else layoutDagre(result);
    boxes(result);
    return result;
    // Layout depends on the shape and phases shown; `state` changes identity on every poll.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.compiled, props.expanded, props.state, props.dynamic]);
  const [scale, setScale] = useState(1);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ left: 0, top: 0, width: 1600, height: 900 });
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const update = () =>
      setView({ left: element.scrollLeft, top: element.scrollTop, width: element.clientWidth, height: element.clientHeight });
    update();
    element.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    return () => {
      element.removeEventListener("scroll", update);
      window.removeEventListener("resize", update);
    };
  }, []);
  const width = Math.max(...built.nodes.map((n) => n.x + n.w), 200) + 40;
  const height = Math.max(...built.nodes.map((n) => n.y + n.h), 100) + 40;
  const margin = 200;
  const visible = (x: number, y: number, w: number, h: number) =>
    x * scale + w * scale >= view.left - margin &&
    x * scale <= view.left + view.width + margin &&
    y * scale + h * scale >= view.top - margin &&
    y * scale <= view.top + view.height + margin;
  const byKey = new Map(built.nodes.map((n) => [n.key, n]));
  const shown = built.nodes.filter((n) => visible(n.x, n.y, n.w, n.h));
  const shownKeys = new Set(shown.map((n) => n.key));
  const edges = built.edges.filter(([a, b]) => shownKeys.has(a) || shownKeys.has(b));
  const expanded = props.expanded ?? new Set<string>();
  return (
    <div class="graph">
      <div class="graph-tools">
        <button type="button" onClick={() => setScale(Math.max(0.1, scale / 1.25))} aria-label="zoom out">
          −
        </button>
        <button type="button" onClick={() => setScale(Math.min(3, scale * 1.25))} aria-label="zoom in">
          +
        </button>
        <button type="button" onClick={() => setScale(1)}>
          100%
        </button>
        <span class="muted" data-graph-nodes={built.nodes.length}>
          {built.nodes.length} nodes laid out, {shown.length} drawn
        </span>
      </div>
      <div class="graph-scroll" ref={scroller} style={{ height: `${props.height ?? 520}px` }}>
        <svg width={width * scale} height={height * scale} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="workflow graph">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a94a6" />
            </marker>
          </defs>
          {built.groups
            .filter((g) => g.box)
            .sort((a, b) => a.depth - b.depth)
            .map((g) => (
              <g key={`group-${g.key}`} class="group" data-node={g.key}>
                <rect x={g.box!.x} y={g.box!.y} width={g.box!.w} height={g.box!.h} rx={8} fill="#f6f8fb" stroke={phaseColour(g.phase)} stroke-dasharray="4 3" />
                <text x={g.box!.x + 8} y={g.box!.y + 13} class="group-label" onClick={() => props.onToggle?.(g.key, g.execId)}>
                  ▾ {g.label}
                </text>
              </g>
            ))}
          {edges.map(([a, b]) => {
            const from = byKey.get(a);
            const to = byKey.get(b);
            if (!from || !to) return null;
            const x1 = from.x + from.w;
            const y1 = from.y + from.h / 2;
            const x2 = to.x;
            const y2 = to.y + to.h / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path key={`${a}->${b}`} d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`} fill="none" stroke="#8a94a6" stroke-width={1.2} marker-end="url(#arrow)" />
            );
          })}
          {shown.map((n) =>
            n.kind === "terminal" ? (
              <circle key={n.key} cx={n.x + n.w / 2} cy={n.y + n.h / 2} r={n.w / 2} fill="#e5e7eb" stroke="#8a94a6">
                <title>{n.label}</title>
              </circle>
            ) : (
              <g
                key={n.key}
                class={`node ${props.selected && props.selected === (n.execId ?? n.key) ? "selected" : ""}`}
                data-node={n.key}
                data-phase={n.phase ?? "UNDEFINED"}
                transform={`translate(${n.x},${n.y})`}
                onClick={() => props.onSelect(n.execId, n.key)}
              >
                <rect width={n.w} height={n.h} rx={6} fill="#fff" stroke={phaseColour(n.phase)} stroke-width={2} />
                <rect width={6} height={n.h} rx={3} fill={phaseColour(n.phase)} />
                <text x={12} y={17} class="node-label">
                  {n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label}
                </text>
                <text x={12} y={34} class="node-extra">
                  {n.extra ?? n.phase ?? n.kind}
                </text>
                {n.kind === "map" || n.kind === "gate" || n.kind === "launchplan" ? (
                  <text x={n.w - 8} y={34} class="node-kind" text-anchor="end">
                    {n.kind === "launchplan" ? "launch plan" : n.kind}
                  </text>
                ) : null}
                {n.expandable ? (
                  <text
                    x={n.w - 16}
                    y={17}
                    class="expand"
                    data-expand={n.key}
                    onClick={(e) => {
                      e.stopPropagation();
                      props.onToggle?.(n.key, n.execId);
                    }}
                  >
                    {expanded.has(n.key) ? "▾" : "▸"}
                  </text>
                ) : null}
                <title>{`${n.label} (${n.key}) ${n.phase ?? ""}`}</title>
              </g>
            ),
          )}
        </svg>
      </div>
    </div>
  );
}
