/** A registered model as the MLflow registry API returns it. */
export interface RegisteredModel {
  name: string;
  id?: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: { key: string; value: string }[];
  aliases?: { alias: string; version: string }[];
}

/** A model version as the MLflow registry API returns it. */
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  status_message?: string;
  tags?: { key: string; value: string }[];
  aliases?: string[];
}

/** Alias names are lower-case-insensitive identifiers in MLflow; `latest` is reserved for the newest version. */
export function aliasProblem(alias: string): string | null {
  const a = alias.trim();
  if (!a) return 'Enter an alias name.';
  if (a.toLowerCase() === 'latest') return "'latest' is reserved: it always means the newest version.";
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(a)) return 'Use letters, digits, _ or -, starting with a letter or _.';
  if (/^v\d+$/i.test(a)) return "Aliases like 'v1' are reserved for version numbers.";
  return null;
}

/** The MLflow search filter for a name search box: a case-insensitive substring match, quotes escaped. */
export function modelNameFilter(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  return `name ILIKE '%${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}%'`;
}

/** Which versions carry which aliases: the registry lists aliases on the model, so versions are annotated from there. */
export function aliasesByVersion(model: Pick<RegisteredModel, 'aliases'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of model.aliases ?? []) {
    const list = out.get(String(a.version)) ?? [];
    list.push(a.alias);
    out.set(String(a.version), list.sort());
  }
  return out;
}

/** A column of a model signature (column-based, `{name, type}`) or a tensor spec. */
export interface SignatureField {
  name: string;
  type: string;
  required: boolean;
}

/** Reads an MLflow signature's `inputs` or `outputs` (already JSON-decoded, or the raw JSON text) into rows to show. */
export function signatureFields(spec: unknown): SignatureField[] {
  let value = spec;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  return value.map((raw, i) => {
    const f = (raw ?? {}) as Record<string, unknown>;
    const tensor = f['tensor-spec'] as { dtype?: string; shape?: number[] } | undefined;
    const type = f.type === 'tensor' && tensor ? `tensor ${tensor.dtype ?? '?'} [${(tensor.shape ?? []).join(', ')}]` : String(f.type ?? '?');
    return { name: typeof f.name === 'string' ? f.name : `#${i}`, type, required: f.required !== false };
  });
}
