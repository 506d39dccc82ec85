import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';

/** A served entity in an endpoint's config. */
export interface ServedEntity {
  name: string;
  entity_name: string;
  entity_version?: string;
  entity_alias?: string;
  workload_size?: string;
  state?: { deployment?: string; deployment_state_message?: string };
}

/** An endpoint config: what it serves and how traffic splits. */
export interface EndpointConfig {
  served_entities?: ServedEntity[];
  traffic_config?: { routes?: { served_entity_name?: string; served_model_name?: string; traffic_percentage: number }[] };
  auto_capture_config?: { enabled?: boolean; catalog_name?: string; schema_name?: string; table_name_prefix?: string };
  config_version?: number;
}

/** A serving endpoint as GET /api/2.0/serving-endpoints(/{name}) returns it. */
export interface ServingEndpoint {
  name: string;
  creator?: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  state?: { ready?: string; config_update?: string; payload_table?: { name: string; status: string; status_message?: string } };
  state_message?: string;
  config?: EndpointConfig;
  pending_config?: EndpointConfig;
  permission_level?: string;
  description?: string;
}

/** "fraud@champion (v3) 80%, fraud v2 20%" — the traffic split in one line. */
export function trafficSummary(config: EndpointConfig | undefined): string {
  if (!config) return '—';
  const entities = new Map((config.served_entities ?? []).map((e) => [e.name, e]));
  return (config.traffic_config?.routes ?? [])
    .map((r) => {
      const e = entities.get(r.served_entity_name ?? r.served_model_name ?? '');
      const what = e ? `${e.entity_name}${e.entity_alias ? `@${e.entity_alias}` : ''} v${e.entity_version ?? '?'}` : (r.served_entity_name ?? '?');
      return `${what} ${r.traffic_percentage}%`;
    })
    .join(', ');
}

/** Serving endpoints with their state and traffic split. */
export function EndpointsPage() {
  const query = useQuery(['endpoints'], () => api().get<{ endpoints?: ServingEndpoint[] }>('/api/2.0/serving-endpoints'));
  const endpoints = query.data?.endpoints ?? [];
  return (
    <main>
      <h1>Serving endpoints</h1>
      <ErrorBox error={query.error} title="Could not list endpoints" />
      {query.loading && !query.data ? <Loading what="endpoints" /> : null}
      {query.data && endpoints.length === 0 ? (
        <Empty title="No serving endpoints yet">
          Deploy a registered model version with an onnx flavor: POST /api/2.0/serving-endpoints, or the Databricks SDK’s serving_endpoints.create.
        </Empty>
      ) : null}
      {endpoints.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Serving</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <tr key={e.name}>
                <td>
                  <Link href={`/endpoints/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                </td>
                <td>
                  <span className={`badge ${e.state?.ready === 'READY' ? 'ok' : 'warn'}`}>{e.state?.ready ?? '?'}</span>
                  {e.state?.config_update && e.state.config_update !== 'NOT_UPDATING' ? ` (${e.state.config_update})` : ''}
                </td>
                <td>{trafficSummary(e.config)}</td>
                <td>{formatTime(e.last_updated_timestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}
