// Typed values of inputs and outputs, rendered as text (never markup), files as signed download links.
import { useState } from "preact/hooks";
import { call, type Literal, type LiteralMap, type LiteralType } from "./api";
import { DataframePreview } from "./dataframe";

type Primitive = NonNullable<NonNullable<Literal["scalar"]>["primitive"]>;

function primitiveText(p: Primitive): string {
  if (p.integer !== undefined) return p.integer;
  if (p.floatValue !== undefined) return String(p.floatValue);
  if (p.stringValue !== undefined) return JSON.stringify(p.stringValue);
  if (p.boolean !== undefined) return String(p.boolean);
  if (p.datetime !== undefined) return p.datetime;
  if (p.duration !== undefined) return p.duration;
  return "";
}

/** A file or directory: its URI, and a link signed by the data proxy on demand. */
function Download({ uri, label }: { uri: string; label: string }) {
  const [state, setState] = useState<{ url?: string; error?: string }>({});
  const sign = async () => {
    try {
      // flytekit names local raw data by its plain path: the data proxy signs it as the file:// store's.
      const native = uri.startsWith("/") ? `file://${uri}` : uri;
      const answer = await call("get", "/api/v1/dataproxy/artifact_urn", {}, { query: { native_url: native, expires_in: "3600s" } });
      setState({ url: answer.signedUrl });
    } catch (error) {
      setState({ error: error instanceof Error ? error.message : String(error) });
    }
  };
  const safe = state.url && /^https?:\/\//.test(state.url) ? state.url : undefined;
  return (
    <span class="blob">
      <span class="muted">{label}</span> <code>{uri}</code>{" "}
      {safe ? (
        <a href={safe} download rel="noopener noreferrer" class="download">
          download
        </a>
      ) : (
        <button type="button" class="link" onClick={sign}>
          get download link
        </button>
      )}
      {state.error ? <span class="error-inline">{state.error}</span> : null}
    </span>
  );
}

export function LiteralView({ literal, depth = 0 }: { literal?: Literal; depth?: number }) {
  if (!literal) return <span class="muted">(none)</span>;
  if (depth > 12) return <span class="muted">…</span>;
  if (literal.offloadedMetadata) {
    return <Download uri={literal.offloadedMetadata.uri ?? ""} label="offloaded literal" />;
  }
  if (literal.collection) {
    const items = literal.collection.literals ?? [];
    const shown = items.slice(0, 100);
    return (
      <span class="collection">
        [{items.length} item{items.length === 1 ? "" : "s"}]
        <ol start={0}>
          {shown.map((item, index) => (
            <li key={index}>
              <LiteralView literal={item} depth={depth + 1} />
            </li>
          ))}
          {items.length > shown.length ? <li class="muted">… {items.length - shown.length} more</li> : null}
        </ol>
      </span>
    );
  }
  if (literal.map) return <LiteralMapView map={literal.map} depth={depth + 1} />;
  const scalar = literal.scalar;
  if (!scalar) return <span class="muted">(empty)</span>;
  if (scalar.primitive) return <code class="primitive">{primitiveText(scalar.primitive)}</code>;
  if (scalar.noneType) return <code>None</code>;
  if (scalar.blob) {
    const dimensionality = scalar.blob.metadata?.type?.dimensionality;
    return <Download uri={scalar.blob.uri ?? ""} label={dimensionality === "MULTIPART" ? "directory" : "file"} />;
  }
  if (scalar.structuredDataset) {
    const uri = scalar.structuredDataset.uri ?? "";
    const format = scalar.structuredDataset.metadata?.structuredDatasetType?.format || "parquet";
    return (
      <span class="structured">
        <Download uri={uri} label={`dataframe (${format})`} />
        {/* Only parquet is read here; an input or output of its own previews at once, one inside a list when asked. */}
        {uri && format === "parquet" ? <DataframePreview uri={uri} auto={depth === 0} /> : null}
      </span>
    );
  }
  if (scalar.generic) return <pre class="struct">{JSON.stringify(scalar.generic, null, 2)}</pre>;
  if (scalar.binary) return <code>binary ({scalar.binary.tag || "bytes"}, {scalar.binary.value?.length ?? 0} base64 chars)</code>;
  if (scalar.union) return <LiteralView literal={scalar.union.value} depth={depth + 1} />;
  if (scalar.error) return <code class="error-inline">error: {scalar.error.message}</code>;
  if (scalar.schema) return <Download uri={scalar.schema.uri ?? ""} label="schema" />;
  return <pre>{JSON.stringify(scalar)}</pre>;
}

