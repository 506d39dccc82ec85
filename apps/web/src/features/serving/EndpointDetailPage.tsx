import { useEffect, useId, useRef, useState } from 'react';
import { api, authHeaders, fetchBlob, WeirApiError } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { LineageLink } from '../lineage/LineageLink.tsx';
import { modelHref } from '../models/ModelsPage.tsx';
import type { EndpointConfig, ServingEndpoint } from './EndpointsPage.tsx';
import { type EndpointCounters, endpointCounters, exampleRequest, type RatePoint, ratePoint } from './metrics.ts';

const POLL_MS = 2000;
const KEEP_POINTS = 60;

/** Reads /metrics every two seconds and keeps the last two minutes of request rate and latency. */
function useLiveRates(endpoint: string): { points: RatePoint[]; counters: EndpointCounters | undefined; error: unknown } {
  const [points, setPoints] = useState<RatePoint[]>([]);
  const [counters, setCounters] = useState<EndpointCounters | undefined>();
  const [error, setError] = useState<unknown>();
  const last = useRef<{ at: number; c: EndpointCounters } | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const read = async () => {
      try {
        const res = await fetch('/metrics', { credentials: 'same-origin' });
        if (!res.ok) throw new WeirApiError(`HTTP_${res.status}`, 'The metrics endpoint did not answer.', res.status);
        const c = endpointCounters(await res.text(), endpoint);
        const at = Date.now();
        if (!live) return;
        if (last.current) {
          const prev = last.current;
          setPoints((p) => [...p, ratePoint(prev.c, c, (at - prev.at) / 1000, at)].slice(-KEEP_POINTS));
        }
        last.current = { at, c };
        setCounters(c);
        setError(undefined);
      } catch (err) {
        if (live) setError(err);
      }
    };
    void read();
    const t = setInterval(() => void read(), POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [endpoint]);
  return { points, counters, error };
}

function Sparkline({ points, value, label, unit }: { points: RatePoint[]; value(p: RatePoint): number | undefined; label: string; unit: string }) {
  const w = 320;
  const h = 80;
  const values = points.map(value);
  const max = Math.max(1e-9, ...values.filter((v): v is number => v !== undefined));
  const step = w / Math.max(1, KEEP_POINTS - 1);
  const offset = (KEEP_POINTS - points.length) * step;
  let d = '';
  let lastPoint: [number, number] | undefined;
  values.forEach((v, i) => {
    if (v === undefined) return;
    lastPoint = [offset + i * step, h - (v / max) * (h - 4) - 2];
    d += `${d ? 'L' : 'M'}${lastPoint[0].toFixed(1)},${lastPoint[1].toFixed(1)} `;
  });
  const lastValue = [...values].reverse().find((v) => v !== undefined);
  return (
    <figure className="spark">
      <svg
        width={w}
        height={h}
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`${label}: ${lastValue === undefined ? 'no data yet' : `${lastValue.toFixed(2)} ${unit}`} now`}
      >
        <rect width={w} height={h} fill="#f9fafb" stroke="#d1d5db" />
        {d ? <path d={d} fill="none" stroke="#0b5cad" strokeWidth="2" /> : null}
        {/* The newest reading as a dot, so a single reading is visible before there is a line. */}
        {lastPoint ? <circle cx={lastPoint[0]} cy={lastPoint[1]} r="3" fill="#0b5cad" /> : null}
      </svg>
      <figcaption>
        {label}: <strong>{lastValue === undefined ? '—' : `${lastValue.toFixed(2)} ${unit}`}</strong> (max {max < 1e-6 ? 0 : max.toFixed(2)})
      </figcaption>
    </figure>
  );
}

