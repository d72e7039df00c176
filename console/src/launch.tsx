// Forms generated from typed interfaces: launching a launch plan (defaults filled, fixed inputs shown
// and not editable, every value checked before submit) and setting a gate's signal.
import { useState } from "preact/hooks";
import { call, identifierVars, type Identifier, type LaunchPlan, type LiteralMap, type Literal, type Signal } from "./api";
import { LiteralView, literalOf, textOfLiteral, typeText } from "./literals";
import { executionHref, navigate } from "./router";
import { ErrorBox, Spinner, useLoad } from "./util";

export function LaunchFormFor({ planId, initial }: { planId: Identifier; initial?: LiteralMap }) {
  const plan = useLoad(
    (signal) => call("get", "/api/v1/launch_plans/{id.project}/{id.domain}/{id.name}/{id.version}", identifierVars(planId), { signal, query: { "id.resource_type": "LAUNCH_PLAN" } }),
    [planId.name, planId.version],
  );
  return (
    <div class="panel">
      <ErrorBox error={plan.error} />
      <Spinner when={plan.loading} />
      {plan.data ? <LaunchForm plan={plan.data} initial={initial} /> : null}
    </div>
  );
}

export function LaunchForm({ plan, initial }: { plan: LaunchPlan; initial?: LiteralMap }) {
  const parameters = plan.closure?.expectedInputs?.parameters ?? plan.spec?.defaultInputs?.parameters ?? {};
  const fixed = plan.spec?.fixedInputs?.literals ?? {};
  const [values, setValues] = useState<Record<string, string>>(() => {
    const start: Record<string, string> = {};
    for (const [name, parameter] of Object.entries(parameters)) {
      start[name] = textOfLiteral(initial?.literals?.[name] ?? parameter.default);
    }
    return start;
  });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState("");
  const submit = async (event: Event) => {
    event.preventDefault();
    const literals: Record<string, Literal> = {};
    const found: Record<string, string> = {};
    for (const [input, parameter] of Object.entries(parameters)) {
      const text = values[input] ?? "";
      if (text === "" && !parameter.required && parameter.default) {
        literals[input] = parameter.default;
        continue;
      }
      if (text === "" && parameter.var?.type?.simple !== "STRING" && !parameter.var?.type?.unionType) {
        if (parameter.required) found[input] = "is required";
        continue;
      }
      try {
        literals[input] = literalOf(parameter.var?.type, text);
      } catch (e) {
        found[input] = e instanceof Error ? e.message : String(e);
      }
    }
    if (name && !/^[a-z][a-z0-9-]{0,62}$/.test(name)) found["execution name"] = "lower-case letters, digits and dashes, starting with a letter";
    setProblems(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(undefined);
    const id = plan.id ?? {};
    try {
      const answer = await call("post", "/api/v1/executions", {}, {
        body: {
          project: id.project,
          domain: id.domain,
          name: name || undefined,
          spec: { launchPlan: { ...id, resourceType: "LAUNCH_PLAN" }, metadata: { mode: "MANUAL" } },
          inputs: { literals },
        },
      });
      const created = answer.id;
      if (created) navigate(executionHref(created.project ?? "", created.domain ?? "", created.name ?? ""));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="launch-form" onSubmit={submit} noValidate>
      {Object.entries(parameters).map(([input, parameter]) => {
        const type = parameter.var?.type;
        const long = !!(type?.collectionType || type?.mapValueType || type?.simple === "STRUCT");
        return (
          <label key={input} class="field">
            <span class="field-name">
              {input} <code>{typeText(type)}</code>
              {parameter.required ? <span class="required"> required</span> : null}
            </span>
            {type?.simple === "BOOLEAN" ? (
              <select name={input} value={values[input]} onChange={(e) => setValues({ ...values, [input]: e.currentTarget.value })}>
                <option value="">—</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : long ? (
              <textarea name={input} value={values[input]} onInput={(e) => setValues({ ...values, [input]: e.currentTarget.value })} rows={3} />
            ) : (
              <input name={input} value={values[input]} onInput={(e) => setValues({ ...values, [input]: e.currentTarget.value })} />
            )}
            {parameter.var?.description ? <span class="muted">{parameter.var.description}</span> : null}
            {problems[input] ? (
              <span class="error-inline" data-problem={input}>
                {input} {problems[input]}
              </span>
            ) : null}
          </label>
        );
      })}
      {Object.entries(fixed).map(([input, literal]) => (
        <div key={input} class="field fixed">
          <span class="field-name">
            {input} <span class="muted">fixed</span>
          </span>
          <LiteralView literal={literal} />
        </div>
      ))}
      <label class="field">
        <span class="field-name">execution name (optional)</span>
        <input name="execution-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        {problems["execution name"] ? <span class="error-inline">{problems["execution name"]}</span> : null}
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Launch
      </button>
      <ErrorBox error={error} title="The launch failed" />
    </form>
  );
}

export function SignalForm({ signal, onSet }: { signal: Signal; onSet: () => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | undefined>();
  const set = async (value: Literal) => {
    setError(undefined);
    try {
      await call("post", "/api/v1/signals", {}, { body: { id: signal.id, value } });
      onSet();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  if (signal.type?.simple === "BOOLEAN") {
    return (
      <span class="signal-form">
        <button type="button" class="primary" data-approve={signal.id?.signalId} onClick={() => set({ scalar: { primitive: { boolean: true } } })}>
          Approve
        </button>{" "}
        <button type="button" class="danger" onClick={() => set({ scalar: { primitive: { boolean: false } } })}>
          Reject
        </button>
        {error ? <span class="error-inline">{error}</span> : null}
      </span>
    );
  }
  return (
    <form
      class="signal-form"
      onSubmit={(e) => {
        e.preventDefault();
        try {
          void set(literalOf(signal.type, text));
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        }
      }}
    >
      <input value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={typeText(signal.type)} name={`signal-${signal.id?.signalId}`} />
      <button type="submit" class="primary">
        Set
      </button>
      {error ? <span class="error-inline">{error}</span> : null}
    </form>
  );
}
