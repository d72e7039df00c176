// Client-side routes under /console: the URLs flytekit, flytectl and the console itself print.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";

export type Route =
  | { page: "projects" }
  | { page: "executions"; project: string; domain: string }
  | { page: "execution"; project: string; domain: string; name: string }
  | { page: "entities"; project: string; domain: string; kind: EntityKind }
  | { page: "entity"; project: string; domain: string; kind: EntityKind; name: string; version?: string }
  | { page: "notfound"; path: string };

export type EntityKind = "launch_plan" | "workflow" | "task";
export const KIND_PATH: Record<EntityKind, string> = { launch_plan: "launch_plans", workflow: "workflows", task: "tasks" };
export const KIND_TITLE: Record<EntityKind, string> = { launch_plan: "Launch plans", workflow: "Workflows", task: "Tasks" };

const KINDS: Record<string, EntityKind> = {
  launch_plan: "launch_plan",
  launch_plans: "launch_plan",
  launchplans: "launch_plan",
  launchPlans: "launch_plan",
  workflow: "workflow",
  workflows: "workflow",
  task: "task",
  tasks: "task",
};

export function parse(pathname: string, search: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "projects" };
  if (parts[0] !== "projects" || parts.length < 2) return { page: "notfound", path: pathname };
  const project = parts[1];
  const query = new URLSearchParams(search);
  // flyteconsole's own form: /projects/<p>/executions?domain=<d>
  if (parts[2] !== "domains") {
    const domain = query.get("domain") ?? "development";
    if (parts.length === 2 || parts[2] === "executions") return { page: "executions", project, domain };
    const kind = KINDS[parts[2]];
    if (kind && parts.length === 3) return { page: "entities", project, domain, kind };
    if (kind) return { page: "entity", project, domain, kind, name: parts[3], version: versionOf(parts.slice(4)) };
    return { page: "notfound", path: pathname };
  }
  const domain = parts[3] ?? "development";
  if (parts.length <= 4 || (parts[4] === "executions" && parts.length === 5)) return { page: "executions", project, domain };
  if (parts[4] === "executions") return { page: "execution", project, domain, name: parts[5] };
  const kind = KINDS[parts[4]];
  if (kind && parts.length === 5) return { page: "entities", project, domain, kind };
  if (kind) return { page: "entity", project, domain, kind, name: parts[5], version: versionOf(parts.slice(6)) };
  return { page: "notfound", path: pathname };
}

function versionOf(rest: string[]): string | undefined {
  if (rest[0] === "version" || rest[0] === "versions") return rest[1];
  return rest[0];
}

export function href(...segments: string[]): string {
  return `${BASE}/${segments.map(encodeURIComponent).join("/")}`;
}

export function executionHref(project: string, domain: string, name: string): string {
  return href("projects", project, "domains", domain, "executions", name);
}

export function navigate(to: string): void {
  window.history.pushState(null, "", to);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The current route; links inside the app navigate without reloading. */
export function useRoute(): Route {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const update = () => setLocation(window.location.pathname + window.location.search);
    const click = (event: MouseEvent) => {
      const anchor = (event.target as Element | null)?.closest?.("a");
      if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
      const target = new URL(anchor.href, window.location.href);
      if (target.origin !== window.location.origin || !target.pathname.startsWith(BASE) || anchor.target) return;
      if (anchor.hasAttribute("download")) return;
      event.preventDefault();
      navigate(target.pathname + target.search);
    };
    window.addEventListener("popstate", update);
    document.addEventListener("click", click);
    return () => {
      window.removeEventListener("popstate", update);
      document.removeEventListener("click", click);
    };
  }, []);
  const url = new URL(location, window.location.origin);
  return parse(url.pathname, url.search);
}
