import { useEffect, useState } from 'react';
import { api, fetchBlob } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';

interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

const TEXT_EXTENSIONS = /\.(txt|log|md|csv|tsv|yaml|yml|py|toml|ini|cfg|sh|html|xml|sql|r)$/i;
const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|svg|webp|bmp)$/i;
const PREVIEW_LIMIT = 1024 * 1024;

/** How a file is previewed, chosen from its name. */
export function previewKind(path: string): 'image' | 'json' | 'text' | 'mlmodel' | 'none' {
  const name = path.split('/').pop() ?? path;
  if (name === 'MLmodel') return 'mlmodel';
  if (IMAGE_EXTENSIONS.test(name)) return 'image';
  if (/\.json$/i.test(name)) return 'json';
  if (TEXT_EXTENSIONS.test(name) || !name.includes('.')) return 'text';
  return 'none';
}

function Directory({ runId, dir, selected, onSelect, depth }: { runId: string; dir: string; selected: string; onSelect(p: FileInfo): void; depth: number }) {
  const query = useQuery(queryKeys.artifacts(runId, dir), () =>
    api().get<{ files?: FileInfo[] }>('/api/2.0/mlflow/artifacts/list', { run_id: runId, ...(dir ? { path: dir } : {}) }),
  );
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (query.error) return <ErrorBox error={query.error} title="Could not list artifacts" />;
  if (!query.data) return <Loading what="artifacts" />;
  const files = query.data.files ?? [];
  if (files.length === 0 && depth === 0) return <Empty title="No artifacts">Log files with mlflow.log_artifact("model.txt") and they appear here.</Empty>;
  return (
    <ul className="tree" aria-label={depth === 0 ? 'Artifacts' : undefined}>
      {files.map((f) => {
        const name = f.path.split('/').pop();
        if (f.is_dir) {
          const isOpen = open.has(f.path);
          return (
            <li key={f.path}>
              <button
                type="button"
                className="link"
                aria-expanded={isOpen}
                onClick={() => {
                  const next = new Set(open);
                  if (isOpen) next.delete(f.path);
                  else next.add(f.path);
                  setOpen(next);
                }}
              >
                {isOpen ? '▾' : '▸'} {name}/
              </button>
              {isOpen ? <Directory runId={runId} dir={f.path} selected={selected} onSelect={onSelect} depth={depth + 1} /> : null}
            </li>
          );
        }
        return (
          <li key={f.path}>
            <button
              type="button"
              className={`link${selected === f.path ? ' current' : ''}`}
              aria-current={selected === f.path ? 'true' : undefined}
              onClick={() => onSelect(f)}
            >
              {name}
            </button>{' '}
            <span className="muted">{f.file_size !== undefined ? `${f.file_size.toLocaleString()} bytes` : ''}</span>
          </li>
        );
      })}
    </ul>
  );
}

function Preview({ runId, file }: { runId: string; file: FileInfo }) {
  const [state, setState] = useState<{ url?: string; text?: string; error?: unknown; loading: boolean }>({ loading: true });
  const kind = previewKind(file.path);
  useEffect(() => {
    let live = true;
    let url: string | undefined;
    setState({ loading: true });
    fetchBlob('/get-artifact', { run_id: runId, path: file.path }).then(
      async (blob) => {
        url = URL.createObjectURL(blob);
        let text: string | undefined;
        if ((kind === 'text' || kind === 'json' || kind === 'mlmodel') && blob.size <= PREVIEW_LIMIT) {
          text = await blob.text();
          if (kind === 'json') {
            try {
              text = JSON.stringify(JSON.parse(text), null, 2);
            } catch {
              // not valid JSON: show it as it is
            }
          }
        }
        if (live) setState({ url, ...(text !== undefined ? { text } : {}), loading: false });
      },
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [runId, file.path, kind]);
  const name = file.path.split('/').pop() ?? file.path;
  return (
    <section className="preview" aria-label={`Preview of ${name}`}>
      <h3>
        {file.path}{' '}
        {state.url ? (
          <a href={state.url} download={name}>
            Download
          </a>
        ) : null}
      </h3>
      <ErrorBox error={state.error} title="Could not load the file" />
      {state.loading ? <Loading what={name} /> : null}
      {kind === 'image' && state.url ? <img src={state.url} alt={`Artifact ${name}`} className="artifact-image" /> : null}
      {kind === 'mlmodel' && state.text !== undefined ? <p className="muted">MLflow model definition (flavors, signature, dependencies):</p> : null}
      {state.text !== undefined ? <pre className="file-text">{state.text}</pre> : null}
      {!state.loading && !state.error && state.text === undefined && kind !== 'image' ? (
        <p className="muted">No preview for this file type or size; use Download.</p>
      ) : null}
    </section>
  );
}

/** Browses a run's artifacts as a tree, previews text, JSON, images and MLmodel files, and downloads any file. */
export function ArtifactsBrowser({ runId }: { runId: string }) {
  const [file, setFile] = useState<FileInfo | undefined>();
  // Shares the cached listing of the root with the tree, to know whether there is anything to choose.
  const root = useQuery(queryKeys.artifacts(runId, ''), () => api().get<{ files?: FileInfo[] }>('/api/2.0/mlflow/artifacts/list', { run_id: runId }));
  const hasFiles = (root.data?.files ?? []).length > 0;
  return (
    <div className="artifacts">
      <Directory runId={runId} dir="" selected={file?.path ?? ''} onSelect={setFile} depth={0} />
      {file ? <Preview runId={runId} file={file} /> : hasFiles ? <p className="muted">Choose a file to preview it.</p> : null}
    </div>
  );
}
