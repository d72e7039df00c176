// The REST client: every call's path, body and answer are typed by gen/api.d.ts, which the build
// generates from admin's OpenAPI document (itself derived from idl/). Nothing here restates a message.
import type { components, paths } from "../gen/api";

type Schemas = components["schemas"];
export type Execution = Schemas["flyteidl.admin.Execution"];
export type ExecutionList = Schemas["flyteidl.admin.ExecutionList"];
export type NodeExecution = Schemas["flyteidl.admin.NodeExecution"];
export type TaskExecution = Schemas["flyteidl.admin.TaskExecution"];
export type Literal = Schemas["flyteidl.core.Literal"];
export type LiteralMap = Schemas["flyteidl.core.LiteralMap"];
export type LiteralType = Schemas["flyteidl.core.LiteralType"];
export type LaunchPlan = Schemas["flyteidl.admin.LaunchPlan"];
export type Workflow = Schemas["flyteidl.admin.Workflow"];
export type Task = Schemas["flyteidl.admin.Task"];
export type Identifier = Schemas["flyteidl.core.Identifier"];
export type ExecutionIdentifier = Schemas["flyteidl.core.WorkflowExecutionIdentifier"];
export type CompiledWorkflow = Schemas["flyteidl.core.CompiledWorkflow"];
export type CompiledWorkflowClosure = Schemas["flyteidl.core.CompiledWorkflowClosure"];
export type CoreNode = Schemas["flyteidl.core.Node"];
export type Signal = Schemas["flyteidl.admin.Signal"];
export type Project = Schemas["flyteidl.admin.Project"];
export type NamedEntity = Schemas["flyteidl.admin.NamedEntity"];
export type Parameter = Schemas["flyteidl.core.Parameter"];
export type ExecutionError = Schemas["flyteidl.core.ExecutionError"];

type Method = "get" | "post" | "put" | "delete" | "patch";
type Operation<P extends keyof paths, M extends Method> = M extends keyof paths[P] ? paths[P][M] : never;
type Answer<O> = O extends { responses: { 200: { content: { "application/json": infer R } } } } ? R : never;
type BodyOf<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Query = Record<string, string | number | undefined>;

/** An error the API answered with (grpc-gateway's `{code, message}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new ApiError(0, `missing path value ${name}`);
    return encodeURIComponent(value);
  });
}

/** With auth on, a call without a valid session answers 401: the person logs in (admin's /login, through the
 * identity provider) and comes back to the page they were on. */
export function loginIfUnauthenticated(response: Response): void {
  if (response.status !== 401) return;
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/login?${new URLSearchParams({ redirect: here })}`);
}

async function answer(response: Response): Promise<unknown> {
  loginIfUnauthenticated(response);
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message =
      parsed && typeof parsed === "object" && "message" in parsed ? String(parsed.message) : text.slice(0, 500);
    throw new ApiError(response.status, `${response.status} ${response.statusText}: ${message}`);
  }
  if (parsed === undefined) throw new ApiError(response.status, "the API answered something that is not JSON");
  return parsed;
}

/** Calls one REST route: `path` is the OpenAPI path template, `vars` fill its `{...}` segments. */
export async function call<P extends keyof paths & string, M extends Method>(
  method: M,
  path: P,
  vars: Record<string, string>,
  options: { query?: Query; body?: BodyOf<Operation<P, M>>; signal?: AbortSignal } = {},
): Promise<Answer<Operation<P, M>>> {
  const url = new URL(fill(path, vars), window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: method.toUpperCase(),
      headers: options.body === undefined ? {} : { "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, `admin cannot be reached: ${String(error)}`);
  }
  return (await answer(response)) as Answer<Operation<P, M>>;
}

/** Every page of a listing (`token` paging), up to `max` items. */
export async function all<T>(
  page: (token: string) => Promise<{ token?: string; items: T[] }>,
  max = 100_000,
): Promise<T[]> {
  const found: T[] = [];
  let token = "";
  for (;;) {
    const { token: next, items } = await page(token);
    found.push(...items);
    if (!next || found.length >= max) return found;
    token = next;
  }
}

export function executionVars(id: ExecutionIdentifier, prefix: string): Record<string, string> {
  return {
    [`${prefix}.project`]: id.project ?? "",
    [`${prefix}.domain`]: id.domain ?? "",
    [`${prefix}.name`]: id.name ?? "",
  };
}

export function identifierVars(id: Identifier, prefix = "id"): Record<string, string> {
  return {
    [`${prefix}.project`]: id.project ?? "",
    [`${prefix}.domain`]: id.domain ?? "",
    [`${prefix}.name`]: id.name ?? "",
    [`${prefix}.version`]: id.version ?? "",
  };
}

/** The console's own settings and an execution's trace link (not part of the IDL). */
export interface ConsoleInfo {
  traceUrl?: string;
  traceId?: string;
}

export async function consoleInfo(id: ExecutionIdentifier): Promise<ConsoleInfo> {
  const url = `/api/v1/console/trace/${encodeURIComponent(id.project ?? "")}/${encodeURIComponent(id.domain ?? "")}/${encodeURIComponent(id.name ?? "")}`;
  try {
    const response = await fetch(url);
    return response.ok ? ((await response.json()) as ConsoleInfo) : {};
  } catch {
    return {};
  }
}