export function LiteralMapView({ map, depth = 0 }: { map?: LiteralMap; depth?: number }) {
  const entries = Object.entries(map?.literals ?? {});
  if (entries.length === 0) return <span class="muted">(none)</span>;
  return (
    <table class="literals">
      <tbody>
        {entries.map(([name, literal]) => (
          <tr key={name}>
            <th>{name}</th>
            <td>
              <LiteralView literal={literal} depth={depth} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function typeText(type?: LiteralType): string {
  if (!type) return "?";
  if (type.simple) return type.simple.toLowerCase();
  if (type.collectionType) return `list[${typeText(type.collectionType)}]`;
  if (type.mapValueType) return `dict[str, ${typeText(type.mapValueType)}]`;
  if (type.blob) return type.blob.dimensionality === "MULTIPART" ? "directory" : "file";
  if (type.structuredDatasetType) return "dataframe";
  if (type.unionType) return (type.unionType.variants ?? []).map(typeText).join(" | ");
  if (type.enumType) return `enum(${(type.enumType.values ?? []).join(", ")})`;
  return "value";
}

/** A literal from what a person typed for `type`; throws a message naming what is wrong. */
export function literalOf(type: LiteralType | undefined, text: string): Literal {
  if (!type) throw new Error("unknown type");
  const simple = type.simple;
  const trimmed = text.trim();
  if (type.unionType) {
    const variants = type.unionType.variants ?? [];
    if (trimmed === "" && variants.some((v) => v.simple === "NONE")) return { scalar: { noneType: {} } };
    for (const variant of variants) {
      if (variant.simple === "NONE") continue;
      try {
        return { scalar: { union: { value: literalOf(variant, text), type: variant } } };
      } catch {
        // try the next variant
      }
    }
    throw new Error(`matches none of ${typeText(type)}`);
  }
  if (simple === "INTEGER") {
    if (!/^-?\d+$/.test(trimmed)) throw new Error("must be a whole number");
    return { scalar: { primitive: { integer: trimmed } } };
  }
  if (simple === "FLOAT") {
    const value = Number(trimmed);
    if (trimmed === "" || !Number.isFinite(value)) throw new Error("must be a number");
    return { scalar: { primitive: { floatValue: value } } };
  }
  if (simple === "STRING") return { scalar: { primitive: { stringValue: text } } };
  if (simple === "BOOLEAN") {
    if (!["true", "false"].includes(trimmed)) throw new Error("must be true or false");
    return { scalar: { primitive: { boolean: trimmed === "true" } } };
  }
  if (simple === "DATETIME") {
    if (Number.isNaN(Date.parse(trimmed))) throw new Error("must be a date and time (ISO 8601)");
    return { scalar: { primitive: { datetime: new Date(trimmed).toISOString() } } };
  }
  if (simple === "DURATION") {
    if (!/^\d+(\.\d+)?s$/.test(trimmed)) throw new Error('must be seconds like "30s"');
    return { scalar: { primitive: { duration: trimmed } } };
  }
  if (simple === "NONE") return { scalar: { noneType: {} } };
  if (simple === "STRUCT") {
    const value = parseJson(trimmed);
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("must be a JSON object");
    return { scalar: { generic: value as Record<string, unknown> } };
  }
  if (type.blob) {
    if (!trimmed) throw new Error("must be a URI");
    return { scalar: { blob: { uri: trimmed, metadata: { type: type.blob } } } };
  }
  if (type.enumType) {
    if (!(type.enumType.values ?? []).includes(trimmed)) throw new Error(`must be one of ${(type.enumType.values ?? []).join(", ")}`);
    return { scalar: { primitive: { stringValue: trimmed } } };
  }
  if (type.collectionType) {
    const value = parseJson(trimmed);
    if (!Array.isArray(value)) throw new Error("must be a JSON list");
    const element = type.collectionType;
    return { collection: { literals: value.map((v, i) => within(`[${i}]`, () => literalOf(element, textOf(v)))) } };
  }
  if (type.mapValueType) {
    const value = parseJson(trimmed);
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("must be a JSON object");
    const element = type.mapValueType;
    const literals: Record<string, Literal> = {};
    for (const [key, v] of Object.entries(value)) literals[key] = within(`[${key}]`, () => literalOf(element, textOf(v)));
    return { map: { literals } };
  }
  throw new Error(`the form cannot enter a ${typeText(type)} yet`);
}

function within(where: string, make: () => Literal): Literal {
  try {
    return make();
  } catch (error) {
    throw new Error(`${where} ${error instanceof Error ? error.message : String(error)}`);
  }
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("must be JSON");
  }
}

/** What a form field shows for a literal (a default), the inverse of `literalOf` for simple values. */
export function textOfLiteral(literal?: Literal): string {
  const scalar = literal?.scalar;
  if (!literal) return "";
  if (scalar?.primitive) {
    const p = scalar.primitive;
    if (p.stringValue !== undefined) return p.stringValue;
    return primitiveText(p);
  }
  if (scalar?.union) return textOfLiteral(scalar.union.value);
  if (scalar?.blob) return scalar.blob.uri ?? "";
  if (scalar?.generic) return JSON.stringify(scalar.generic);
  if (literal.collection) return JSON.stringify((literal.collection.literals ?? []).map(jsonOfLiteral));
  if (literal.map) {
    return JSON.stringify(Object.fromEntries(Object.entries(literal.map.literals ?? {}).map(([k, v]) => [k, jsonOfLiteral(v)])));
  }
  return "";
}

function jsonOfLiteral(literal: Literal): unknown {
  const p = literal.scalar?.primitive;
  if (p?.integer !== undefined) return Number(p.integer);
  if (p?.floatValue !== undefined) return p.floatValue;
  if (p?.boolean !== undefined) return p.boolean;
  if (p) return textOfLiteral(literal);
  return JSON.parse(textOfLiteral(literal) || "null");
}
