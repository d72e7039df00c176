// An attempt's log, streamed: GET /api/v1/logs/... with follow=true answers text as the task writes it.
// The reader counts the bytes it received from `offset`, so a dropped stream resumes where it stopped.
// The text goes into a <pre> as text: a log is whatever the task printed, never markup.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ExecutionIdentifier } from "./api";

const KEEP = 1_000_000; // characters shown; older text is dropped from the panel (not from the log)

function logUrl(id: ExecutionIdentifier, nodeId: string, attempt: number | undefined, index: number | undefined, offset: number, follow: boolean): string {
  const path = [id.project, id.domain, id.name].map((p) => encodeURIComponent(p ?? "")).join("/");
  const query = new URLSearchParams({ node_id: nodeId, offset: String(offset), follow: String(follow) });
  if (attempt !== undefined) query.set("attempt", String(attempt));
  if (index !== undefined) query.set("index", String(index));
  return `/api/v1/logs/${path}?${query}`;
}

/** The log of a node's attempt, or of a map task's element `index` (its latest attempt unless `attempt` says). */
export function LogsPanel({ id, nodeId, attempt, index, running }: { id: ExecutionIdentifier; nodeId: string; attempt?: number; index?: number; running: boolean }) {
  const [text, setText] = useState("");
  const [status, setStatus] = useState<string>("connecting");
  const [error, setError] = useState<string | undefined>();
  const [dropped, setDropped] = useState(0);
  const [served, setServed] = useState<string | undefined>(); // the attempt the endpoint answered for
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const controller = new AbortController();
    // Each run reads the log from its start: whatever an earlier run showed is replaced, never repeated.
    setText("");
    setDropped(0);
    setError(undefined);
    let offset = 0;
    let pinned = attempt; // a resumed stream reads the attempt the first answer was for, not a later retry
    const decoder = new TextDecoder();
    const append = (chunk: string) =>
      setText((current) => {
        const next = current + chunk;
        if (next.length <= KEEP) return next;
        setDropped((d) => d + next.length - KEEP);
        return next.slice(next.length - KEEP);
      });
    const run = async () => {
      for (let tries = 0; tries < 1000 && !controller.signal.aborted; tries++) {
        let response: Response;
        try {
          response = await fetch(logUrl(id, nodeId, pinned, index, offset, running), { signal: controller.signal });
        } catch (e) {
          if (controller.signal.aborted) return;
          setError(`the log cannot be read: ${String(e)}`);
          await new Promise((r) => setTimeout(r, 2000));
          continue;
        }
        if (!response.ok) {
          const body = await response.text();
          let message = body.slice(0, 500);
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // plain text
          }
          setError(`${response.status}: ${message}`);
          setStatus("unavailable");
          return;
        }
        setError(undefined);
        const answered = response.headers.get("X-Flyteplane-Log-Attempt");
        if (answered && /^\d+$/.test(answered)) pinned = Number(answered);
        setServed(answered ?? undefined);
        setStatus(`streaming (${response.headers.get("X-Flyteplane-Attempt-Phase") ?? "attempt"})`);
        const reader = response.body?.getReader();
        if (!reader) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          offset += value.byteLength;
          append(decoder.decode(value, { stream: true }));
        }
        const phase = response.headers.get("X-Flyteplane-Attempt-Phase") ?? "";
        if (!running || ["SUCCEEDED", "FAILED", "ABORTED", "RETRYABLE_FAILED", "TIMED_OUT"].includes(phase)) {
          setStatus(`complete${phase ? ` (${phase})` : ""}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000)); // the stream ended while the attempt runs: resume at offset
      }
    };
    run().catch((e) => {
      if (!controller.signal.aborted) setError(String(e));
    });
    return () => controller.abort();
  }, [id.project, id.domain, id.name, nodeId, attempt, index, running]);
  useEffect(() => {
    const element = pre.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [text]);
  return (
    <section class="panel logs">
      <h3>
        {index !== undefined ? `Log of element ${index}` : "Log"}
        {attempt !== undefined || served ? ` attempt #${attempt ?? served}` : ""} <span class="muted" data-log-status={status}>{status}</span>
      </h3>
      {error ? <p class="error-inline">{error}</p> : null}
      {dropped ? <p class="muted">{dropped} earlier characters not shown</p> : null}
      <pre
        ref={pre}
        class="log"
        data-log={index !== undefined ? `${nodeId}[${index}]` : `${nodeId}/${attempt ?? ""}`}
        onScroll={(e) => {
          const element = e.currentTarget;
          stick.current = element.scrollTop + element.clientHeight >= element.scrollHeight - 8;
        }}
      >
        {text}
      </pre>
    </section>
  );
}