function ConfigTable({ config, caption }: { config: EndpointConfig; caption: string }) {
  const routes = new Map((config.traffic_config?.routes ?? []).map((r) => [r.served_entity_name ?? r.served_model_name ?? '', r.traffic_percentage]));
  return (
    <table className="data">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Served entity</th>
          <th scope="col">Model</th>
          <th scope="col">Traffic</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {(config.served_entities ?? []).map((e) => (
          <tr key={e.name}>
            <th scope="row">{e.name}</th>
            <td>
              <Link href={modelHref(e.entity_name, e.entity_version)}>
                {e.entity_name}
                {e.entity_alias ? `@${e.entity_alias}` : ''} v{e.entity_version}
              </Link>
            </td>
            <td>{routes.get(e.name) ?? 0}%</td>
            <td>
              {e.state?.deployment ?? ''}
              {e.state?.deployment_state_message ? <span className="muted"> — {e.state.deployment_state_message}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Loads the first served version's input example (or signature) to prefill the query box. */
async function starterRequest(config: EndpointConfig | undefined): Promise<string> {
  const first = config?.served_entities?.[0];
  if (!first?.entity_version) return exampleRequest(undefined, undefined);
  const facts = await api()
    .get<{ signature: { inputs?: unknown } | null; input_example: { artifact_path?: string } | null }>(
      `/api/weir/v1/models/${encodeURIComponent(first.entity_name)}/versions/${encodeURIComponent(first.entity_version)}`,
    )
    .catch(() => undefined);
  let example: unknown;
  if (facts?.input_example?.artifact_path) {
    try {
      const blob = await fetchBlob('/ajax-api/2.0/mlflow/model-versions/get-artifact', {
        name: first.entity_name,
        version: first.entity_version,
        path: facts.input_example.artifact_path,
      });
      example = JSON.parse(await blob.text());
    } catch {
      example = undefined;
    }
  }
  return exampleRequest(example, facts?.signature?.inputs);
}

/** One endpoint: state, served entities and traffic, live request rate and latency, and a query box. */
export function EndpointDetailPage({ name }: { name: string }) {
  const id = useId();
  const query = useQuery(['endpoints', name], () => api().get<ServingEndpoint>(`/api/2.0/serving-endpoints/${encodeURIComponent(name)}`));
  const rates = useLiveRates(name);
  const [body, setBody] = useState<string | undefined>();
  const [answer, setAnswer] = useState<{ status: number; text: string; entity: string | null; ms: number } | undefined>();
  const [error, setError] = useState<unknown>();
  const [sending, setSending] = useState(false);

  useEffect(() => {
    if (query.data && body === undefined) void starterRequest(query.data.config).then((b) => setBody((cur) => cur ?? b));
  }, [query.data, body]);

  // An endpoint that is still loading a config is re-read until it settles.
  const updating = query.data?.state?.config_update === 'IN_PROGRESS';
  useEffect(() => {
    if (!updating) return;
    const t = setInterval(query.reload, 1500);
    return () => clearInterval(t);
  }, [updating, query.reload]);

  async function send() {
    setError(undefined);
    setAnswer(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body ?? '');
    } catch (err) {
      setError(new Error(`The request is not valid JSON: ${(err as Error).message}`));
      return;
    }
    setSending(true);
    const started = performance.now();
    try {
      const res = await fetch(`/serving-endpoints/${encodeURIComponent(name)}/invocations`, {
        method: 'POST',
        headers: { ...authHeaders(), 'content-type': 'application/json' },
        body: JSON.stringify(parsed),
        credentials: 'same-origin',
      });
      const text = await res.text();
      const ms = performance.now() - started;
      if (!res.ok) {
        let msg = text.slice(0, 500);
        let code = `HTTP_${res.status}`;
        try {
          const j = JSON.parse(text) as { error_code?: string; message?: string };
          msg = j.message ?? msg;
          code = j.error_code ?? code;
        } catch {
          // keep the text
        }
        throw new WeirApiError(code, msg, res.status);
      }
      let pretty = text;
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not JSON: show as is
      }
      setAnswer({ status: res.status, text: pretty, entity: res.headers.get('x-weir-served-entity'), ms });
    } catch (err) {
      setError(err);
    } finally {
      setSending(false);
    }
  }

  if (query.error) return <ErrorBox error={query.error} title={`Could not load endpoint ${name}`} />;
  if (!query.data) return <Loading what="endpoint" />;
  const e = query.data;
  return (
    <main>
      <p>
        <Link href="/endpoints">← All endpoints</Link>
      </p>
      <h1>Endpoint {e.name}</h1>
      <dl className="overview">
        <dt>State</dt>
        <dd>
          <span className={`badge ${e.state?.ready === 'READY' ? 'ok' : 'warn'}`}>{e.state?.ready}</span> · config update {e.state?.config_update}
          {e.state_message ? <span className="muted"> — {e.state_message}</span> : null}
        </dd>
        <dt>Created by</dt>
        <dd>
          {e.creator} on {formatTime(e.creation_timestamp)}
        </dd>
        <dt>Your permission</dt>
        <dd>{e.permission_level ?? '—'}</dd>
        {e.state?.payload_table ? (
          <>
            <dt>Inference table</dt>
            <dd>
              {e.state.payload_table.name} ({e.state.payload_table.status}
              {e.state.payload_table.status_message ? `: ${e.state.payload_table.status_message}` : ''})
            </dd>
          </>
        ) : null}
      </dl>
      <p>
        <LineageLink entity={`endpoint:${e.name}`} label={`Lineage of ${e.name}`} />
      </p>
      {e.config ? <ConfigTable config={e.config} caption={`Serving now (config version ${e.config.config_version ?? '?'})`} /> : null}
      {e.pending_config ? <ConfigTable config={e.pending_config} caption="Being loaded (traffic moves once it is warm)" /> : null}

      <section>
        <h2>Live traffic</h2>
        <ErrorBox error={rates.error} title="Could not read metrics" />
        <div className="sparks">
          <Sparkline points={rates.points} value={(p) => p.requestsPerSecond} label="Requests per second" unit="req/s" />
          <Sparkline points={rates.points} value={(p) => p.meanLatencyMs} label="Mean latency" unit="ms" />
          <Sparkline points={rates.points} value={(p) => p.errorsPerSecond} label="Errors per second" unit="err/s" />
        </div>
        {rates.counters ? (
          <p className="muted" data-testid="endpoint-totals">
            {rates.counters.requests} requests since the server started, {rates.counters.errors} errors, {rates.counters.inFlight} in flight.{' '}
            {Object.entries(rates.counters.byEntity)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')}
          </p>
        ) : null}
      </section>

      <section>
        <h2>Query</h2>
        <form
          onSubmit={(ev) => {
            ev.preventDefault();
            void send();
          }}
        >
          <label htmlFor={`${id}-body`}>Request body (JSON: dataframe_split, dataframe_records, instances or inputs)</label>
          <textarea id={`${id}-body`} className="code" rows={8} value={body ?? ''} onChange={(ev) => setBody(ev.target.value)} spellCheck={false} />
          <div className="toolbar">
            <button type="submit" className="primary" disabled={sending || !body}>
              {sending ? 'Sending…' : 'Send request'}
            </button>
          </div>
        </form>
        <ErrorBox error={error} title="The endpoint refused" />
        {answer ? (
          <div role="status">
            <p>
              HTTP {answer.status} in {answer.ms.toFixed(0)} ms{answer.entity ? `, answered by ${answer.entity}` : ''}:
            </p>
            <pre className="file-text" data-testid="endpoint-response">
              {answer.text}
            </pre>
          </div>
        ) : null}
      </section>
    </main>
  );
}
