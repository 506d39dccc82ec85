import { useId, useRef, useState } from 'react';
import { api, authHeaders, fetchBlob, WeirApiError } from '../../lib/api.ts';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { GrantsPanel } from './GrantsPanel.tsx';
import { formatBytes, volumeApiPath } from './names.ts';

/** A directory entry of the Files API. */
interface DirEntry {
  path: string;
  name: string;
  is_directory: boolean;
  file_size?: number;
  last_modified?: number;
}

async function listDirectory(volume: readonly string[], dir: string): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api().get<{ contents?: DirEntry[]; next_page_token?: string }>(volumeApiPath('directories', volume, dir), { page_token: pageToken });
    out.push(...(page.contents ?? []));
    pageToken = page.next_page_token || undefined;
  } while (pageToken && out.length < 20_000);
  return out.sort((a, b) => Number(b.is_directory) - Number(a.is_directory) || a.name.localeCompare(b.name));
}

/** Uploads one file through the Files API (PUT with the file as the raw body); refuses to replace unless asked. */
async function uploadFile(volume: readonly string[], dir: string, file: File, overwrite: boolean): Promise<void> {
  const res = await fetch(`${volumeApiPath('files', volume, `${dir}/${file.name}`)}?overwrite=${overwrite}`, {
    method: 'PUT',
    headers: { ...authHeaders(), 'content-type': 'application/octet-stream' },
    body: file,
    credentials: 'same-origin',
  });
  if (!res.ok) {
    const text = await res.text();
    let body: { error_code?: string; message?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: the text is the message
    }
    throw new WeirApiError(body.error_code ?? `HTTP_${res.status}`, body.message ?? (text.slice(0, 300) || res.statusText), res.status);
  }
}

/** A volume: its metadata, a file browser (folders, download, upload) and grants. */
export function VolumeBrowser({ parts }: { parts: readonly [string, string, string] }) {
  const id = useId();
  const fullName = parts.join('.');
  const [dir, setDir] = useState('');
  const volume = useQuery(['uc', 'volume', fullName], () =>
    api().get<{ volume_type?: string; storage_location?: string; owner?: string; comment?: string }>(
      `/api/2.1/unity-catalog/volumes/${encodeURIComponent(fullName)}`,
    ),
  );
  const listing = useQuery(['volume-files', fullName, dir], () => listDirectory(parts, dir));
  const fileInput = useRef<HTMLInputElement>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  async function upload() {
    const files = [...(fileInput.current?.files ?? [])];
    if (files.length === 0) return;
    setError(undefined);
    setNotice('');
    try {
      for (const [i, f] of files.entries()) {
        setBusy(`Uploading ${f.name} (${i + 1} of ${files.length}, ${formatBytes(f.size)})…`);
        await uploadFile(parts, dir, f, overwrite);
      }
      setNotice(`Uploaded ${files.map((f) => f.name).join(', ')}.`);
      if (fileInput.current) fileInput.current.value = '';
      invalidate(['volume-files', fullName]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  }

  async function download(entry: DirEntry) {
    setError(undefined);
    try {
      const blob = await fetchBlob(volumeApiPath('files', parts, `${dir}/${entry.name}`), {});
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = entry.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  }

  const crumbs = dir.split('/').filter(Boolean);
  return (
    <article>
      <h1>Volume {fullName}</h1>
      <ErrorBox error={volume.error} title="Could not load the volume" />
      {volume.data ? (
        <dl className="overview">
          <dt>Type</dt>
          <dd>{volume.data.volume_type}</dd>
          <dt>Owner</dt>
          <dd>{volume.data.owner ?? '—'}</dd>
          <dt>Path</dt>
          <dd>/Volumes/{parts.join('/')}</dd>
        </dl>
      ) : null}
      <h2>Files</h2>
      <nav aria-label="Folder path" className="crumbs">
        <button type="button" className="link" onClick={() => setDir('')}>
          {parts[2]}
        </button>
        {crumbs.map((c, i) => (
          <span key={crumbs.slice(0, i + 1).join('/')}>
            {' / '}
            <button type="button" className="link" onClick={() => setDir(crumbs.slice(0, i + 1).join('/'))}>
              {c}
            </button>
          </span>
        ))}
      </nav>
      <ErrorBox error={listing.error} title="Could not list files" />
      {listing.loading && !listing.data ? <Loading what="files" /> : null}
      {listing.data && listing.data.length === 0 ? (
        <Empty title="This folder is empty">Upload files below, or write them with the Files API or COPY INTO.</Empty>
      ) : null}
      {listing.data && listing.data.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {listing.data.map((e) => (
              <tr key={e.name}>
                <td>
                  {e.is_directory ? (
                    <button type="button" className="link" onClick={() => setDir(crumbs.concat(e.name).join('/'))}>
                      {e.name}/
                    </button>
                  ) : (
                    <button type="button" className="link" onClick={() => void download(e)} aria-label={`Download ${e.name}`}>
                      {e.name}
                    </button>
                  )}
                </td>
                <td>{e.is_directory ? '' : formatBytes(e.file_size)}</td>
                <td>{formatTime(e.last_modified)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void upload();
        }}
      >
        <label htmlFor={`${id}-file`}>Files to upload into /{[parts[2], ...crumbs].join('/')}</label>
        <input id={`${id}-file`} ref={fileInput} type="file" multiple />
        <label className="check">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace existing files
        </label>
        <button type="submit" className="primary" disabled={!!busy}>
          Upload
        </button>
      </form>
      {busy ? (
        <p className="loading" aria-live="polite">
          {busy}
        </p>
      ) : null}
      <ErrorBox error={error} title="The server refused" />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <GrantsPanel securableType="volume" fullName={fullName} />
    </article>
  );
}
