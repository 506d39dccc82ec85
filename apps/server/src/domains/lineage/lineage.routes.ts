import { lineage as contracts } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import type { LineageService } from './lineage.service.ts';

/** The lineage readers: Databricks' lineage-tracking API and Weir's graph API. */
export function lineageRoutes(svc: LineageService): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'auth' | 'method'>) =>
    // Parameters come in the query string (or, for the lineage-tracking routes, a JSON body, as Databricks documents
    // and its SDKs send). The starting object must be visible to the caller (the service checks it, refusing with
    // 403); the answer then holds only what the caller may see.
    defineRoute({ ...spec, method: 'GET', auth: { ucService: 'BROWSE' } }) as unknown as RouteSpec;
  return [
    r({
      paths: ['/api/2.0/lineage-tracking/table-lineage'],
      summary: 'Upstream and downstream tables and files of a table',
      tag: 'lineage-tracking',
      body: 'json',
      input: contracts.TableLineage,
      handler: (i, { principal }) => svc.tableLineage(principal, i),
    }),
    r({
      paths: ['/api/2.0/lineage-tracking/column-lineage'],
      summary: 'Upstream and downstream columns of a column',
      tag: 'lineage-tracking',
      body: 'json',
      input: contracts.ColumnLineage,
      handler: (i, { principal }) => svc.columnLineage(principal, i),
    }),
    r({
      paths: ['/api/weir/v1/lineage'],
      summary: 'The lineage graph around a table, path, run, model version or endpoint',
      tag: 'lineage',
      input: contracts.LineageGraph,
      handler: (i, { principal }) => svc.graph(principal, i),
    }),
  ];
}
