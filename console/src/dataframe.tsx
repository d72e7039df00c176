// A dataframe's preview: admin answers the parquet file of a structured dataset (GET /api/v1/console/dataframe,
// the first data file of a directory, from any store), and hyparquet reads its schema and first rows here.
// Cells are shown as text: a dataframe holds whatever a task wrote.
import { useEffect, useState } from "preact/hooks";

const ROWS = 100; // rows shown
const CELL = 200; // characters of one cell shown

interface Column {
  name: string;
  type: string;
}

interface Preview {
  columns: Column[];
  rows: Record<string, unknown>[];
  total: bigint;
  file: string;
  files: number;
}

async function errorOf(response: Response): Promise<string> {
  const body = await response.text();
  try {
    return `${response.status}: ${(JSON.parse(body) as { message?: string }).message ?? body.slice(0, 500)}`;
  } catch {
    return `${response.status}: ${body.slice(0, 500)}`;
  }
}

/** pandas' dtypes when pandas wrote the file (its "pandas" metadata), by column name. */
function pandasTypes(metadata: { key: string; value?: string }[] | undefined): Map<string, string> {
  const found = new Map<string, string>();
  const pandas = metadata?.find((kv) => kv.key === "pandas")?.value;
  if (!pandas) return found;
  try {
    const parsed = JSON.parse(pandas) as { columns?: { name?: unknown; field_name?: unknown; numpy_type?: unknown }[] };
    for (const column of parsed.columns ?? []) {
      const name = typeof column.field_name === "string" ? column.field_name : String(column.name);
      if (typeof column.numpy_type === "string") found.set(name, column.numpy_type);
    }
  } catch {
    // not pandas' JSON: the parquet types will do
  }
  return found;
}

async function load(uri: string): Promise<Preview> {
  const response = await fetch(`/api/v1/console/dataframe?${new URLSearchParams({ uri })}`);
  if (!response.ok) throw new Error(await errorOf(response));
  const file = await response.arrayBuffer();
  // Loaded on first use: the parquet reader is a chunk of its own, not part of every page.
  const { parquetMetadata, parquetSchema, parquetReadObjects } = await import("hyparquet");
  const metadata = parquetMetadata(file);
  const dtypes = pandasTypes(metadata.key_value_metadata);
  const columns = parquetSchema(metadata).children.map((child) => {
    const element = child.element;
    const parquet = element.logical_type?.type ?? element.converted_type ?? element.type ?? "group";
    return { name: element.name, type: dtypes.get(element.name) ?? String(parquet).toLowerCase() };
  });
  const rows = await parquetReadObjects({ file, rowStart: 0, rowEnd: ROWS });
  return {
    columns,
    rows,
    total: metadata.num_rows,
    file: response.headers.get("X-Flyteplane-Dataframe-File") ?? uri,
    files: Number(response.headers.get("X-Flyteplane-Dataframe-Files") ?? "1"),
  };
}

function cellText(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") text = String(value);
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? "Invalid date" : value.toISOString();
  else if (value instanceof Uint8Array) text = `(${value.length} bytes)`;
  else text = JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "";
  return text.length > CELL ? `${text.slice(0, CELL)}…` : text;
}

/** The preview table of the dataframe at `uri`, loaded when asked (or at once with `auto`). */
export function DataframePreview({ uri, auto }: { uri: string; auto: boolean }) {
  const [state, setState] = useState<{ loading?: boolean; preview?: Preview; error?: string; asked?: boolean }>({});
  const start = () => {
    setState({ loading: true, asked: true });
    load(uri).then(
      (preview) => setState({ preview, asked: true }),
      (error: unknown) => setState({ error: error instanceof Error ? error.message : String(error), asked: true }),
    );
  };
  useEffect(() => {
    if (auto) start();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [uri, auto]);
  if (!state.asked) {
    return (
      <button type="button" class="link" data-preview-button={uri} onClick={start}>
        preview table
      </button>
    );
  }
  if (state.loading) return <span class="muted">reading the dataframe…</span>;
  if (state.error) return <span class="error-inline" data-preview-error>preview: {state.error}</span>;
  const preview = state.preview!;
  return (
    <div class="dataframe" data-preview={uri}>
      <p class="muted">
        <span data-preview-rows={preview.rows.length}>{preview.rows.length}</span> of {String(preview.total)} rows,{" "}
        {preview.columns.length} columns
        {preview.files > 1 ? ` · first of ${preview.files} files` : ""} ·{" "}
        <a href={`/api/v1/console/dataframe?${new URLSearchParams({ uri })}`} download="dataframe.parquet" class="parquet-file">
          parquet file
        </a>
      </p>
      <div class="dataframe-scroll">
        <table>
          <thead>
            <tr>
              {preview.columns.map((column) => (
                <th key={column.name} data-column={column.name}>
                  {column.name}
                  <br />
                  <span class="muted column-type">{column.type}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, index) => (
              <tr key={index}>
                {preview.columns.map((column) => (
                  <td key={column.name}>{cellText(row[column.name])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
