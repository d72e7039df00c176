// Small shared pieces: loading data with errors shown, phases and their colours, times and durations.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `keys` change (and every `pollMs` while `keepPolling(data)`), keeping the last answer. */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  keys: unknown[],
  pollMs = 0,
  keepPolling: (data: T | undefined) => boolean = () => false,
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const dataRef = useRef<T | undefined>(undefined);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        dataRef.current = data;
        setState({ data, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((s) => ({ data: s.data, error: error instanceof Error ? error.message : String(error), loading: false }));
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...keys, tick]);
  useEffect(() => {
    if (!pollMs) return;
    const timer = window.setInterval(() => {
      if (keepPolling(dataRef.current) && document.visibilityState !== "hidden") reload();
    }, pollMs);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...keys, pollMs]);
  return { ...state, reload };
}

/** An error from the API, as text (never markup: messages are stored, attacker-controlled text). */
export function ErrorBox({ error, title }: { error?: string; title?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{title ?? "Error"}</strong>
      <pre>{error}</pre>
    </div>
  );
}

export function Spinner({ when }: { when: boolean }) {
  return when ? <span class="spinner" aria-label="loading" /> : null;
}

export const PHASE_COLOURS: Record<string, string> = {
  UNDEFINED: "#9aa0a6",
  QUEUED: "#c0c7d0",
  INITIALIZING: "#c0c7d0",
  WAITING_FOR_RESOURCES: "#f2c14e",
  RUNNING: "#3b82f6",
  DYNAMIC_RUNNING: "#3b82f6",
  SUCCEEDING: "#60c689",
  SUCCEEDED: "#22a35a",
  FAILING: "#f08a7e",
  FAILED: "#d93025",
  TIMED_OUT: "#b3261e",
  ABORTING: "#a78bfa",
  ABORTED: "#7c3aed",
  SKIPPED: "#d1d5db",
  RECOVERED: "#0e9f9a",
  PAUSED: "#f59e0b",
  RETRYABLE_FAILURE: "#f08a7e",
  PERMANENT_FAILURE: "#d93025",
};

export function phaseColour(phase?: string): string {
  return PHASE_COLOURS[phase ?? "UNDEFINED"] ?? PHASE_COLOURS.UNDEFINED;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "SKIPPED", "RECOVERED"]);

export function isTerminal(phase?: string): boolean {
  return TERMINAL.has(phase ?? "");
}

export function Phase({ phase }: { phase?: string }) {
  const name = phase ?? "UNDEFINED";
  return (
    <span class="phase" style={{ background: phaseColour(name) }} data-phase={name}>
      {name}
    </span>
  );
}

/** Seconds of a proto3 JSON duration ("1.5s"). */
export function seconds(duration?: string): number {
  if (!duration) return 0;
  const value = Number.parseFloat(duration.replace(/s$/, ""));
  return Number.isFinite(value) ? value : 0;
}

export function formatSeconds(total: number): string {
  if (total < 1) return `${Math.round(total * 1000)}ms`;
  if (total < 60) return `${total.toFixed(1)}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(total % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** How long something has run: its recorded duration, or the time since it started while it runs. */
export function elapsed(startedAt?: string, duration?: string, phase?: string): string {
  if (duration && seconds(duration) > 0) return formatSeconds(seconds(duration));
  if (startedAt && !isTerminal(phase)) return formatSeconds((Date.now() - Date.parse(startedAt)) / 1000);
  return "";
}

export function when(timestamp?: string): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="panel">
      <h3>{title}</h3>
      {children}
    </section>
  );
}
